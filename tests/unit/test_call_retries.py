"""`invoke call`'s keyed retries (deploy.call.call_keyed): every try carries the same
Idempotency-Key; a 503 (an HTTP API's integration timeout), a 504, a 409 and a connection lost
after sending are tried again, within a
time limit; a refused connection and any other answer are not."""

import json
import socket
import urllib.error

import pytest

from deploy import call as client
from deploy.call import CallResult, call_keyed


def answer(status: int, retry_after: str | None = None) -> CallResult:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return CallResult(status, headers, json.dumps({"status": status}).encode())


class Tries:
    """Plays `outcomes` (an answer, or an error to raise) in order; time moves only by
    sleeping."""

    def __init__(self, outcomes: list) -> None:
        self.outcomes = list(outcomes)
        self.keys: list[str] = []
        self.now = 0.0
        self.sleeps: list[float] = []
        self.notices: list[str] = []

    def send(self, headers: dict[str, str]) -> CallResult:
        self.keys.append(headers["Idempotency-Key"])
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def run(self, retry_for_s: float = 120.0) -> CallResult:
        return call_keyed(
            self.send,
            "key-1",
            retry_for_s=retry_for_s,
            notice=self.notices.append,
            sleep=self.sleep,
            clock=lambda: self.now,
        )

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_503_a_504_then_a_409_then_the_answer_all_carry_the_same_key():
    tries = Tries([answer(503), answer(504), answer(409, retry_after="3"), answer(200)])
    assert tries.run().status == 200
    assert tries.keys == ["key-1"] * 4
    assert tries.sleeps[2] >= 3  # Retry-After is honoured
    assert "HTTP 503" in tries.notices[0] and "same Idempotency-Key" in tries.notices[0]


@pytest.mark.parametrize(
    "lost",
    [
        TimeoutError("timed out"),
        ConnectionResetError("reset by peer"),
        urllib.error.URLError(ConnectionResetError("reset by peer")),
    ],
)
def test_a_connection_lost_once_the_request_may_have_left_is_retried(lost):
    tries = Tries([lost, answer(200)])
    assert tries.run().status == 200 and len(tries.keys) == 2


@pytest.mark.parametrize(
    "never_sent",
    [
        urllib.error.URLError(ConnectionRefusedError("refused")),
        urllib.error.URLError(socket.gaierror("no such host")),
    ],
)
def test_a_request_that_never_left_is_not_retried(never_sent):
    tries = Tries([never_sent, answer(200)])
    with pytest.raises(urllib.error.URLError):
        tries.run()
    assert len(tries.keys) == 1


@pytest.mark.parametrize("status", [200, 202, 400, 422, 429, 500, 502])
def test_other_answers_are_returned_as_they_are(status):
    tries = Tries([answer(status)])
    assert tries.run().status == status and len(tries.keys) == 1


def test_retries_stop_at_the_time_limit_with_the_last_answer():
    tries = Tries([answer(504)] * 50)
    assert tries.run(retry_for_s=30).status == 504
    assert tries.now <= 30 + 10 and 2 <= len(tries.keys) < 50


def test_generate_sends_one_key_for_all_its_tries(monkeypatch):
    sent: list[dict] = []
    outcomes = [answer(504), CallResult(200, {}, b'{"code": "x"}')]

    def fake_call(url, body, *, region, credentials, headers=None, **_):
        sent.append(dict(headers or {}))
        return outcomes.pop(0)

    monkeypatch.setattr(client, "call", fake_call)
    monkeypatch.setattr(client.time, "sleep", lambda _s: None)
    endpoint = client.Endpoint(
        "https://x/code-generation", "https://x/code-generation/jobs", "r", None
    )
    payload = client.generate(endpoint, b"{}")
    assert payload == {"code": "x"}
    keys = {headers["Idempotency-Key"] for headers in sent}
    assert len(sent) == 2 and len(keys) == 1

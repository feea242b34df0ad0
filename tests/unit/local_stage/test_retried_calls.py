"""An SDK's second attempt of a call the emulator already ran gets the first answer again
(local_stage/emulator/retries.py): a create whose answer was lost is not a conflict."""

import logging
import threading

import boto3
from botocore.exceptions import ConnectionClosedError
from moto import mock_aws
from werkzeug.test import Client
from werkzeug.wrappers import Response

from local_stage.emulator.retries import RetriedCalls


class Creates:
    """A service that creates a thing per call (201), a conflict (409) when it exists."""

    def __init__(self, hold: threading.Event | None = None, status: int = 201) -> None:
        self.runs = 0
        self.hold = hold
        self.status = status
        self.running = threading.Event()

    def __call__(self, environ, start_response):
        self.runs += 1
        self.running.set()
        if self.hold is not None:
            self.hold.wait(10)
        status = self.status if self.runs == 1 else 409
        return Response(f'{{"run": {self.runs}}}', status=status)(environ, start_response)


def attempt(client: Client, call: str | None, number: int, method: str = "POST"):
    headers = {
        "amz-sdk-request": f"attempt={number}; max=3",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/20261206/us-east-1/lambda/aws4_request",
    }
    if call is not None:
        headers["amz-sdk-invocation-id"] = call
    return client.open("/2015-03-31/functions", method=method, headers=headers, data=b"{}")


def test_a_second_attempt_of_one_call_gets_the_first_answer_and_is_logged(caplog):
    service = Creates()
    client = Client(RetriedCalls(service))
    first = attempt(client, "call-1", 1)
    with caplog.at_level(logging.WARNING, "local_stage.emulator.retries"):
        second = attempt(client, "call-1", 2)
    assert service.runs == 1
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.get_data() == first.get_data() == b'{"run": 1}'
    (record,) = caplog.records
    assert "lambda POST /2015-03-31/functions" in record.getMessage()
    assert "attempt=2" in record.getMessage() and "call-1" in record.getMessage()


def test_another_call_runs_again_and_gets_its_own_answer():
    service = Creates()
    client = Client(RetriedCalls(service))
    assert attempt(client, "call-1", 1).status_code == 201
    assert attempt(client, "call-2", 1).status_code == 409  # a real second create: a conflict
    assert attempt(client, None, 1).status_code == 409  # no invocation id: runs
    assert service.runs == 3


def test_reads_and_failures_are_never_answered_again():
    service = Creates(status=500)
    client = Client(RetriedCalls(service))
    assert attempt(client, "call-1", 1).status_code == 500
    assert attempt(client, "call-1", 2).status_code == 409  # the retry of a failure runs
    reads = Creates()
    client = Client(RetriedCalls(reads))
    attempt(client, "call-1", 1, method="GET")
    attempt(client, "call-1", 2, method="GET")
    assert reads.runs == 2


def test_an_attempt_while_the_first_still_runs_waits_for_its_answer():
    hold = threading.Event()
    service = Creates(hold=hold)
    app = RetriedCalls(service)
    answers: dict[str, object] = {}

    def send(name: str, number: int) -> None:
        answers[name] = attempt(Client(app), "call-1", number)

    first = threading.Thread(target=send, args=("first", 1))
    first.start()
    assert service.running.wait(10)
    second = threading.Thread(target=send, args=("second", 2))
    second.start()
    second.join(0.3)
    assert second.is_alive()  # waiting for the first attempt, not running the call again
    hold.set()
    first.join(10)
    second.join(10)
    assert service.runs == 1
    assert [answers[name].status_code for name in ("first", "second")] == [201, 201]


@mock_aws
def test_botocore_sends_one_invocation_id_on_every_attempt_of_a_call():
    """What the middleware keys on: each attempt of one call carries the call's id (here the
    first attempt's connection closes before its answer, and botocore sends it again)."""
    seen: list[tuple[str, str]] = []
    sqs = boto3.client("sqs", region_name="us-east-1")

    def lose_the_first_answer(request, **kwargs):
        number = request.headers["amz-sdk-request"].decode()
        seen.append((request.headers["amz-sdk-invocation-id"].decode(), number))
        if number.startswith("attempt=1"):
            raise ConnectionClosedError(endpoint_url=request.url)

    sqs.meta.events.register_first("before-send.sqs.*", lose_the_first_answer)
    sqs.create_queue(QueueName="q")
    sqs.list_queues()
    calls = [call for call, _ in seen]
    numbers = [number.split(";")[0] for _, number in seen]
    assert numbers == ["attempt=1", "attempt=2", "attempt=1", "attempt=2"]
    assert calls[0] == calls[1] != calls[2] == calls[3]

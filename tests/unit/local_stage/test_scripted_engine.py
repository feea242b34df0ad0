"""The scripted engine plays its answer on the scenario's clock: the engine's own tests run it
on a clock this test advances (no time passes), the server's through its HTTP paths."""

import asyncio
import json
import threading

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from botocore.eventstream import EventStreamBuffer

from local_stage.contract import TOKEN_HEADER
from local_stage.model.app import ModelServer
from local_stage.model.chat import ChatRequest, Completion, Message
from local_stage.model.engine import Cancelled, Job
from local_stage.model.errors import BedrockError
from local_stage.model.scheduler import Scheduler
from local_stage.model.scripted import PATH, Script, ScriptedEngine, ScriptRule

# 8 tokens: each word with the whitespace before it, and the closing newline.
ANSWER = "def add(a, b):\n    return a + b\n"


class ScenarioClock:
    """A clock that moves only when the engine waits on it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Waits(threading.Event):
    """A job's cancellation event whose waits advance the scenario's clock instead of
    sleeping; `cancel_after` sets it once that much scenario time has passed."""

    def __init__(self, clock: ScenarioClock, cancel_after: float | None = None) -> None:
        super().__init__()
        self.clock, self.cancel_after, self.start = clock, cancel_after, clock.now

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None and timeout > 0
        self.clock.now += timeout
        if self.cancel_after is not None and self.clock.now - self.start >= self.cancel_after:
            self.set()
        return self.is_set()


def play(script: Script, *, deadline_s: float = float("inf"), cancel_after=None, **request):
    """(completion or error, the texts streamed with their scenario times, time taken)."""
    clock = ScenarioClock()
    started = clock.now
    streamed: list[tuple[float, str]] = []
    job = Job(
        ChatRequest((Message("user", "write add two numbers"),), system="be brief", **request),
        on_text=lambda text: streamed.append((round(clock.now - started, 6), text)),
        deadline=started + deadline_s,
        cancelled=Waits(clock, cancel_after),
    )
    try:
        result: Completion | Exception = ScriptedEngine(script, clock=clock).generate(job)
    except (BedrockError, Cancelled) as error:
        result = error
    return result, streamed, round(clock.now - started, 6)


def test_the_answer_streams_word_by_word_at_the_scripts_rate_after_its_first_token_delay():
    script = Script(ANSWER, tokens_per_s=4, first_token_delay_s=2)
    completion, streamed, took = play(script)
    assert completion == Completion(ANSWER, "end_turn", input_tokens=6, output_tokens=8)
    assert [at for at, _ in streamed] == [2.0, 2.25, 2.5, 2.75, 3.0, 3.25, 3.5, 3.75]
    assert "".join(text for _, text in streamed) == ANSWER and took == 3.75


def test_max_tokens_cuts_the_answer_as_the_model_would():
    completion, _, _ = play(Script(ANSWER), max_tokens=2)
    assert (completion.text, completion.stop_reason, completion.output_tokens) == (
        "def add(a,",
        "max_tokens",
        2,
    )


def test_a_stop_sequence_ends_the_answer_before_it():
    completion, streamed, _ = play(Script(ANSWER), stop_sequences=("return",))
    assert completion.stop_reason == "stop_sequence" and completion.stop_sequence == "return"
    assert completion.text == "def add(a, b):\n    " and "return" not in "".join(
        text for _, text in streamed
    )


def test_the_scripts_usage_and_stop_reason_are_reported():
    script = Script("x", stop_reason="max_tokens", input_tokens=1234)
    completion, _, _ = play(script)
    assert (completion.input_tokens, completion.output_tokens) == (1234, 1)
    assert completion.stop_reason == "max_tokens"


def test_past_the_servers_time_limit_the_generation_is_a_model_timeout_at_the_limit():
    error, streamed, took = play(Script(ANSWER, tokens_per_s=1), deadline_s=3.5)
    assert isinstance(error, BedrockError) and error.code == "ModelTimeoutException"
    assert took == 3.5 and len(streamed) == 4  # tokens at 0, 1, 2 and 3 s


def test_a_caller_that_goes_away_stops_the_generation():
    error, streamed, took = play(Script(ANSWER, tokens_per_s=1), cancel_after=2.5)
    assert isinstance(error, Cancelled) and len(streamed) == 3 and took == 3.0


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ({}, '"text"'),
        ({"text": "x", "tokens_per_s": 0}, "tokens_per_s"),
        ({"text": "x", "first_token_delay_s": -1}, "first_token_delay_s"),
        ({"text": "x", "stop_reason": "tired"}, "stop_reason"),
        ({"text": "x", "path": "/elsewhere"}, "path"),
        ({"text": "x", "times": -1}, "times"),
    ],
)
def test_a_bad_rule_is_refused_with_the_reason(rule, reason):
    with pytest.raises(ValueError, match=reason):
        ScriptRule.parse(rule)


class ModelEngine:
    """The server's own engine, standing in for llama.cpp: it answers at once."""

    name, kind, parallelism = "a-model", "gguf", 1

    def generate(self, job: Job) -> Completion:
        return Completion("from the model", "end_turn", 1, 3)

    def close(self) -> None:
        pass


def with_server(scenario, timeout_s: float = 120.0):
    async def run():
        server = ModelServer(
            Scheduler(ModelEngine(), timeout_s=timeout_s),
            credentials=None,
            region="us-east-1",
            token="tok",
        )
        test_server = TestServer(server.app)
        await test_server.start_server()
        try:
            async with ClientSession(headers={TOKEN_HEADER: "tok"}) as session:
                return await scenario(session, test_server.make_url)
        finally:
            await test_server.close()
            server.close()

    return asyncio.run(asyncio.wait_for(run(), timeout=20))


CONVERSE = {"messages": [{"role": "user", "content": [{"text": "add two numbers"}]}]}


async def converse(session, url, operation: str = "converse"):
    async with session.post(url(f"/model/m/{operation}"), json=CONVERSE) as answer:
        return answer.status, answer.headers.get("x-local-model"), await answer.read()


def test_a_rule_answers_the_requests_it_matches_and_then_the_model_answers_again():
    async def scenario(session, url):
        rule = {"text": ANSWER, "tokens_per_s": 1000, "times": 1, "path": "/model/*/converse"}
        async with session.post(url(PATH), json=rule) as answer:
            assert answer.status == 200
        status, model, body = await converse(session, url)
        assert (status, model) == (200, "scripted")
        assert json.loads(body)["output"]["message"]["content"] == [{"text": ANSWER}]
        assert json.loads(body)["usage"]["outputTokens"] == 8
        status, model, body = await converse(session, url)  # its one time is spent
        assert (status, model) == (200, "a-model")
        async with session.get(url(PATH)) as answer:
            (described,) = (await answer.json())["rules"]
        assert (described["hits"], described["times"], described["text"]) == (1, 1, ANSWER)
        async with session.delete(url(PATH)) as answer:
            assert (await answer.json())["rules"] == []

    with_server(scenario)


def test_a_scripted_stream_sends_the_answer_as_deltas_then_its_usage():
    async def scenario(session, url):
        await session.post(url(PATH), json={"text": ANSWER, "tokens_per_s": 1000})
        status, model, body = await converse(session, url, "converse-stream")
        assert (status, model) == (200, "scripted")
        return body

    stream = EventStreamBuffer()
    stream.add_data(with_server(scenario))
    events = [(m.headers[":event-type"], json.loads(m.payload)) for m in stream]
    deltas = [e["delta"]["text"] for name, e in events if name == "contentBlockDelta"]
    assert "".join(deltas) == ANSWER and len(deltas) == 8
    assert events[-1][1]["usage"]["outputTokens"] == 8


def test_a_script_past_the_servers_time_limit_is_a_model_timeout():
    async def scenario(session, url):
        await session.post(url(PATH), json={"text": ANSWER, "first_token_delay_s": 60})
        async with session.post(url("/model/m/converse"), json=CONVERSE) as answer:
            return answer.status, answer.headers["X-Amzn-ErrorType"]

    assert with_server(scenario, timeout_s=0.2) == (408, "ModelTimeoutException")


def test_a_bad_rule_gets_400_with_the_reason_and_a_form_415():
    async def scenario(session, url):
        async with session.post(url(PATH), json={"text": "x", "tokens_per_s": -1}) as answer:
            bad = answer.status, (await answer.json())["error"]
        async with session.post(url(PATH), data="text=x") as answer:
            form = answer.status
        return bad, form

    (status, reason), form = with_server(scenario)
    assert status == 400 and "tokens_per_s" in reason and form == 415

"""The stage's optional repair attempt (syntax_repair), with a fake model: code that does not
parse is sent back once with the parser's message; the answer says what happened, and
whatever it is, the caller gets code (never an error of the check's making)."""

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.unit.function.helpers import (
    BUCKET,
    FIXED_NOW,
    ClockedContext,
    FakeClock,
    FakeContext,
    SlowBedrock,
    StreamingClient,
    body_of,
    build_service,
    build_worker,
    converse_reply,
    http_event,
    sqs_record,
    submit_event,
)

GOOD = {"message": "add two numbers", "key": "python"}
BROKEN = "```python\ndef add(a, b)\n    return a + b\n```"  # line 1: expected ':'
FIXED = "```python\ndef add(a, b):\n    return a + b\n```"
STILL_BROKEN = "```python\ndef add(a, b:\n    return a + b\n```"
REFUSED = ClientError(
    {"Error": {"Code": "ValidationException", "Message": "no"}, "ResponseMetadata": {}},
    "Converse",
)


@pytest.fixture
def repairing(env, monkeypatch):
    monkeypatch.setenv("SYNTAX_REPAIR", "true")


def ask(s3, steps, remaining_s: float = 28.0):
    """A synchronous request on a stage with syntax_repair on, its model the fake `steps`
    ((seconds of the function's clock it takes, reply or error) per call)."""
    clock = FakeClock(remaining_s)
    model = SlowBedrock(clock, steps)
    service = build_service(lambda _seconds: model, s3, clock=lambda: FIXED_NOW)
    result = service.handle(http_event(GOOD), ClockedContext(clock))
    assert result["statusCode"] == 200, result["body"]
    return body_of(result), model


def test_code_that_does_not_parse_is_sent_back_once_with_the_parsers_message(repairing, s3):
    answer, model = ask(s3, [(1.0, converse_reply(BROKEN)), (1.0, converse_reply(FIXED))])
    assert answer["code"] == "def add(a, b):\n    return a + b\n"
    assert answer["syntax"] == {"status": "ok", "repair": "repaired"}
    first, second = model.asked
    assert second["system"] == first["system"]
    assert second["inferenceConfig"] == first["inferenceConfig"]
    roles = [message["role"] for message in second["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert second["messages"][1]["content"][0]["text"] == BROKEN  # its own answer, shown
    told = second["messages"][2]["content"][0]["text"]
    assert "line 1" in told and "expected ':'" in told and "```python" in told
    # Both calls are paid for, so both are counted.
    assert answer["usage"] == {"input_tokens": 24, "output_tokens": 68, "total_tokens": 92}
    metadata = s3.head_object(Bucket=BUCKET, Key=answer["key"])["Metadata"]
    assert metadata["syntax"] == "ok" and metadata["syntax-repair"] == "repaired"
    stored = s3.get_object(Bucket=BUCKET, Key=answer["key"])["Body"].read().decode()
    assert stored == answer["code"]


def test_a_repair_that_does_not_parse_either_keeps_the_first_answer(repairing, s3):
    answer, model = ask(s3, [(1.0, converse_reply(BROKEN)), (1.0, converse_reply(STILL_BROKEN))])
    assert answer["code"] == "def add(a, b)\n    return a + b\n" and model.calls == 2
    assert answer["syntax"]["status"] == "error" and answer["syntax"]["line"] == 1
    assert answer["syntax"]["repair"] == "failed"
    assert answer["usage"]["output_tokens"] == 68


def test_a_model_error_on_the_repair_keeps_the_first_answer_and_is_no_error(repairing, s3):
    answer, model = ask(s3, [(1.0, converse_reply(BROKEN)), (1.0, REFUSED)])
    assert answer["code"] == "def add(a, b)\n    return a + b\n" and model.calls == 2
    assert answer["syntax"]["status"] == "error" and answer["syntax"]["repair"] == "failed"


def test_an_answer_cut_off_by_max_tokens_is_not_repaired(repairing, s3):
    answer, model = ask(s3, [(1.0, converse_reply(BROKEN, "max_tokens"))])
    assert model.calls == 1 and answer["syntax"]["repair"] == "truncated"


def test_a_repair_is_tried_only_while_a_second_answer_as_long_still_fits(repairing, s3):
    # 28 s: the first answer takes 10 s, leaving 18 - 7 (store, connection, answer) = 11 s.
    fits, model = ask(s3, [(10.0, converse_reply(BROKEN)), (1.0, converse_reply(FIXED))])
    assert model.calls == 2 and fits["syntax"]["repair"] == "repaired"
    # It takes 12 s: 9 s are left, less than the first took.
    late, model = ask(s3, [(12.0, converse_reply(BROKEN))])
    assert model.calls == 1 and late["syntax"] == {**late["syntax"], "repair": "no_time"}
    assert late["stored"] is True  # the store keeps its share whatever the repair does


def test_off_by_default_one_call_and_no_repair_said(env, s3):
    clock = FakeClock(28.0)
    model = SlowBedrock(clock, [(1.0, converse_reply(BROKEN))])
    service = build_service(lambda _seconds: model, s3, clock=lambda: FIXED_NOW)
    answer = body_of(service.handle(http_event(GOOD), ClockedContext(clock)))
    assert model.calls == 1 and answer["syntax"]["status"] == "error"
    assert "repair" not in answer["syntax"]


def test_code_that_parses_is_never_sent_back(repairing, s3):
    answer, model = ask(s3, [(1.0, converse_reply(FIXED))])
    assert model.calls == 1 and answer["syntax"] == {"status": "ok"}


def test_a_jobs_streamed_answer_is_repaired_and_its_progress_keeps_counting(repairing, s3, bedrock):
    client, stubber = bedrock
    model = StreamingClient(client)
    api = build_service(lambda _seconds: model, s3)
    submitted = api.handle(submit_event(GOOD), FakeContext("submit-1"))
    job_id = body_of(submitted)["job_id"]
    stubber.add_response("converse", converse_reply(BROKEN))
    stubber.add_response("converse", converse_reply(FIXED))
    heard: list[int] = []
    worker = build_worker(lambda _seconds: model, s3)
    original = worker.producer.produce

    def produce(*args, progress=None, **kwargs):
        def listen(tokens: int) -> None:
            heard.append(tokens)
            progress(tokens)

        return original(*args, progress=listen, **kwargs)

    worker.producer.produce = produce
    assert worker.handle({"Records": [sqs_record(job_id)]}, FakeContext("w-1", 120_000)) == {
        "batchItemFailures": []
    }
    assert model.calls == ["converse_stream", "converse_stream"]
    assert heard == sorted(heard) and heard[-1] > 34  # the repair's tokens add to the first's
    key = f"code-output/jobs/{job_id}.py"
    metadata = boto3.client("s3", region_name="us-east-1").head_object(Bucket=BUCKET, Key=key)
    assert metadata["Metadata"]["syntax-repair"] == "repaired"

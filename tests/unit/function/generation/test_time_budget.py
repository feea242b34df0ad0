"""Every network call the function makes is bounded by the time it has left, and the store
always keeps its share: a slow model or a slow S3 never gets the function cut off (which
would lose the code the caller paid for and answer with the gateway's bare 500)."""

import pytest
from botocore.exceptions import ClientError

from codegen.http.service import CodeGenerationService
from tests.unit.function.helpers import (
    BUCKET,
    FIXED_NOW,
    ClockedContext,
    FakeClock,
    SlowBedrock,
    SlowS3,
    body_of,
    build_service,
    converse_reply,
    http_event,
    stored_keys,
)

GOOD = {"message": "add two numbers", "key": "python"}
REPLY = converse_reply("```python\nx = 1\n```")
THROTTLED = ClientError(
    {
        "Error": {"Code": "ThrottlingException", "Message": "busy"},
        "ResponseMetadata": {"HTTPStatusCode": 429},
    },
    "Converse",
)


def service_with(bedrock, s3, asked: list[float] | None = None) -> CodeGenerationService:
    def client_for(seconds: float):
        if asked is not None:
            asked.append(seconds)
        return bedrock

    return build_service(client_for, s3, clock=lambda: FIXED_NOW)


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr("codegen.generation.bedrock.time.sleep", lambda seconds: None)


@pytest.mark.parametrize(("remaining_s", "expected_wait_s"), [(28, 21.0), (15, 8.0), (40, 25.0)])
def test_the_model_waits_only_for_what_is_left_after_the_stores_share(
    env, s3, remaining_s, expected_wait_s
):
    # remaining - storage budget (3.5 s) - connect (3 s) - answer margin (0.5 s), at most the
    # configured read timeout (25 s).
    clock = FakeClock(remaining_s)
    asked: list[float] = []
    result = service_with(SlowBedrock(clock, [(1.0, REPLY)]), s3, asked).handle(
        http_event(GOOD), ClockedContext(clock)
    )
    assert result["statusCode"] == 200 and asked == [pytest.approx(expected_wait_s)]


def test_too_little_time_for_a_useful_model_call_answers_503_and_calls_nothing(env, s3):
    clock = FakeClock(8.5)  # 8.5 - 7 leaves 1.5 s for the model: not worth starting
    bedrock = SlowBedrock(clock, [])
    result = service_with(bedrock, s3).handle(http_event(GOOD), ClockedContext(clock))
    assert result["statusCode"] == 503 and bedrock.calls == 0 and stored_keys(s3) == []


def test_a_model_that_used_up_its_wait_still_leaves_the_store_its_share(env, s3):
    clock = FakeClock(28)
    # The model answers at the very end of its 21 s wait: 7 s remain, one S3 attempt fits.
    result = service_with(SlowBedrock(clock, [(21.0, REPLY)]), s3).handle(
        http_event(GOOD), ClockedContext(clock)
    )
    assert result["statusCode"] == 200 and body_of(result)["stored"] is True
    assert stored_keys(s3) and clock.remaining_s > 0


def test_a_retry_that_would_eat_the_stores_share_is_not_made(env, s3, no_sleep):
    clock = FakeClock(28)
    # Throttled after 15 s: another 21 s wait plus the store's 3.5 s does not fit in 13 s.
    bedrock = SlowBedrock(clock, [(15.0, THROTTLED), (1.0, REPLY)])
    result = service_with(bedrock, s3).handle(http_event(GOOD), ClockedContext(clock))
    assert result["statusCode"] == 429 and bedrock.calls == 1
    assert result["headers"]["Retry-After"]


def test_a_quick_throttle_is_retried_when_the_whole_wait_still_fits(env, s3, no_sleep):
    clock = FakeClock(28)
    bedrock = SlowBedrock(clock, [(0.1, THROTTLED), (1.0, REPLY)])
    result = service_with(bedrock, s3).handle(http_event(GOOD), ClockedContext(clock))
    assert result["statusCode"] == 200 and bedrock.calls == 2


def test_a_slow_s3_after_generation_gives_the_code_unstored_instead_of_a_timeout(env, s3):
    clock = FakeClock(28)
    slow = SlowS3(clock, s3, seconds=3.0, failures=5)  # every put times out after 3 s
    # The model takes its whole 21 s wait and the 3 s connect: 4 s remain, one attempt fits.
    result = service_with(SlowBedrock(clock, [(24.0, REPLY)]), slow).handle(
        http_event(GOOD), ClockedContext(clock)
    )
    body = body_of(result)
    assert result["statusCode"] == 200 and body["code"] == "x = 1\n"
    assert body["stored"] is False and "could not be stored" in body["storage_error"]
    assert slow.calls == 1  # a second 3 s attempt would have outlived the function
    assert clock.remaining_s > 0  # it answered before the function's end
    assert stored_keys(s3) == []


def test_a_passing_s3_failure_is_tried_again_while_time_allows(env, s3):
    clock = FakeClock(28)
    slow = SlowS3(clock, s3, seconds=0.5, failures=1)
    result = service_with(SlowBedrock(clock, [(2.0, REPLY)]), slow).handle(
        http_event(GOOD), ClockedContext(clock)
    )
    body = body_of(result)
    assert result["statusCode"] == 200 and body["stored"] is True and slow.calls == 2
    assert stored_keys(s3) == [body["key"]]
    assert s3.get_object(Bucket=BUCKET, Key=body["key"])["Body"].read() == b"x = 1\n"

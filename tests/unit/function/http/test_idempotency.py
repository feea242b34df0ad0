"""Idempotency-Key on PUT /code-generation (codegen.http.idempotency), on moto's DynamoDB with a
model that counts its calls: a retry of the same keyed request gets the first answer and the
model is called once; what may not be replayed is refused with the draft's statuses."""

import json
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError

from codegen.http.errors import HttpError
from codegen.http.idempotency import MAX_KEY_CHARS, idempotency_key
from tests.unit.function.helpers import (
    IDEMPOTENCY_TABLE,
    JOBS_QUEUE_URL,
    JOBS_TABLE,
    OWNER,
    FakeContext,
    body_of,
    build_service,
    converse_reply,
    http_event,
    iam_user,
    role_session,
    stored_keys,
    submit_event,
)

GOOD = {"message": "a function that adds two numbers", "key": "python"}
CODE = "```python\ndef add(a, b):\n    return a + b\n```"


class CountingModel:
    """A model that answers every call with the same code, counts them, and can run
    something while it "generates" (a retry arriving meanwhile)."""

    def __init__(self, outcomes: list[Any] | None = None) -> None:
        self.calls = 0
        self.outcomes = list(outcomes or [])
        self.during: Any = None

    def converse(self, **_arguments: Any) -> Any:
        self.calls += 1
        if self.during is not None:
            during, self.during = self.during, None
            during()
        outcome = self.outcomes.pop(0) if self.outcomes else converse_reply(CODE)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


@pytest.fixture
def model():
    return CountingModel()


@pytest.fixture
def api(s3, model):
    return build_service(lambda _seconds: model, s3)


def keyed(key: str = "key-1", body: Any = GOOD, caller=OWNER, **headers: str) -> dict:
    event = http_event(body, headers={"idempotency-key": key, **headers})
    event["requestContext"]["authorizer"] = {"iam": caller}
    return event


def test_the_same_keyed_request_twice_calls_the_model_once_and_answers_the_same(api, model, s3):
    first = api.handle(keyed(), FakeContext("req-1"))
    again = api.handle(keyed(), FakeContext("req-2"))
    assert first["statusCode"] == again["statusCode"] == 200
    assert model.calls == 1 and len(stored_keys(s3)) == 1
    assert again["body"] == first["body"]  # same code, same location, same request id
    assert body_of(again)["request_id"] == "req-1"
    assert again["headers"]["X-Request-Id"] == "req-1"
    assert again["headers"]["X-Code-Location"] == first["headers"]["X-Code-Location"]
    assert again["headers"]["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first["headers"]


def test_without_a_key_nothing_changes(api, model, s3):
    for request_id in ("req-1", "req-2"):
        event = keyed()
        del event["headers"]["idempotency-key"]
        result = api.handle(event, FakeContext(request_id))
        assert result["statusCode"] == 200 and "Idempotent-Replayed" not in result["headers"]
    assert model.calls == 2 and len(stored_keys(s3)) == 2
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    assert dynamodb.scan(TableName=IDEMPOTENCY_TABLE)["Items"] == []


def test_the_same_key_with_another_request_is_a_422_and_calls_nothing(api, model):
    assert api.handle(keyed(), FakeContext("req-1"))["statusCode"] == 200
    others = [
        keyed(body={**GOOD, "message": "another function"}),
        keyed(body={**GOOD, "key": "go"}),
        keyed(body={**GOOD, "max_tokens": 100}),
        keyed(prefer="respond-async"),  # a job is another request
        keyed(accept="text/plain"),  # the code alone is another answer
    ]
    for event in others:
        result = api.handle(event, FakeContext("req-x"))
        assert result["statusCode"] == 422, result["body"]
        assert body_of(result)["error"] == "IdempotencyKeyReused"
    assert model.calls == 1


def test_a_retry_while_the_first_is_still_answered_is_a_409_with_retry_after(api, model):
    seen: list[dict] = []
    model.during = lambda: seen.append(api.handle(keyed(), FakeContext("req-2")))
    first = api.handle(keyed(), FakeContext("req-1"))
    assert first["statusCode"] == 200
    (during,) = seen
    assert during["statusCode"] == 409 and body_of(during)["error"] == "RequestInProgress"
    assert int(during["headers"]["Retry-After"]) >= 1
    assert model.calls == 1
    # Once the first is answered, the retry gets its answer.
    assert api.handle(keyed(), FakeContext("req-3"))["body"] == first["body"]


@pytest.mark.parametrize(
    "other",
    [
        iam_user("bob", "AIDABOB0000000000001"),
        iam_user("alice", "AIDAALICE00000000002"),  # alice deleted and recreated
        role_session("builder", "AROABUILDER000000001", "alice"),
    ],
)
def test_keys_are_the_callers_own(api, model, other):
    mine = api.handle(keyed(), FakeContext("req-1"))
    theirs = api.handle(keyed(caller=other), FakeContext("req-2"))
    assert mine["statusCode"] == theirs["statusCode"] == 200
    assert "Idempotent-Replayed" not in theirs["headers"]
    assert body_of(theirs)["request_id"] == "req-2" and model.calls == 2


def test_sessions_of_one_role_share_their_keys(api, model):
    role = "AROABUILDER000000001"
    api.handle(keyed(caller=role_session("builder", role, "ci-1")), FakeContext("req-1"))
    again = api.handle(keyed(caller=role_session("builder", role, "ci-2")), FakeContext("req-2"))
    assert again["headers"]["Idempotent-Replayed"] == "true" and model.calls == 1


def test_an_answer_a_retry_may_change_is_not_kept(api, model):
    model.outcomes = [ReadTimeoutError(endpoint_url="https://bedrock.example")]
    timed_out = api.handle(keyed(), FakeContext("req-1"))
    assert timed_out["statusCode"] == 504
    retried = api.handle(keyed(), FakeContext("req-2"))
    assert retried["statusCode"] == 200 and "Idempotent-Replayed" not in retried["headers"]
    assert model.calls == 2


def test_a_caller_error_found_after_generation_started_is_kept(api, model):
    rejected = {"Error": {"Code": "ValidationException", "Message": "temperature too high"}}
    from botocore.exceptions import ClientError

    model.outcomes = [ClientError(rejected, "Converse")]
    body = {**GOOD, "temperature": 0.9}
    first = api.handle(keyed(body=body), FakeContext("req-1"))
    again = api.handle(keyed(body=body), FakeContext("req-2"))
    assert first["statusCode"] == again["statusCode"] == 400
    assert again["headers"]["Idempotent-Replayed"] == "true" and model.calls == 1


class Died(BaseException):
    """The function is cut off mid-request (its timeout, a crash): nothing cleans up."""


def test_a_request_cut_off_mid_way_does_not_block_its_retry_beyond_its_own_end(api):
    answers = api.idempotent

    def cut_off() -> dict:
        raise Died

    def answered() -> dict:
        return {"statusCode": 200, "headers": {}, "body": "{}"}

    request = {"request": GOOD}
    with pytest.raises(Died):
        answers.answer("k", "caller", request, FakeContext("req-1", remaining_ms=1500), cut_off)
    with pytest.raises(HttpError) as busy:  # still within the cut-off invocation's time
        answers.answer("k", "caller", request, FakeContext("req-2"), answered)
    assert busy.value.status == 409
    time.sleep(1.6)  # the cut-off invocation's own end has passed
    retried = answers.answer("k", "caller", request, FakeContext("req-3"), answered)
    assert retried["statusCode"] == 200 and "Idempotent-Replayed" not in retried["headers"]


def test_the_same_keyed_job_submission_gives_the_same_job(api, model):
    first = api.handle(submit_event(GOOD, headers={"idempotency-key": "job-1"}), FakeContext("r1"))
    again = api.handle(submit_event(GOOD, headers={"idempotency-key": "job-1"}), FakeContext("r2"))
    assert first["statusCode"] == again["statusCode"] == 202
    assert again["headers"]["Location"] == first["headers"]["Location"]
    assert body_of(again)["job_id"] == body_of(first)["job_id"]
    assert again["headers"]["Idempotent-Replayed"] == "true"
    jobs = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=JOBS_TABLE)["Items"]
    sqs = boto3.client("sqs", region_name="us-east-1")
    queued = sqs.receive_message(QueueUrl=JOBS_QUEUE_URL, MaxNumberOfMessages=10)["Messages"]
    assert len(jobs) == 1 and len(queued) == 1
    assert json.loads(queued[0]["Body"])["job_id"] == body_of(first)["job_id"]


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('"with space and \\"quote\\""', 'with space and "quote"'),
        ("k" * MAX_KEY_CHARS, "k" * MAX_KEY_CHARS),
    ],
)
def test_a_key_is_taken_bare_or_as_a_structured_field_string(header, key):
    assert idempotency_key({"idempotency-key": header}) == key


@pytest.mark.parametrize(
    "header",
    ["", '""', "k" * (MAX_KEY_CHARS + 1), "with space", "ключ", '"bad \\n escape"', '"a"b"'],
)
def test_a_malformed_or_over_long_key_is_a_400(api, model, header):
    with pytest.raises(HttpError) as raised:
        idempotency_key({"idempotency-key": header})
    assert raised.value.status == 400
    result = api.handle(keyed(key=header), FakeContext())
    assert result["statusCode"] == 400 and body_of(result)["error"] == "InvalidIdempotencyKey"
    assert model.calls == 0

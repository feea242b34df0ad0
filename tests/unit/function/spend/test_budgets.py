"""Budgets through the API's service and the job worker (moto, a stubbed model): a caller
with nothing left gets 429 before any model call while another is served, a capped request
says so, a replayed answer costs nothing, and a job reserves at submission and settles (or
releases) when it ends."""

import json

import boto3
import pytest

from tests.unit.function.helpers import (
    ACCOUNT,
    OWNER,
    SPEND_TABLE,
    FakeContext,
    StreamingClient,
    body_of,
    build_service,
    build_worker,
    converse_reply,
    http_event,
    iam_user,
    job_event,
    post_job_event,
    sqs_record,
)

GOOD = {"message": "a function that adds two numbers", "key": "python", "max_tokens": 100}
CODE = "```python\ndef add(a, b):\n    return a + b\n```"
BOB = iam_user("bob", "AIDABOB000000000001")


def put(service, caller=OWNER, body=GOOD, headers=None):
    event = http_event(body, headers=headers)
    event["requestContext"]["authorizer"] = {"iam": caller}
    return service.handle(event, FakeContext())


def day_item(caller: dict) -> dict:
    from datetime import UTC, datetime

    table = boto3.client("dynamodb", region_name="us-east-1")
    owner = f"{ACCOUNT}:{caller['userId']}"
    key = {"caller": {"S": owner}, "period": {"S": f"day#{datetime.now(UTC):%Y-%m-%d}"}}
    found = table.get_item(TableName=SPEND_TABLE, Key=key).get("Item", {})
    return {k: int(v["N"]) for k, v in found.items() if "N" in v}


@pytest.fixture
def budgeted(monkeypatch, s3, bedrock):
    """The API with a budget of 2,000 tokens a day per caller."""
    monkeypatch.setenv("SPEND_DEFAULT_BUDGET", json.dumps({"tokens_per_day": 2000}))
    return build_service(lambda _seconds: bedrock[0], s3)


def test_a_caller_over_its_budget_gets_429_before_the_model_while_another_is_served(
    budgeted, stubber
):
    stubber.add_response("converse", converse_reply(CODE, tokens=(1900, 90)))
    assert put(budgeted)["statusCode"] == 200
    alice = day_item(OWNER)
    assert alice["input_tokens"] == 1900 and alice["output_tokens"] == 90
    # 10 tokens left cannot hold a request's input (bounded by its prompt's bytes): refused,
    # and the stubbed model (no answer queued) is not called.
    refused = put(budgeted)
    assert refused["statusCode"] == 429
    answer = body_of(refused)
    assert answer["error"] == "BudgetExceeded" and answer["left"] == {"tokens_this_day": 10}
    assert int(refused["headers"]["Retry-After"]) > 0
    # Another caller has its own budget.
    stubber.add_response("converse", converse_reply(CODE, tokens=(900, 100)))
    assert put(budgeted, caller=BOB)["statusCode"] == 200


def test_a_request_that_would_cross_the_budget_is_capped_and_the_answer_says_so(
    monkeypatch, s3, bedrock, stubber
):
    from codegen.generation.request import parse_body
    from codegen.settings import load_settings
    from codegen.spend.request import spend_bound

    body = {**GOOD, "max_tokens": 512}
    bound = spend_bound(parse_body(json.dumps(body).encode(), load_settings()), load_settings())
    limit = bound + 200  # room for the input and 200 of the 512 output tokens asked for
    monkeypatch.setenv("SPEND_DEFAULT_BUDGET", json.dumps({"tokens_per_day": limit}))
    service = build_service(lambda _seconds: bedrock[0], s3)
    stubber.add_response("converse", converse_reply(CODE, tokens=(300, 40)), expected_params=None)
    result = put(service, body=body)
    assert body_of(result)["budget"] == {
        "limits": {"tokens_per_day": limit},
        "max_tokens": 200,
        "capped": True,
    }
    assert day_item(OWNER)["committed_tokens"] == 340  # settled to what it used


def test_a_replayed_answer_costs_nothing(budgeted, stubber):
    stubber.add_response("converse", converse_reply(CODE, tokens=(500, 50)))
    key = {"idempotency-key": "k-1"}
    first = put(budgeted, headers=key)
    again = put(budgeted, headers=key)
    assert again["headers"]["Idempotent-Replayed"] == "true"
    assert body_of(again)["usage"] == body_of(first)["usage"]
    used = day_item(OWNER)
    assert used["requests"] == 1 and used["input_tokens"] == 500 and used["committed_tokens"] == 550


def test_a_job_reserves_at_submission_and_settles_to_what_it_used(budgeted, s3, bedrock):
    submitted = budgeted.handle(post_job_event(GOOD), FakeContext())
    assert submitted["statusCode"] == 202
    reserved = day_item(OWNER)["committed_tokens"]
    assert reserved > 100 and day_item(OWNER)["reserved_tokens"] == reserved
    job_id = body_of(submitted)["job_id"]
    stubbed = StreamingClient(bedrock[0])
    worker = build_worker(lambda _seconds: stubbed, s3)
    bedrock[1].add_response("converse", converse_reply(CODE, tokens=(70, 30)))
    worker.handle({"Records": [sqs_record(job_id)]}, FakeContext())
    assert body_of(budgeted.handle(job_event(job_id), FakeContext()))["status"] == "succeeded"
    settled = day_item(OWNER)
    assert settled["committed_tokens"] == 100 and settled["reserved_tokens"] == 0
    assert settled["requests"] == 1


def test_a_failed_job_gives_its_reservation_back(budgeted, s3, bedrock):
    job_id = body_of(budgeted.handle(post_job_event(GOOD), FakeContext()))["job_id"]
    stubbed = StreamingClient(bedrock[0])
    worker = build_worker(lambda _seconds: stubbed, s3)
    bedrock[1].add_client_error("converse", "AccessDeniedException", http_status_code=403)
    worker.handle({"Records": [sqs_record(job_id)]}, FakeContext())
    assert body_of(budgeted.handle(job_event(job_id), FakeContext()))["status"] == "failed"
    released = day_item(OWNER)
    assert released["committed_tokens"] == 0 and released["reserved_tokens"] == 0

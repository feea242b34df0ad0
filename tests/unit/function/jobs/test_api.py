"""Submitting and reading jobs: the owner check, the contract of the jobs route, and each
caller's limit of unfinished jobs."""

import boto3
import pytest
from botocore.exceptions import ClientError

from codegen.jobs.state import JobStatus
from tests.unit.function.conftest import stage_environment
from tests.unit.function.helpers import (
    JOBS_TABLE,
    OWNER,
    OWNER_ID,
    FakeContext,
    body_of,
    build_service,
    federated_user,
    iam_user,
    job_event,
    post_job_event,
    role_session,
    root,
    stored_keys,
    submit_event,
)
from tests.unit.function.http.test_openapi import SPEC, schema_validator
from tests.unit.function.jobs.support import GOOD, queued_messages, submit


# -- submitting -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "prefer"), [(GOOD, True), ({**GOOD, "async": True}, False)], ids=["header", "body"]
)
def test_a_job_is_accepted_with_its_location_and_queued(api, store, body, prefer):
    result = submit(api, body, prefer=prefer)
    payload = body_of(result)
    job_id = payload["job_id"]
    assert result["headers"]["Location"] == f"/dev/code-generation/jobs/{job_id}"
    assert result["headers"]["Preference-Applied"] == "respond-async"
    assert payload["status"] == "queued" and payload["url"] == result["headers"]["Location"]
    assert queued_messages() == [{"job_id": job_id}]
    job = store.get(job_id)
    assert job.owner == OWNER_ID and job.status == JobStatus.QUEUED and job.request_id == "submit-1"
    assert job.request["message"] == GOOD["message"] and job.request["language"] == "python"
    schema_validator(SPEC["components"]["schemas"]["Job"]).validate(payload)


@pytest.mark.parametrize(
    "body",
    [
        {"key": "python"},
        {**GOOD, "async": "yes"},
        {**GOOD, "max_tokens": 8193},
        {**GOOD, "key": "klingon"},
    ],
)
def test_a_refused_request_creates_no_job(api, s3, body):
    result = api.handle(submit_event(body), FakeContext())
    assert result["statusCode"] == 400
    assert queued_messages() == []
    table = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=JOBS_TABLE)
    assert table["Items"] == [] and stored_keys(s3) == []


def test_a_job_may_ask_for_more_tokens_than_a_synchronous_request(api):
    assert body_of(submit(api, {**GOOD, "max_tokens": 8192}))["status"] == "queued"
    result = api.handle(submit_event({**GOOD, "max_tokens": 8192}, prefer=False), FakeContext())
    assert result["statusCode"] == 400
    assert "Prefer: respond-async" in body_of(result)["message"]


def test_a_job_that_cannot_be_queued_is_not_kept(api, monkeypatch):
    def refuse(**_arguments):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "SendMessage")

    monkeypatch.setattr(api.jobs.sqs, "send_message", refuse)
    result = api.handle(submit_event(GOOD), FakeContext())
    assert result["statusCode"] == 503 and body_of(result)["error"] == "JobsUnavailable"
    table = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=JOBS_TABLE)
    assert table["Items"] == []


# -- reading --------------------------------------------------------------------------------
def test_only_the_owner_reads_a_job_and_others_get_what_an_unknown_id_gets(api):
    job_id = body_of(submit(api))["job_id"]
    mine = api.handle(job_event(job_id), FakeContext())
    assert mine["statusCode"] == 200 and body_of(mine)["status"] == "queued"
    assert mine["headers"]["Retry-After"] == "2"
    someone = api.handle(
        job_event(job_id, caller=iam_user("mallory", "AIDAMALLORY000000001")), FakeContext()
    )
    anonymous = api.handle(job_event(job_id, caller=None), FakeContext())
    unknown_id = "0" * 8 + "-0000-4000-8000-" + "0" * 12
    unknown = api.handle(job_event(unknown_id), FakeContext())
    for other in (someone, anonymous, unknown):
        assert other["statusCode"] == 404 and body_of(other)["error"] == "JobNotFound"
    # Nothing tells someone else's job from no job at all.
    assert body_of(someone)["message"].replace(job_id, "<id>") == body_of(unknown)[
        "message"
    ].replace(unknown_id, "<id>")
    assert set(body_of(someone)) == set(body_of(unknown))


BUILDER = "AROABUILDER000000001"


@pytest.mark.parametrize(
    ("submitter", "reader", "same_caller"),
    [
        # Every session of one role is one caller: the session name is the assumer's choice.
        (role_session("builder", BUILDER, "ci-1"), role_session("builder", BUILDER, "ci-2"), True),
        (
            role_session("builder", BUILDER, "botocore-session-1"),
            role_session("builder", BUILDER, "botocore-session-2"),
            True,
        ),
        # Another role, even one whose session has the same name, is another caller.
        (
            role_session("builder", BUILDER, "ci-1"),
            role_session("auditor", "AROAAUDITOR000000001", "ci-1"),
            False,
        ),
        # A role recreated under the same name gets a new id: it inherits nothing.
        (
            role_session("builder", BUILDER, "ci-1"),
            role_session("builder", "AROABUILDER000000002", "ci-1"),
            False,
        ),
        # A user deleted and recreated with the same name is a new principal.
        (OWNER, iam_user("alice", "AIDAALICE00000000002"), False),
        (OWNER, iam_user("bob", "AIDABOB0000000000001"), False),
        (OWNER, role_session("alice", "AROAALICE00000000001", "alice"), False),
        # Federated users share IAM's ACCOUNT:... id with each other and with root: each is
        # told apart by its name, and none is root.
        (federated_user("alice"), federated_user("alice"), True),
        (federated_user("alice"), federated_user("bob"), False),
        (federated_user("alice"), root(), False),
        (root(), federated_user("alice"), False),
    ],
)
def test_a_job_belongs_to_the_principals_unique_id_not_its_arn(api, submitter, reader, same_caller):
    job_id = body_of(api.handle(submit_event(GOOD, caller=submitter), FakeContext()))["job_id"]
    result = api.handle(job_event(job_id, caller=reader), FakeContext())
    assert result["statusCode"] == (200 if same_caller else 404)


def test_an_iam_caller_without_an_id_is_refused_rather_than_guessed(api):
    half = {"userArn": "arn:aws:iam::123456789012:user/alice", "accountId": "123456789012"}
    result = api.handle(submit_event(GOOD, caller=half), FakeContext())
    assert result["statusCode"] == 403 and body_of(result)["error"] == "UnknownCaller"


@pytest.mark.parametrize("bad", ["x", "../../etc", "%00", "1" * 200, "A" * 36])
def test_a_bad_job_id_is_a_400(api, bad):
    result = api.handle(job_event(bad), FakeContext())
    assert result["statusCode"] == 400 and body_of(result)["error"] == "InvalidJobId"


def test_answers_of_the_jobs_route_fit_the_contract(api):
    operation = SPEC["paths"]["/code-generation/jobs/{id}"]["get"]
    job_id = body_of(submit(api))["job_id"]
    stranger = iam_user("x", "AIDAX")
    for event in (job_event(job_id), job_event("bad"), job_event(job_id, caller=stranger)):
        result = api.handle(event, FakeContext())
        response = operation["responses"][str(result["statusCode"])]
        schema = response["content"]["application/json"]["schema"]
        schema_validator(schema).validate(body_of(result))


# -- the job route and each caller's limit --------------------------------------------------
def test_the_job_route_always_makes_a_job(api, store):
    result = api.handle(post_job_event(GOOD), FakeContext("submit-1"))
    assert result["statusCode"] == 202
    job_id = body_of(result)["job_id"]
    assert result["headers"]["Location"] == f"/dev/code-generation/jobs/{job_id}"
    assert queued_messages() == [{"job_id": job_id}] and store.get(job_id).owner == OWNER_ID
    # A job's larger token limit holds there without any Prefer header.
    bigger = api.handle(post_job_event({**GOOD, "max_tokens": 8192}), FakeContext())
    assert bigger["statusCode"] == 202


@pytest.fixture
def limited(monkeypatch, s3, bedrock, clock):
    """The API with a limit of 2 unfinished jobs per caller."""
    monkeypatch.setenv("MAX_UNFINISHED_JOBS_PER_CALLER", "2")
    return build_service(lambda _seconds: bedrock[0], s3, job_clock=clock)


def test_a_caller_over_its_unfinished_jobs_limit_gets_429_saying_how_many_wait(limited, store):
    first = body_of(limited.handle(post_job_event(GOOD), FakeContext()))["job_id"]
    limited.handle(submit_event(GOOD), FakeContext())  # a PUT job counts the same
    refused = limited.handle(post_job_event(GOOD), FakeContext())
    assert refused["statusCode"] == 429 and refused["headers"]["Retry-After"] == "2"
    error = body_of(refused)
    assert error["error"] == "TooManyJobs" and (error["unfinished"], error["limit"]) == (2, 2)
    assert "you have 2 unfinished jobs" in error["message"]
    assert len(queued_messages()) == 2  # the refused one was never recorded or queued
    schema_validator(
        SPEC["paths"]["/code-generation/jobs"]["post"]["responses"]["429"]["content"][
            "application/json"
        ]["schema"]
    ).validate(error)
    # Another caller has a limit of its own.
    other = iam_user("bob", "AIDABOB0000000000001")
    assert limited.handle(post_job_event(GOOD, caller=other), FakeContext())["statusCode"] == 202
    # A finished job no longer counts.
    store.take(first, attempt="a1", lease_s=60, receive_count=1)
    assert store.succeed(first, "a1", {"code": "x"})
    assert limited.handle(post_job_event(GOOD), FakeContext())["statusCode"] == 202


def test_jobs_past_their_deadline_count_no_more(limited, clock):
    for _ in range(2):
        assert limited.handle(post_job_event(GOOD), FakeContext())["statusCode"] == 202
    assert limited.handle(post_job_event(GOOD), FakeContext())["statusCode"] == 429
    clock.now += int(stage_environment()["JOB_DEADLINE_SECONDS"]) + 1  # nothing can run them
    assert limited.handle(post_job_event(GOOD), FakeContext())["statusCode"] == 202

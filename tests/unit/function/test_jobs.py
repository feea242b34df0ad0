"""Asynchronous jobs: the state machine's every transition (on moto's DynamoDB, whose
conditional writes are what keep it honest), submitting, reading with the owner check, and
the worker's handling of each kind of delivery."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from codegen.job_state import JobError, JobStatus, Take
from codegen.job_store import JobStore
from tests.unit.function.conftest import stage_environment
from tests.unit.function.helpers import (
    BUCKET,
    JOBS_QUEUE_URL,
    JOBS_TABLE,
    OWNER,
    OWNER_ID,
    Clock,
    FakeContext,
    InlineExecutor,
    StreamingClient,
    body_of,
    build_service,
    build_worker,
    converse_reply,
    federated_user,
    iam_user,
    job_event,
    post_job_event,
    role_session,
    root,
    sqs_record,
    stored_keys,
    stream_events,
    submit_event,
)
from tests.unit.function.test_openapi import SPEC, schema_validator

GOOD = {"message": "a function that adds two numbers", "key": "python"}
REQUEST = {"message": "m", "language": "python", "max_tokens": 64, "temperature": None}
CODE = "```python\ndef add(a, b):\n    return a + b\n```"
MAX_RECEIVES = int(stage_environment()["JOB_MAX_RECEIVE_COUNT"])


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(s3, clock):
    return JobStore(boto3.client("dynamodb", region_name="us-east-1"), JOBS_TABLE, clock)


@pytest.fixture
def api(s3, bedrock, clock):
    return build_service(lambda _seconds: bedrock[0], s3, job_clock=clock)


@pytest.fixture
def model(bedrock):
    """The worker's model: the stubbed client, answering ConverseStream."""
    return StreamingClient(bedrock[0])


@pytest.fixture
def worker(s3, model, clock):
    return build_worker(lambda _seconds: model, s3, job_clock=clock)


def queued_messages() -> list[dict]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    answer = sqs.receive_message(QueueUrl=JOBS_QUEUE_URL, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def submit(api, body=GOOD, **options) -> dict:
    result = api.handle(submit_event(body, **options), FakeContext("submit-1"))
    assert result["statusCode"] == 202, result["body"]
    return result


# -- the state machine ---------------------------------------------------------------------
def test_a_job_moves_queued_running_succeeded_and_then_never_again(store, clock):
    job = store.create("j1", OWNER_ID, REQUEST, "r1", ttl_days=7, deadline_s=3600)
    assert job.status == JobStatus.QUEUED and job.expires_at == int(clock.now + 7 * 86400)
    take, running = store.take("j1", attempt="a1", lease_s=60, receive_count=1)
    assert take is Take.STARTED and running.status == JobStatus.RUNNING and running.attempt == "a1"
    assert store.succeed("j1", "a1", {"code": "x"})
    done = store.get("j1")
    assert done.status == JobStatus.SUCCEEDED and done.result == {"code": "x"} and done.finished_at
    # A redelivered message finds it finished; nothing can move it again.
    clock.now += 3600
    assert store.take("j1", attempt="a2", lease_s=60, receive_count=2)[0] is Take.FINISHED
    assert not store.fail("j1", "a1", JobError(500, "X", "m"))
    assert not store.succeed("j1", "a1", {"code": "other"})
    assert not store.release("j1", "a1")
    assert store.get("j1") == done


def test_a_live_lease_keeps_a_second_delivery_out_until_it_runs_out(store, clock):
    store.create("j2", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    assert store.take("j2", attempt="a1", lease_s=60, receive_count=1)[0] is Take.STARTED
    assert store.take("j2", attempt="a2", lease_s=60, receive_count=2)[0] is Take.BUSY
    clock.now += 61  # the first worker is gone: the next delivery takes over
    take, job = store.take("j2", attempt="a3", lease_s=60, receive_count=3)
    assert take is Take.STARTED and job.attempt == "a3" and job.receive_count == 3
    # The worker that lost its lease cannot finish the job any more; the new one can.
    assert not store.succeed("j2", "a1", {"code": "late"})
    assert store.fail("j2", "a3", JobError(504, "ModelTimeout", "m"))
    assert (
        store.get("j2").status == JobStatus.FAILED
        and store.get("j2").error["code"] == "ModelTimeout"
    )


def test_a_released_job_stays_running_and_the_next_delivery_takes_it_at_once(store):
    store.create("j3", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    store.take("j3", attempt="a1", lease_s=600, receive_count=1)
    assert store.release("j3", "a1")
    assert store.get("j3").status == JobStatus.RUNNING  # never back to queued
    assert store.take("j3", attempt="a2", lease_s=600, receive_count=2)[0] is Take.STARTED


def test_an_unknown_job_is_missing_and_a_second_create_of_an_id_is_refused(store):
    assert store.take("nope", attempt="a", lease_s=1, receive_count=1) == (Take.MISSING, None)
    store.create("j4", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    with pytest.raises(ClientError):
        store.create("j4", "someone else", REQUEST, "r2", ttl_days=1, deadline_s=3600)
    assert store.get("j4").owner == OWNER_ID


def test_only_an_expired_last_attempt_is_abandoned(store, clock):
    store.create("j5", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    store.take("j5", attempt="a1", lease_s=60, receive_count=3)
    assert not store.abandon("j5", "a1", JobError.abandoned())  # its lease still runs
    clock.now += 61
    assert not store.abandon("j5", "other", JobError.abandoned())  # not the attempt that was seen
    assert store.abandon("j5", "a1", JobError.abandoned())
    assert store.get("j5").status == JobStatus.FAILED


def test_a_queued_job_can_be_discarded_but_a_taken_one_cannot(store):
    store.create("j6", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    store.discard("j6")
    assert store.get("j6") is None
    store.create("j7", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    store.take("j7", attempt="a1", lease_s=60, receive_count=1)
    store.discard("j7")
    assert store.get("j7").status == JobStatus.RUNNING


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


# -- the worker -----------------------------------------------------------------------------
def test_the_worker_finishes_a_job_with_the_synchronous_answers_fields(api, worker, stubber, s3):
    job_id = body_of(submit(api))["job_id"]
    stubber.add_response("converse", converse_reply(CODE))
    answer = worker.handle({"Records": [sqs_record(job_id)]}, FakeContext("w-1", 120_000))
    assert answer == {"batchItemFailures": []}
    view = body_of(api.handle(job_event(job_id), FakeContext()))
    assert view["status"] == "succeeded" and view["code"].startswith("def add(a, b):")
    assert view["bucket"] == BUCKET and view["key"].endswith(f"/{job_id}.py")
    assert stored_keys(s3) == [view["key"]]
    body = s3.get_object(Bucket=BUCKET, Key=view["key"])["Body"].read().decode()
    assert body == view["code"] and view["usage"]["total_tokens"] == 46
    assert view["syntax"] == {"status": "ok"}  # the same verdict as a synchronous answer
    assert "Retry-After" not in api.handle(job_event(job_id), FakeContext())["headers"]
    # Delivered again (at least once): nothing runs twice, nothing is written twice.
    again = worker.handle({"Records": [sqs_record(job_id, 2)]}, FakeContext("w-2", 120_000))
    assert again == {"batchItemFailures": []} and stored_keys(s3) == [view["key"]]


def test_a_passing_failure_is_tried_again_and_the_last_try_fails_the_job(api, worker, stubber):
    job_id = body_of(submit(api))["job_id"]
    for receive in range(1, MAX_RECEIVES + 1):
        for _ in range(2):  # the function's own retry inside one delivery
            stubber.add_client_error("converse", "ThrottlingException", "busy", 429)
        answer = worker.handle({"Records": [sqs_record(job_id, receive)]}, FakeContext())
        assert answer == {"batchItemFailures": [{"itemIdentifier": f"msg-{job_id}"}]}
        status = body_of(api.handle(job_event(job_id), FakeContext()))
        last = receive == MAX_RECEIVES
        assert status["status"] == (JobStatus.FAILED if last else JobStatus.RUNNING)
    assert status["error"] == {
        "status": 429,
        "code": "Throttled",
        "message": "too many requests to the model; retry later",
    }


def test_a_failure_no_retry_can_mend_fails_the_job_at_once(api, worker, stubber):
    job_id = body_of(submit(api))["job_id"]
    stubber.add_client_error("converse", "AccessDeniedException", "no access", 403)
    answer = worker.handle({"Records": [sqs_record(job_id)]}, FakeContext())
    assert answer == {"batchItemFailures": []}  # done with: no redelivery
    view = body_of(api.handle(job_event(job_id), FakeContext()))
    assert view["status"] == "failed" and view["error"]["code"] == "ModelAccessDenied"
    assert view["error"]["status"] == 502


def test_a_corrupt_job_is_retried_then_failed_and_its_message_kept(api, worker, store):
    job_id = body_of(submit(api))["job_id"]
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName=JOBS_TABLE,
        Key={"job_id": {"S": job_id}},
        UpdateExpression="SET #r = :bad",
        ExpressionAttributeNames={"#r": "request"},
        ExpressionAttributeValues={":bad": {"S": "{not json"}},
    )
    for receive in range(1, MAX_RECEIVES + 1):
        answer = worker.handle({"Records": [sqs_record(job_id, receive)]}, FakeContext())
        assert answer["batchItemFailures"] == [{"itemIdentifier": f"msg-{job_id}"}]
    job = store.get(job_id)
    assert job.status == JobStatus.FAILED and job.error["code"] == "InternalError"


def test_a_message_that_names_no_job_goes_on_to_the_dead_letter_queue(worker):
    for body in ("not json", "[]", '{"job_id": 7}', "{}"):
        record = sqs_record(None, body=body)
        answer = worker.handle({"Records": [record]}, FakeContext())
        assert answer["batchItemFailures"] == [{"itemIdentifier": record["messageId"]}]


def test_a_message_of_an_expired_job_is_dropped(worker):
    answer = worker.handle(
        {"Records": [sqs_record("0" * 8 + "-0000-4000-8000-" + "0" * 12)]}, FakeContext()
    )
    assert answer == {"batchItemFailures": []}


def test_a_job_whose_last_worker_vanished_reads_as_failed(api, store, clock):
    job_id = body_of(submit(api))["job_id"]
    last = MAX_RECEIVES
    store.take(job_id, attempt="a3", lease_s=60, receive_count=last)  # then the worker died
    assert body_of(api.handle(job_event(job_id), FakeContext()))["status"] == "running"
    clock.now += 61
    view = body_of(api.handle(job_event(job_id), FakeContext()))
    assert view["status"] == "failed" and view["error"]["code"] == "JobAbandoned"


def test_a_vanished_worker_before_the_last_delivery_leaves_the_job_to_the_next(api, store, clock):
    job_id = body_of(submit(api))["job_id"]
    store.take(job_id, attempt="a1", lease_s=60, receive_count=1)
    clock.now += 61
    assert body_of(api.handle(job_event(job_id), FakeContext()))["status"] == "running"


# -- every job ends -------------------------------------------------------------------------
DEADLINE_S = int(stage_environment()["JOB_DEADLINE_SECONDS"])


def read(api, job_id: str) -> dict:
    return body_of(api.handle(job_event(job_id), FakeContext()))


def test_a_job_whose_worker_never_runs_it_is_failed_at_its_deadline(api, clock):
    # A worker that cannot start (an import error, broken settings) never takes the job:
    # its message ends in the dead-letter queue and the record would stay queued.
    job_id = body_of(submit(api))["job_id"]
    clock.now += DEADLINE_S - 1
    assert read(api, job_id)["status"] == "queued"
    clock.now += 1
    view = read(api, job_id)
    assert view["status"] == "failed" and view["error"]["code"] == "JobOverdue"
    assert str(DEADLINE_S) in view["error"]["message"]


def test_a_job_recorded_but_never_queued_is_failed_at_its_deadline(api, clock, monkeypatch):
    def refuse(**_arguments):
        raise ClientError({"Error": {"Code": "InternalError", "Message": "no"}}, "Any")

    monkeypatch.setattr(api.jobs.sqs, "send_message", refuse)
    monkeypatch.setattr(api.jobs.store.client, "delete_item", refuse)
    result = api.handle(submit_event(GOOD), FakeContext())
    assert result["statusCode"] == 503
    (item,) = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=JOBS_TABLE)["Items"]
    clock.now += DEADLINE_S
    view = read(api, item["job_id"]["S"])
    assert view["status"] == "failed" and view["error"]["code"] == "JobOverdue"


def test_a_last_delivery_that_finds_the_job_busy_leaves_it_to_be_failed(api, worker, store, clock):
    job_id = body_of(submit(api))["job_id"]
    store.take(job_id, attempt="a1", lease_s=60, receive_count=1)  # then it hangs, or dies
    answer = worker.handle({"Records": [sqs_record(job_id, MAX_RECEIVES)]}, FakeContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": f"msg-{job_id}"}]}
    assert read(api, job_id)["status"] == "running"  # its holder may still finish it
    clock.now += 61
    view = read(api, job_id)
    assert view["status"] == "failed" and view["error"]["code"] == "JobAbandoned"


def test_a_delivery_past_the_deadline_fails_the_job_instead_of_running_it(
    api, worker, stubber, clock
):
    job_id = body_of(submit(api))["job_id"]
    clock.now += DEADLINE_S
    answer = worker.handle({"Records": [sqs_record(job_id)]}, FakeContext())
    assert answer == {"batchItemFailures": []}  # stubber: the model was not called
    assert read(api, job_id)["error"]["code"] == "JobOverdue"


def test_an_expired_job_is_gone_at_once_though_its_item_is_still_there(api, clock):
    job_id = body_of(submit(api))["job_id"]
    ttl_days = int(stage_environment()["JOB_TTL_DAYS"])
    clock.now += ttl_days * 86400
    result = api.handle(job_event(job_id), FakeContext())
    assert result["statusCode"] == 404 and body_of(result)["error"] == "JobNotFound"
    table = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=JOBS_TABLE)
    assert len(table["Items"]) == 1


@pytest.mark.parametrize(
    ("code", "http"),
    [("InternalServerException", 500), ("ModelErrorException", 424), ("SomethingNew", 500)],
)
def test_a_passing_model_failure_is_delivered_again_not_failed(api, worker, stubber, code, http):
    job_id = body_of(submit(api))["job_id"]
    tries = 2 if code == "InternalServerException" else 1  # retried once within the call
    for _ in range(tries):
        stubber.add_client_error("converse", code, "try later", http)
    answer = worker.handle({"Records": [sqs_record(job_id)]}, FakeContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": f"msg-{job_id}"}]}
    assert read(api, job_id)["status"] == "running"


# -- at most one generation per stored answer -----------------------------------------------
def record_of(job_id: str) -> dict:
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=JOBS_TABLE, Key={"job_id": {"S": job_id}}
    )["Item"]
    return json.loads(item["result"]["S"]) if "result" in item else {}


def test_a_jobs_object_key_is_its_own_and_its_record_points_to_the_code(api, worker, stubber, s3):
    job_id = body_of(submit(api))["job_id"]
    stubber.add_response("converse", converse_reply(CODE))
    worker.handle({"Records": [sqs_record(job_id)]}, FakeContext("w-1", 120_000))
    assert stored_keys(s3) == [f"code-output/jobs/{job_id}.py"]
    kept = record_of(job_id)
    assert "code" not in kept and kept["key"] == f"code-output/jobs/{job_id}.py"
    assert kept["usage"] == {"input_tokens": 12, "output_tokens": 34, "total_tokens": 46}
    view = read(api, job_id)  # GET still answers the code, read from the object
    assert view["code"] == s3.get_object(Bucket=BUCKET, Key=kept["key"])["Body"].read().decode()


def test_a_delivery_that_finds_the_jobs_code_stored_adopts_it_without_the_model(
    api, worker, stubber, s3, store, clock
):
    job_id = body_of(submit(api))["job_id"]
    stubber.add_response("converse", converse_reply(CODE))
    # The first delivery stores the code, then cannot write the record (cut off, or failing).
    real_succeed = store.succeed

    def failing_succeed(*_args, **_kwargs):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "Update")

    worker.store.succeed = failing_succeed
    first = worker.handle({"Records": [sqs_record(job_id, 1)]}, FakeContext("w-1", 120_000))
    assert first == {"batchItemFailures": [{"itemIdentifier": f"msg-{job_id}"}]}
    assert read(api, job_id)["status"] == "running"
    worker.store.succeed = real_succeed
    clock.now += 200  # the first delivery's lease has run out
    # No converse is stubbed any more: a second generation would fail the test.
    again = worker.handle({"Records": [sqs_record(job_id, 2)]}, FakeContext("w-2", 120_000))
    assert again == {"batchItemFailures": []}
    view = read(api, job_id)
    assert view["status"] == "succeeded" and view["code"].startswith("def add(a, b):")
    assert view["usage"]["output_tokens"] == 34 and view["stop_reason"] == "end_turn"
    assert stored_keys(s3) == [f"code-output/jobs/{job_id}.py"]
    assert view["syntax"] == {"status": "ok"}  # read back from the object's metadata


def test_an_abandoned_job_whose_code_was_stored_reads_as_succeeded(api, store, s3, clock):
    job_id = body_of(submit(api))["job_id"]
    store.take(job_id, attempt="a1", lease_s=60, receive_count=MAX_RECEIVES)
    s3.put_object(
        Bucket=BUCKET,
        Key=f"code-output/jobs/{job_id}.py",
        Body=b"def add(a, b):\n    return a + b\n",
        Metadata={"model-id": "m", "stop-reason": "end_turn", "output-tokens": "9"},
    )  # then its worker died before it could write the record
    clock.now += 61
    view = read(api, job_id)
    assert view["status"] == "succeeded" and view["code"].startswith("def add")
    assert view["usage"]["output_tokens"] == 9


def test_a_jobs_code_that_could_not_be_stored_is_kept_in_its_record(
    api, worker, stubber, s3, monkeypatch
):
    job_id = body_of(submit(api))["job_id"]
    stubber.add_response("converse", converse_reply(CODE))

    def refuse(**_arguments):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObject")

    monkeypatch.setattr(worker.producer.s3, "put_object", refuse)
    worker.handle({"Records": [sqs_record(job_id)]}, FakeContext("w-1", 120_000))
    view = read(api, job_id)
    assert view["status"] == "succeeded" and view["stored"] is False
    assert view["code"].startswith("def add") and "could not be stored" in view["storage_error"]


def test_a_job_still_running_at_its_deadline_is_left_to_its_worker(api, store, clock):
    job_id = body_of(submit(api))["job_id"]
    clock.now += DEADLINE_S - 10
    store.take(job_id, attempt="a2", lease_s=60, receive_count=2)  # a late, live delivery
    clock.now += 20  # past the deadline, within the lease
    assert read(api, job_id)["status"] == "running"
    clock.now += 60  # the lease ran out unfinished
    assert read(api, job_id)["error"]["code"] == "JobOverdue"


# -- streamed answers and their progress ----------------------------------------------------
class Ticking:
    """A monotonic clock that moves `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def delta(text: str) -> dict:
    return {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": text}}}


def test_the_worker_streams_and_its_jobs_progress_shows_while_the_model_writes(
    api, worker, model, monkeypatch
):
    import codegen.job_progress

    ticking = Ticking(1.0)  # a second per piece: a write is due every 5 pieces
    monkeypatch.setattr(codegen.job_progress.time, "monotonic", ticking)
    job_id = body_of(submit(api))["job_id"]
    seen = []

    def answer():
        yield {"messageStart": {"role": "assistant"}}
        yield delta("```python\n")
        for n in range(12):
            yield delta(f"x{n} = {n}\n")
            seen.append(body_of(api.handle(job_event(job_id), FakeContext())))
        yield delta("```")
        yield {"messageStop": {"stopReason": "end_turn"}}
        yield {"metadata": {"usage": {"inputTokens": 9, "outputTokens": 61}, "metrics": {}}}

    model.scripted.append(answer())
    answer = worker.handle({"Records": [sqs_record(job_id)]}, FakeContext("w-1", 120_000))
    assert answer == {"batchItemFailures": []} and model.calls == ["converse_stream"]
    shown = [view["progress"]["output_tokens"] for view in seen if "progress" in view]
    # Written twice in 14 pieces and 14 s (bounded), growing, each an estimate.
    assert len(set(shown)) == 2 and shown == sorted(shown) and shown[0] >= 5
    assert all(view["status"] == "running" for view in seen)
    assert {view["progress"]["estimated"] for view in seen if "progress" in view} == {True}
    final = body_of(api.handle(job_event(job_id), FakeContext()))
    assert final["status"] == "succeeded" and "progress" not in final
    assert final["code"].startswith("x0 = 0\n") and final["usage"]["output_tokens"] == 61


def test_progress_writes_are_bounded_and_one_still_running_is_never_queued_behind():
    from concurrent.futures import Future

    from codegen.job_progress import ProgressRecorder

    class Store:
        def __init__(self) -> None:
            self.written: list[int] = []

        def progress(self, job_id: str, attempt: str, tokens: int) -> bool:
            self.written.append(tokens)
            return True

    store = Store()
    recorder = ProgressRecorder(
        store, "j", "a", InlineExecutor(), interval_s=5.0, clock=Ticking(0.1)
    )
    for tokens in range(1, 201):  # 20 s of pieces, one every 0.1 s
        recorder(tokens)
    assert recorder.writes == len(store.written) == 3  # at 5, 10 and 15 s
    assert store.written == sorted(store.written)

    class Stuck(InlineExecutor):  # a write that never returns
        def submit(self, fn, /, *args, **kwargs):
            self.submitted = getattr(self, "submitted", 0) + 1
            return Future()

    stuck = Stuck()
    recorder = ProgressRecorder(store, "j", "a", stuck, interval_s=5.0, clock=Ticking(1.0))
    for tokens in range(100):
        recorder(tokens)
    assert stuck.submitted == 1  # the rest were skipped, not piled up


def test_a_failed_progress_write_loses_nothing_but_the_progress(api, worker, model, monkeypatch):
    import codegen.job_progress

    monkeypatch.setattr(codegen.job_progress.time, "monotonic", Ticking(10.0))

    def refused(*_args, **_kwargs):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "Update")

    monkeypatch.setattr(JobStore, "progress", refused)
    job_id = body_of(submit(api))["job_id"]
    model.scripted.append(stream_events(converse_reply(CODE), pieces=8))
    answer = worker.handle({"Records": [sqs_record(job_id)]}, FakeContext("w-1", 120_000))
    assert answer == {"batchItemFailures": []}
    assert body_of(api.handle(job_event(job_id), FakeContext()))["status"] == "succeeded"


def test_a_new_attempt_starts_its_progress_from_nothing_and_a_lost_lease_writes_none(store):
    store.create("p1", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    store.take("p1", attempt="a1", lease_s=0, receive_count=1)
    assert store.progress("p1", "a1", 40) and store.get("p1").progress_tokens == 40
    take, job = store.take("p1", attempt="a2", lease_s=60, receive_count=2)
    assert take is Take.STARTED and job.progress_tokens is None
    assert not store.progress("p1", "a1", 80)  # the old attempt no longer holds it
    assert store.succeed("p1", "a2", {"code": "x"}) and not store.progress("p1", "a2", 90)


def test_an_error_inside_the_stream_is_bedrocks_error_and_the_job_is_tried_again(
    api, worker, model
):
    from botocore.exceptions import EventStreamError

    def answer():
        yield {"messageStart": {"role": "assistant"}}
        yield delta("def add(")
        raise EventStreamError(
            {"Error": {"Code": "throttlingException", "Message": "slow down"}}, "ConverseStream"
        )

    job_id = body_of(submit(api))["job_id"]
    model.scripted += [answer(), answer()]  # the function's own retry sees it too
    answer = worker.handle({"Records": [sqs_record(job_id)]}, FakeContext("w-1", 120_000))
    assert answer == {"batchItemFailures": [{"itemIdentifier": f"msg-{job_id}"}]}
    assert model.calls == ["converse_stream", "converse_stream"]
    assert body_of(api.handle(job_event(job_id), FakeContext()))["status"] == "running"


def test_a_stream_that_outlives_the_workers_time_is_a_timeout_tried_again(api, worker, model):
    context = FakeContext("w-1", 60_000)

    def answer():
        yield {"messageStart": {"role": "assistant"}}
        for _ in range(200):  # a model that writes on and on, a second per piece
            context.remaining_ms -= 1000
            yield delta("x")
        yield {"messageStop": {"stopReason": "end_turn"}}

    job_id = body_of(submit(api))["job_id"]
    model.scripted.append(answer())
    answer = worker.handle({"Records": [sqs_record(job_id)]}, context)
    assert answer == {"batchItemFailures": [{"itemIdentifier": f"msg-{job_id}"}]}
    # Stopped with the store's share and the record's write still left.
    assert context.remaining_ms > 4000
    view = body_of(api.handle(job_event(job_id), FakeContext()))
    assert view["status"] == "running" and "code" not in view


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

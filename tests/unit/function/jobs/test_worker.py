"""The queue's worker: each kind of delivery, every job ending by its deadline, and at most
one generation per stored answer."""

import boto3
import pytest
from botocore.exceptions import ClientError

from codegen.jobs.state import JobStatus
from tests.unit.function.conftest import stage_environment
from tests.unit.function.helpers import (
    BUCKET,
    JOBS_TABLE,
    FakeContext,
    body_of,
    converse_reply,
    job_event,
    sqs_record,
    stored_keys,
    submit_event,
)
from tests.unit.function.jobs.support import (
    CODE,
    DEADLINE_S,
    GOOD,
    MAX_RECEIVES,
    read,
    record_of,
    submit,
)


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

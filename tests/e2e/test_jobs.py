"""Asynchronous jobs through the whole local stack: the gateway routes the submission and the
GET with its path parameter, the runtime's SQS poller runs the worker's deployed zip, and the
emulator holds the queue, the dead-letter queue, the table and the bucket.

The shared stage has the shortest worker and visibility timeouts the validation allows, and
two deliveries before the dead-letter queue (tests/e2e/conftest.py), so that redelivery can be
watched in seconds."""

import json
import threading
import time
import urllib.parse

import psutil
import pytest
from botocore.credentials import Credentials

from deploy.call import submit_job, wait_for_job
from tests.e2e.helpers import (
    CREDENTIALS,
    JOB_MAX_RECEIVES,
    JOB_VISIBILITY_S,
    LONG,
    LONG_JOB_DEADLINE_S,
    LONG_SCRIPT,
    LONG_TOKENS,
    emulator_client,
    scripted,
    send,
    set_faults,
    wait_for,
)
from tests.e2e.variants import BASE, LONG_JOBS, Variant

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.registry,
    pytest.mark.terraform,
    pytest.mark.model,
    pytest.mark.variants(BASE),
]

# Redeliveries as close together as the validation allows (a visibility of worker_timeout + 10
# s, worker_timeout 10 s at least), for a message every delivery of which fails at once.
POISON_VISIBILITY_S = 20
POISON_JOB = "0badc0de-0000-4000-8000-000000000001"
POISON_MESSAGES = {json.dumps({"job_id": POISON_JOB}), "not a job at all"}

SHORT = {"message": "a function that adds two numbers", "key": "python", "max_tokens": 64}
ROOT = "123456789012:123456789012"  # the owner the root caller is: ACCOUNT:ITS-ID (the account)


def send_poison(stage) -> float:
    """A job whose stored request is not one, and a message that is not a job, sent to the
    stage's queue: every delivery of either fails. When they were sent."""
    deployed = stage.outputs
    now = time.time()
    emulator_client(stage.stack.state.emulator_url, "dynamodb").put_item(
        TableName=deployed["jobs_table"],
        Item={
            "job_id": {"S": POISON_JOB},
            "owner": {"S": ROOT},
            "status": {"S": "queued"},
            "created_at": {"N": str(now)},
            "updated_at": {"N": str(now)},
            "expires_at": {"N": str(int(now) + 3600)},
            "request": {"S": "{not json"},
            "request_id": {"S": "poison"},
            "receive_count": {"N": "0"},
        },
    )
    sqs = emulator_client(stage.stack.state.emulator_url, "sqs")
    for body in sorted(POISON_MESSAGES):
        sqs.send_message(QueueUrl=deployed["jobs_queue_url"], MessageBody=body)
    return now


# Its scenario takes (deliveries + 1) x 20 s on the stage's own clock, so it starts as soon as
# the stage is deployed, beside other tests; its test checks how it ended.
POISON = Variant(
    "poison",
    {"worker_timeout": 10, "job_visibility_timeout": POISON_VISIBILITY_S},
    start=send_poison,
)


@pytest.fixture
def deployed(local_stage):
    return local_stage.on(BASE).outputs


@pytest.fixture(scope="module")
def aws(local_stage):
    return lambda service: emulator_client(local_stage.state.emulator_url, service)


def submit(stage, body=SHORT, credentials=CREDENTIALS) -> str:
    """A job submitted to `stage` (the stack: its base variant; or a variant's stage)."""
    url = stage.url()
    result, job_url = submit_job(stage.endpoint(credentials), json.dumps(body).encode())
    assert result.status == 202, result.body
    location = result.header("Location")
    jobs_path = urllib.parse.urlsplit(url).path + "/jobs/"
    assert location is not None and location.startswith(jobs_path), location
    assert result.json()["status"] == "queued" and result.json()["url"] == location
    return job_url


def job(job_url: str, credentials=CREDENTIALS) -> tuple[int, dict]:
    status, _headers, data = send(job_url, b"", method="GET", credentials=credentials)
    return status, json.loads(data)


def finished(job_url: str, limit_s: float = 90) -> dict:
    result = wait_for_job(job_url, region="us-east-1", credentials=CREDENTIALS, limit_s=limit_s)
    assert result.status == 200, result.body
    return result.json()


def record(aws, deployed, job_id: str) -> dict:
    item = aws("dynamodb").get_item(
        TableName=deployed["jobs_table"], Key={"job_id": {"S": job_id}}, ConsistentRead=True
    )
    return item["Item"]


@pytest.mark.runtime_client
def test_a_job_succeeds_and_its_code_is_the_stored_object(local_stage, deployed, aws):
    job_url = submit(local_stage.on(BASE))
    done = finished(job_url)
    assert done["status"] == "succeeded" and "def " in done["code"]
    assert done["stored"] is True and done["key"].endswith(f"/{done['job_id']}.py")
    stored = aws("s3").get_object(Bucket=done["bucket"], Key=done["key"])
    assert stored["Body"].read() == done["code"].encode()
    assert done["usage"]["output_tokens"] > 0 and done["language"] == "python"
    assert done["created_at"] <= done["started_at"] <= done["finished_at"]
    # The message was deleted once the job succeeded: nothing is left to deliver.
    attributes = aws("sqs").get_queue_attributes(
        QueueUrl=deployed["jobs_queue_url"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


@pytest.mark.runtime_client
def test_a_job_whose_generation_fails_ends_failed_with_the_error_code(local_stage, deployed):
    set_faults(
        local_stage.state.model_url,
        local_stage.state.token,
        "POST",
        {"path": "/model/*/converse-stream", "status": 403, "code": "AccessDeniedException"},
    )
    try:
        done = finished(submit(local_stage.on(BASE)))
    finally:
        set_faults(local_stage.state.model_url, local_stage.state.token, "DELETE")
    assert done["status"] == "failed" and "code" not in done
    assert done["error"]["code"] == "ModelAccessDenied" and done["error"]["status"] == 502


@pytest.mark.runtime_client  # errors and crashes are client-sensitive
def test_a_worker_that_crashes_mid_job_is_retried_and_the_job_ends_once(local_stage, deployed, aws):
    # The first model call hangs long enough for the worker to be killed while it waits.
    set_faults(
        local_stage.state.model_url,
        local_stage.state.token,
        "POST",
        {"path": "/model/*/converse-stream", "delay_s": 8, "times": 1},
    )
    try:
        job_url = submit(local_stage.on(BASE))
        # Killed only once its model call is in the model server's hands (the rule hit).
        wait_for(lambda: model_call_held(local_stage), 60, "the job's model call", 0.1)
        assert job(job_url)[1]["status"] == "running"
        killed = kill_workers(local_stage, "codegen.worker.lambda_handler")
        assert killed >= 1
        done = finished(job_url, limit_s=JOB_VISIBILITY_S + 60)
    finally:
        set_faults(local_stage.state.model_url, local_stage.state.token, "DELETE")
    assert done["status"] == "succeeded" and "def " in done["code"], done
    item = record(aws, deployed, done["job_id"])
    assert item["receive_count"]["N"] == "2"  # the second delivery ran it
    keys = aws("s3").list_objects_v2(Bucket=done["bucket"]).get("Contents", [])
    assert [k["Key"] for k in keys if done["job_id"] in k["Key"]] == [done["key"]]
    time.sleep(1)
    assert job(job_url)[1] == done  # and it stays as it ended


@pytest.mark.runtime_client  # errors and crashes are client-sensitive
@pytest.mark.variants(POISON)
def test_a_poisoned_message_ends_in_the_dead_letter_queue_with_its_job_failed(local_stage, aws):
    # Sent when the stage was deployed (send_poison): every delivery fails; the last one fails
    # the job.
    poison = local_stage.on(POISON)
    deployed = poison.outputs
    sqs = aws("sqs")
    dead_letters: set[str] = set()

    def both_dead() -> bool:
        answer = sqs.receive_message(
            QueueUrl=deployed["jobs_dead_letter_queue_url"],
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
        )
        dead_letters.update(m["Body"] for m in answer.get("Messages", []))
        return dead_letters >= POISON_MESSAGES

    deadline = poison.started + POISON_VISIBILITY_S * (JOB_MAX_RECEIVES + 1) + 30
    wait_for(both_dead, deadline - time.time(), "both messages in the DLQ", 1)
    job_id = POISON_JOB
    job_url = poison.url(path=f"/code-generation/jobs/{job_id}")
    status, view = job(job_url)
    assert status == 200 and view["status"] == "failed"
    assert view["error"]["code"] == "InternalError" and job_id in view["error"]["message"]


def test_another_principal_cannot_read_the_job(local_stage, deployed, aws):
    iam = aws("iam")
    iam.create_user(UserName="mallory")
    key = iam.create_access_key(UserName="mallory")["AccessKey"]
    mallory = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    job_url = submit(local_stage.on(BASE))
    done = finished(job_url)
    status, view = job(job_url, credentials=mallory)
    assert status == 404 and view["error"] == "JobNotFound" and "code" not in view
    # Mallory's own job is hers alone, and the stage's key cannot read it either.
    hers = submit(local_stage.on(BASE), credentials=mallory)
    assert job(hers, credentials=mallory)[0] == 200
    assert job(hers)[0] == 404
    assert job(job_url)[1]["code"] == done["code"]
    status, _headers, _data = send(job_url, b"", method="GET", sign=False)
    assert status == 403


@pytest.mark.parametrize(
    "suffix", ["not-a-uuid", "0badc0de-0000-4000-8000-00000000000Z", "x" * 100]
)
def test_bad_job_ids_are_400_and_unknown_ones_404(local_stage, deployed, suffix):
    url = local_stage.on(BASE).url(path=f"/code-generation/jobs/{urllib.parse.quote(suffix)}")
    assert job(url)[0] == 400
    unknown_id = "0badc0de-0000-4000-8000-0000000000ff"
    unknown = local_stage.on(BASE).url(path=f"/code-generation/jobs/{unknown_id}")
    assert job(unknown)[0] == 404


def test_a_refused_job_request_creates_nothing(local_stage, deployed, aws):
    before = aws("dynamodb").scan(TableName=deployed["jobs_table"], Select="COUNT")["Count"]
    for body in ({"key": "python", "async": True}, {**SHORT, "async": "yes"}):
        status, _headers, data = send(local_stage.on(BASE).url(), json.dumps(body).encode())
        assert status == 400, data
    after = aws("dynamodb").scan(TableName=deployed["jobs_table"], Select="COUNT")["Count"]
    assert after == before


def model_call_held(local_stage) -> bool:
    """Whether the model server's one fault rule has held a request."""
    rules = set_faults(local_stage.state.model_url, local_stage.state.token, "GET")["rules"]
    return bool(rules) and rules[0]["hits"] >= 1


def kill_workers(local_stage, handler: str) -> int:
    """Kill the runtime workers running `handler`; how many there were."""
    killed = 0
    for child in psutil.Process(local_stage.state.pid).children(recursive=True):
        try:
            if handler in child.cmdline():
                child.kill()
                killed += 1
        except psutil.Error:
            continue
    return killed


# The last two tests' stage (LONG_JOBS): a worker with time for a long answer, and a
# generator with one reserved instance.


@pytest.mark.runtime_client
@pytest.mark.variants(LONG_JOBS)
def test_a_long_jobs_progress_grows_while_the_model_writes(local_stage):
    """The worker streams: a job's GET shows the tokens written so far (every 5 s at most)
    while it runs, growing, then the model's own count once it succeeds."""
    seen: list[int] = []
    with scripted(local_stage, LONG_SCRIPT):  # 20 s of writing, on any machine
        job_url = submit(local_stage.on(LONG_JOBS), LONG)
        deadline = time.monotonic() + LONG_JOB_DEADLINE_S
        while time.monotonic() < deadline:
            status, view = job(job_url)
            assert status == 200, view
            if view["status"] in ("succeeded", "failed"):
                break
            if "progress" in view:
                assert view["status"] == "running" and view["progress"]["estimated"] is True
                seen.append(view["progress"]["output_tokens"])
            time.sleep(0.5)
    assert view["status"] == "succeeded", view
    assert "progress" not in view and view["usage"]["output_tokens"] == LONG_TOKENS
    assert len(set(seen)) >= 2 and seen == sorted(seen) and seen[0] > 0, seen
    print(f"progress seen: {sorted(set(seen))}; final {view['usage']['output_tokens']} tokens")


@pytest.mark.runtime_client
@pytest.mark.variants(LONG_JOBS)
def test_jobs_are_submitted_and_read_while_generations_hold_every_generator(local_stage):
    """The job routes have a function of their own: with the generator's one reserved
    instance held by a slow synchronous generation, a job is still submitted and read at
    once, not queued behind it."""
    long_jobs = local_stage.on(LONG_JOBS)
    model = local_stage.state.model_url
    set_faults(
        model,
        local_stage.state.token,
        "POST",
        {"path": "/model/*/converse", "delay_s": 8, "times": 1},
    )
    answers: list[int] = []
    try:
        generation = threading.Thread(
            target=lambda: answers.append(send(long_jobs.url(), json.dumps(SHORT).encode())[0])
        )
        generation.start()
        wait_for(lambda: model_call_held(local_stage), 60, "the generation's model call", 0.1)
        job_url = submit(long_jobs)
        status, view = job(job_url)
        # Both answered while the generation still holds the generator's only instance.
        assert generation.is_alive(), "the job's requests waited for the generation"
        assert status == 200 and view["status"] in ("queued", "running", "succeeded")
        generation.join(60)
    finally:
        set_faults(model, local_stage.state.token, "DELETE")
    assert answers == [200]
    assert finished(job_url)["status"] == "succeeded"

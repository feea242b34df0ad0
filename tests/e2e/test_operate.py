"""Operating the local stage as one operates AWS: after a PUT and a job, their lines are in
the emulator's CloudWatch Logs where Lambda and API Gateway write them (read by `invoke
logs`'s code and by the AWS CLI), their EMF records count what the answers say, and
`invoke status`'s code counts them."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.call import submit_job, wait_for_job
from deploy.logs import LogReader, sources
from deploy.status import read_status
from tests.e2e.helpers import CREDENTIALS, emulator_client, send, wait_for
from tests.e2e.variants import BASE

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.registry,
    pytest.mark.terraform,
    pytest.mark.model,
    pytest.mark.variants(BASE),
]

SHORT = {"message": "a function that adds two numbers", "key": "python", "max_tokens": 48}


@pytest.fixture
def deployed(local_stage):
    return local_stage.on(BASE).outputs


@pytest.fixture
def client(local_stage):
    return lambda service: emulator_client(local_stage.state.emulator_url, service)


def lines_of(client, outputs, wanted: str, since_ms: int, until) -> list:
    """The lines `invoke logs --request-id/--job-id` shows, once `until(lines)` holds."""
    reader = LogReader(client("logs"), sources(outputs, "all"))
    found: list = []

    def ready() -> bool:
        found[:] = reader.related(since_ms, None, wanted)
        return until(found)

    wait_for(ready, 20, f"the log lines of {wanted}", 0.3)
    return found


def records(lines, source: str) -> list[dict]:
    return [
        json.loads(line.message)
        for line in lines
        if line.source == source and line.message.startswith("{")
    ]


def test_a_puts_lines_are_where_aws_keeps_them_with_its_metrics(local_stage, deployed, client):
    since = int(time.time() * 1000) - 1000
    before = read_status(client, deployed, local_stage.on(BASE).url(), alarms_evaluated=False)
    status, headers, data = send(local_stage.on(BASE).url(), json.dumps(SHORT).encode(), timeout=60)
    assert status == 200, data
    answer = json.loads(data)
    api_id = headers["apigw-requestid"]

    def complete(lines) -> bool:
        texts = [line.message for line in lines]
        return any(text.startswith("REPORT RequestId") for text in texts) and bool(
            records(lines, "access")
        )

    lines = lines_of(client, deployed, api_id, since, complete)
    (access,) = records(lines, "access")
    assert access["requestId"] == api_id and access["status"] == "200"
    assert access["routeKey"] == "PUT /code-generation"
    (record,) = [r for r in records(lines, "api") if r.get("event") == "code-generation"]
    assert record["api_request_id"] == api_id and record["request_id"] == answer["request_id"]
    # Lambda's shape: START, the function's lines, END, REPORT, in one stream of Lambda's name.
    api_lines = [line for line in lines if line.source == "api"]
    assert api_lines[0].message.startswith(f"START RequestId: {answer['request_id']}")
    assert api_lines[-1].message.startswith(f"REPORT RequestId: {answer['request_id']}")
    assert "/[$LATEST]" in api_lines[0].stream
    # The EMF record counts what the answer says it cost.
    assert record["OutputTokens"] == [answer["usage"]["output_tokens"]]
    assert record["InputTokens"] == [answer["usage"]["input_tokens"]]

    def counted() -> bool:
        after = read_status(client, deployed, local_stage.on(BASE).url(), alarms_evaluated=False)
        grew = {name: after.counts[name] - before.counts[name] for name in after.counts}
        return grew["Requests"] >= 1 and grew["OutputTokens"] >= answer["usage"]["output_tokens"]

    wait_for(counted, 20, "status to count the request", 0.5)
    after = read_status(client, deployed, local_stage.on(BASE).url(), alarms_evaluated=False)
    assert after.latency_ms["p99"] is not None and after.jobs["dead letters"] >= 0

    # The AWS CLI reads the same group, as against AWS.
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ENDPOINT_URL": local_stage.state.emulator_url,
        "AWS_ACCESS_KEY_ID": CREDENTIALS.access_key,
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    aws = Path(sys.executable).parent / "aws"
    printed = subprocess.run(
        [
            str(aws),
            "logs",
            "filter-log-events",
            "--log-group-name",
            deployed["access_log_group"],
            "--start-time",
            str(since),
            "--filter-pattern",
            f'"{api_id}"',
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    events = json.loads(printed.stdout)["events"]
    assert [json.loads(event["message"])["requestId"] for event in events] == [api_id]


def test_a_jobs_lines_run_from_its_submission_to_its_delivery(local_stage, deployed, client):
    since = int(time.time() * 1000) - 1000
    result, job_url = submit_job(local_stage.on(BASE).endpoint(), json.dumps(SHORT).encode())
    assert result.status == 202, result.body
    done = wait_for_job(job_url, region="us-east-1", credentials=CREDENTIALS, limit_s=90)
    job = done.json()
    assert job["status"] == "succeeded", job

    def complete(lines) -> bool:
        return any(r.get("outcome") == "succeeded" for r in records(lines, "worker")) and any(
            line.source == "worker" and line.message.startswith("REPORT") for line in lines
        )

    lines = lines_of(client, deployed, job["job_id"], since, complete)
    # Submitted through the job route: the job routes' own function logged it.
    submitted = [r for r in records(lines, "jobs") if r.get("status") == 202]
    assert submitted and submitted[0]["job_id"] == job["job_id"]
    (delivered,) = [r for r in records(lines, "worker") if r.get("outcome") == "succeeded"]
    assert delivered["Route"] == "job" and delivered["JobSucceeded"] == [1]
    assert delivered["OutputTokens"] == [job["usage"]["output_tokens"]]
    assert [line.timestamp_ms for line in lines] == sorted(line.timestamp_ms for line in lines)
    assert {line.source for line in lines} >= {"jobs", "worker", "access"}

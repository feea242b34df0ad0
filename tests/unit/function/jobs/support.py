"""What the job tests share: the request they submit and the reads of the queue and the
store."""

import json

import boto3

from tests.unit.function.conftest import stage_environment
from tests.unit.function.helpers import (
    JOBS_QUEUE_URL,
    JOBS_TABLE,
    FakeContext,
    body_of,
    job_event,
    submit_event,
)

GOOD = {"message": "a function that adds two numbers", "key": "python"}
REQUEST = {"message": "m", "language": "python", "max_tokens": 64, "temperature": None}
CODE = "```python\ndef add(a, b):\n    return a + b\n```"
MAX_RECEIVES = int(stage_environment()["JOB_MAX_RECEIVE_COUNT"])
DEADLINE_S = int(stage_environment()["JOB_DEADLINE_SECONDS"])


def queued_messages() -> list[dict]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    answer = sqs.receive_message(QueueUrl=JOBS_QUEUE_URL, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def submit(api, body=GOOD, **options) -> dict:
    result = api.handle(submit_event(body, **options), FakeContext("submit-1"))
    assert result["statusCode"] == 202, result["body"]
    return result


def read(api, job_id: str) -> dict:
    return body_of(api.handle(job_event(job_id), FakeContext()))


def record_of(job_id: str) -> dict:
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=JOBS_TABLE, Key={"job_id": {"S": job_id}}
    )["Item"]
    return json.loads(item["result"]["S"]) if "result" in item else {}

"""Events, contexts and clients for exercising the function without AWS."""

import base64
import json
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FIXED_NOW = datetime(2026, 11, 24, 12, 30, 5, tzinfo=UTC)
BUCKET = "codegen-test-output"
MODEL = "anthropic.claude-haiku-5-5"
JOBS_TABLE = "codegen-test-jobs"
JOBS_OWNER_INDEX = "owner-created"
JOBS_QUEUE = "codegen-test-jobs"
IDEMPOTENCY_TABLE = "codegen-test-idempotency"
SPEND_TABLE = "codegen-test-spend"
ALERT_TOPIC = "codegen-test-alarms"
ALERT_TOPIC_ARN = f"arn:aws:sns:us-east-1:123456789012:{ALERT_TOPIC}"
JOBS_QUEUE_URL = f"https://sqs.us-east-1.amazonaws.com/123456789012/{JOBS_QUEUE}"


def build_service(bedrock: Any, s3: Any, *, clock: Any = None, job_clock: Any = None):
    """The API function's service as handler.py builds it (codegen.wiring), on the (moto)
    jobs table and queue; `bedrock(seconds)` gives the model client."""
    import time

    import boto3

    from codegen.settings import load_settings
    from codegen.wiring import api_service

    return api_service(
        load_settings(),
        bedrock=bedrock,
        s3=s3,
        dynamodb=boto3.client("dynamodb", region_name="us-east-1"),
        sqs=boto3.client("sqs", region_name="us-east-1"),
        sns=boto3.client("sns", region_name="us-east-1"),
        clock=clock,
        job_clock=job_clock or time.time,
    )


def build_worker(bedrock: Any, s3: Any, *, job_clock: Any = None, progress_writer: Any = None):
    """The job worker as codegen.worker builds it (codegen.wiring), on the (moto) jobs
    table; its progress writes run inline unless `progress_writer` says otherwise."""
    import time

    import boto3

    from codegen.settings import load_settings
    from codegen.wiring import job_worker

    return job_worker(
        load_settings(),
        bedrock=bedrock,
        s3=s3,
        dynamodb=boto3.client("dynamodb", region_name="us-east-1"),
        sns=boto3.client("sns", region_name="us-east-1"),
        job_clock=job_clock or time.time,
        progress_writer=progress_writer or InlineExecutor(),
    )


def create_jobs_backend() -> None:
    """The jobs table and queue, in the active moto mock."""
    import boto3

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName=JOBS_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "job_id", "AttributeType": "S"},
            {"AttributeName": "owner", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": JOBS_OWNER_INDEX,
                "KeySchema": [
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": ["status", "ends_by", "expires_at"],
                },
            }
        ],
    )
    boto3.client("sqs", region_name="us-east-1").create_queue(QueueName=JOBS_QUEUE)
    dynamodb.create_table(
        TableName=IDEMPOTENCY_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    create_spend_table(dynamodb)
    boto3.client("sns", region_name="us-east-1").create_topic(Name=ALERT_TOPIC)


def create_spend_table(dynamodb) -> None:
    """The spend table as terraform/main.tf makes it (module.spend), in the active moto mock."""
    dynamodb.create_table(
        TableName=SPEND_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "caller", "AttributeType": "S"},
            {"AttributeName": "period", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "caller", "KeyType": "HASH"},
            {"AttributeName": "period", "KeyType": "RANGE"},
        ],
    )


@dataclass
class FakeContext:
    aws_request_id: str = "req-1"
    remaining_ms: int = 25_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def http_event(
    body: Any = None,
    *,
    raw: str | bytes | None = None,
    method: str = "PUT",
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
    version: str = "2.0",
) -> dict[str, Any]:
    """An API Gateway proxy event; `body` is JSON-encoded unless `raw` is given."""
    if raw is None:
        raw = json.dumps(body) if body is not None else None
    if isinstance(raw, bytes):
        raw = base64.b64encode(raw).decode() if base64_body else raw.decode()
    elif base64_body and raw is not None:
        raw = base64.b64encode(raw.encode()).decode()
    hdrs = {"content-type": "application/json", **(headers or {})}
    if version == "2.0":
        return {
            "version": "2.0",
            "routeKey": "PUT /code-generation",
            "rawPath": "/code-generation",
            "rawQueryString": "",
            "headers": hdrs,
            "requestContext": {"http": {"method": method, "path": "/code-generation"}},
            "body": raw,
            "isBase64Encoded": base64_body,
        }
    return {
        "resource": "/code-generation",
        "path": "/code-generation",
        "httpMethod": method,
        "headers": hdrs,
        "body": raw,
        "isBase64Encoded": base64_body,
    }


ACCOUNT = "123456789012"
Identity = dict[str, Any]  # requestContext.authorizer.iam, as API Gateway sends it


def iam_user(name: str, unique_id: str) -> Identity:
    """An IAM user caller: its unique id (AIDA...) changes when it is deleted and recreated."""
    arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    return {"userArn": arn, "userId": unique_id, "callerId": unique_id, "accountId": ACCOUNT}


def role_session(role: str, role_id: str, session: str) -> Identity:
    """A caller with assumed-role credentials: the session name is the assumer's choice."""
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"
    unique_id = f"{role_id}:{session}"
    return {"userArn": arn, "userId": unique_id, "callerId": unique_id, "accountId": ACCOUNT}


def federated_user(name: str) -> Identity:
    """A caller with GetFederationToken credentials: IAM's `aws:userid` for it is
    ACCOUNT:NAME (no unique id of its own), its ARN names it."""
    arn = f"arn:aws:sts::{ACCOUNT}:federated-user/{name}"
    unique_id = f"{ACCOUNT}:{name}"
    return {"userArn": arn, "userId": unique_id, "callerId": unique_id, "accountId": ACCOUNT}


def root() -> Identity:
    """The account's root user: its unique id is the account id."""
    arn = f"arn:aws:iam::{ACCOUNT}:root"
    return {"userArn": arn, "userId": ACCOUNT, "callerId": ACCOUNT, "accountId": ACCOUNT}


OWNER = iam_user("alice", "AIDAALICE00000000001")
OWNER_ID = f"{ACCOUNT}:AIDAALICE00000000001"  # how the function names that caller


def job_event(
    job_id: str, *, caller: Identity | None = OWNER, stage: str = "dev", method: str = "GET"
) -> dict[str, Any]:
    """GET /code-generation/jobs/{id} as API Gateway sends it (payload 2.0, AWS_IAM route)."""
    path = f"/{stage}/code-generation/jobs/{job_id}"
    context: dict[str, Any] = {"http": {"method": method, "path": path}, "stage": stage}
    if caller is not None:
        context["authorizer"] = {"iam": caller}
    return {
        "version": "2.0",
        "routeKey": "GET /code-generation/jobs/{id}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {},
        "requestContext": context,
        "pathParameters": {"id": job_id},
        "isBase64Encoded": False,
    }


def submit_event(
    body: Any,
    *,
    caller: Identity | None = OWNER,
    stage: str = "dev",
    prefer: bool = True,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """PUT /code-generation asking for a job (Prefer: respond-async unless prefer=False)."""
    extra = {"prefer": "respond-async"} if prefer else {}
    event = http_event(body, headers={**extra, **(headers or {})})
    event["requestContext"]["stage"] = stage
    if caller is not None:
        event["requestContext"]["authorizer"] = {"iam": caller}
    return event


def post_job_event(
    body: Any, *, caller: Identity | None = OWNER, stage: str = "dev"
) -> dict[str, Any]:
    """POST /code-generation/jobs: the job route (its own function on AWS)."""
    event = http_event(body, method="POST")
    event.update(routeKey="POST /code-generation/jobs", rawPath="/code-generation/jobs")
    event["requestContext"].update(stage=stage)
    event["requestContext"]["http"]["path"] = "/code-generation/jobs"
    if caller is not None:
        event["requestContext"]["authorizer"] = {"iam": caller}
    return event


def sqs_record(job_id: str | None, receive_count: int = 1, body: str | None = None):
    """One record of the SQS event Lambda sends the worker."""
    return {
        "messageId": f"msg-{job_id}",
        "receiptHandle": "handle",
        "body": body if body is not None else json.dumps({"job_id": job_id}),
        "attributes": {"ApproximateReceiveCount": str(receive_count)},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:codegen-test-jobs",
    }


class Clock:
    """Epoch seconds that a test moves on by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def converse_reply(text: str, stop: str = "end_turn", tokens: tuple[int, int] = (12, 34)):
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop,
        "usage": {"inputTokens": tokens[0], "outputTokens": tokens[1], "totalTokens": sum(tokens)},
        "metrics": {"latencyMs": 321},
    }


def stream_events(reply: dict[str, Any], pieces: int = 1) -> list[dict[str, Any]]:
    """A Converse reply as the ConverseStream events botocore yields for it, its text in
    `pieces` deltas."""
    text = "".join(block.get("text", "") for block in reply["output"]["message"]["content"])
    size = max(1, -(-len(text) // pieces))
    deltas = [text[i : i + size] for i in range(0, len(text), size)] or [""]
    return [
        {"messageStart": {"role": "assistant"}},
        *({"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": d}}} for d in deltas),
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": reply["stopReason"]}},
        {"metadata": {"usage": reply["usage"], "metrics": reply["metrics"]}},
    ]


class StreamingClient:
    """A Bedrock runtime client whose ConverseStream answers what the stubbed client's
    Converse does (same arguments checked, same errors raised), as events: botocore's
    Stubber cannot stub an event stream. `scripted` streams, if any, are answered first."""

    def __init__(self, stubbed: Any) -> None:
        self.stubbed = stubbed
        self.calls: list[str] = []
        self.scripted: list[Any] = []  # iterables of events, used before the stub's

    def converse(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append("converse")
        return self.stubbed.converse(**arguments)

    def converse_stream(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append("converse_stream")
        if self.scripted:
            return {"stream": iter(self.scripted.pop(0))}
        return {"stream": iter(stream_events(self.stubbed.converse(**arguments)))}


class InlineExecutor(Executor):
    """Runs what it is given at once: a job's progress writes in order, for tests."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def body_of(result: dict[str, Any]) -> dict[str, Any]:
    return json.loads(result["body"])


class FakeClock:
    """The function's remaining time, moved on by the fakes below instead of by sleeping."""

    def __init__(self, remaining_s: float) -> None:
        self.remaining_s = remaining_s

    def advance(self, seconds: float) -> None:
        self.remaining_s -= seconds


@dataclass
class ClockedContext:
    clock: FakeClock
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.clock.remaining_s * 1000)


class SlowBedrock:
    """converse() takes `seconds` of the clock, then answers `reply` or raises `error`;
    `asked` keeps each call's arguments."""

    def __init__(self, clock: FakeClock, steps: list[tuple[float, Any]]) -> None:
        self.clock = clock
        self.steps = list(steps)
        self.calls = 0
        self.asked: list[dict[str, Any]] = []

    def converse(self, **arguments: Any) -> Any:
        self.calls += 1
        self.asked.append(arguments)
        seconds, outcome = self.steps.pop(0)
        self.clock.advance(seconds)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class SlowS3:
    """put_object() takes `seconds` of the clock each time; the first `failures` calls then
    fail as a timed-out read would, the others reach the real (moto) client."""

    def __init__(self, clock: FakeClock, s3: Any, seconds: float, failures: int) -> None:
        self.clock = clock
        self.s3 = s3
        self.seconds = seconds
        self.failures = failures
        self.calls = 0

    def put_object(self, **arguments: Any) -> Any:
        from botocore.exceptions import ReadTimeoutError

        self.calls += 1
        self.clock.advance(self.seconds)
        if self.calls <= self.failures:
            raise ReadTimeoutError(endpoint_url="https://s3.example")
        return self.s3.put_object(**arguments)


def stored_keys(s3) -> list[str]:
    return [obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]

"""Generation jobs: one DynamoDB item per job, moved only forward by conditional writes.

    queued -> running -> succeeded | failed      (queued -> failed too)

A job's message may be delivered more than once (SQS delivers at least once, and a worker that
crashed leaves it to be delivered again). So a worker takes a job only while it is queued, or
running under a lease that ran out (the worker that held it is gone); it finishes the job only
while it still holds that lease (`attempt`); and nothing ever changes a finished job.
"""

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from botocore.exceptions import ClientError

from codegen.languages import find_language
from codegen.request import GenerationRequest, Sampling

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED)
FINISHED = (SUCCEEDED, FAILED)


@dataclass(frozen=True)
class Job:
    job_id: str
    owner: str  # the IAM principal that submitted it: the only one that may read it
    status: str
    created_at: float  # epoch seconds
    updated_at: float
    expires_at: int  # epoch seconds: DynamoDB's TTL removes the item after this
    request: dict[str, Any]  # the validated request (request_record)
    request_id: str  # of the submitting request
    receive_count: int = 0  # the delivery of its message that took it last
    attempt: str | None = None  # the lease holder's token
    lease_until: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class Take(Enum):
    """What a delivery of a job's message found."""

    STARTED = "started"  # this delivery runs it now
    FINISHED = "finished"  # it ran already: nothing to do
    BUSY = "busy"  # another delivery holds a live lease: try again later
    MISSING = "missing"  # no such job (expired, or never created)


def new_job_id() -> str:
    return str(uuid.uuid4())


def request_record(request: GenerationRequest) -> dict[str, Any]:
    """What the worker needs to run the request again, exactly as it was validated."""
    sampling = request.sampling
    return {
        "message": request.message,
        "language": request.language.name,
        "max_tokens": sampling.max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "top_k": sampling.top_k,
        "chosen_by_caller": list(sampling.chosen_by_caller),
    }


def request_from_record(record: dict[str, Any]) -> GenerationRequest:
    """The request a job was submitted with; ValueError when the record is not one."""
    try:
        sampling = Sampling(
            max_tokens=int(record["max_tokens"]),
            temperature=record["temperature"],
            top_p=record["top_p"],
            top_k=record["top_k"],
            chosen_by_caller=tuple(record["chosen_by_caller"]),
        )
        return GenerationRequest(
            str(record["message"]), find_language(str(record["language"])), sampling, True
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"the job's request record is not one: {exc!r}") from exc
    except Exception as exc:  # find_language raises an HttpError for an unknown language
        raise ValueError(f"the job's request record is not one: {exc}") from exc


class JobStore:
    """The jobs table. `clock` gives epoch seconds."""

    def __init__(self, client: Any, table: str, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.table = table
        self.clock = clock

    def create(
        self, job_id: str, owner: str, request: dict[str, Any], request_id: str, ttl_days: int
    ) -> Job:
        now = self.clock()
        job = Job(
            job_id=job_id,
            owner=owner,
            status=QUEUED,
            created_at=now,
            updated_at=now,
            expires_at=int(now + ttl_days * 86400),
            request=request,
            request_id=request_id,
        )
        self.client.put_item(
            TableName=self.table,
            Item=_item(job),
            ConditionExpression="attribute_not_exists(job_id)",
        )
        return job

    def discard(self, job_id: str) -> None:
        """Remove a job nobody can have taken yet (its message was never sent)."""
        try:
            self.client.delete_item(
                TableName=self.table,
                Key={"job_id": {"S": job_id}},
                ConditionExpression="#status = :queued",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":queued": {"S": QUEUED}},
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise

    def get(self, job_id: str) -> Job | None:
        answer = self.client.get_item(
            TableName=self.table, Key={"job_id": {"S": job_id}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return _job(item) if item else None

    def take(
        self, job_id: str, *, attempt: str, lease_s: float, receive_count: int
    ) -> tuple[Take, Job | None]:
        """Start the job for this delivery: only when it is queued, or running under a lease
        that ran out. Holds a lease of `lease_s` seconds (the worker's remaining time)."""
        now = self.clock()
        try:
            answer = self.client.update_item(
                TableName=self.table,
                Key={"job_id": {"S": job_id}},
                UpdateExpression=(
                    "SET #status = :running, attempt = :attempt, lease_until = :lease, "
                    "receive_count = :receives, updated_at = :now, "
                    "started_at = if_not_exists(started_at, :now)"
                ),
                ConditionExpression=(
                    "attribute_exists(job_id) AND (#status = :queued OR "
                    "(#status = :running AND lease_until <= :now))"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":running": {"S": RUNNING},
                    ":queued": {"S": QUEUED},
                    ":attempt": {"S": attempt},
                    ":lease": _number(now + lease_s),
                    ":receives": _number(receive_count),
                    ":now": _number(now),
                },
                ReturnValues="ALL_NEW",
            )
            return Take.STARTED, _job(answer["Attributes"])
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
        job = self.get(job_id)
        if job is None:
            return Take.MISSING, None
        return (Take.FINISHED if job.finished else Take.BUSY), job

    def release(self, job_id: str, attempt: str, error: dict[str, Any]) -> bool:
        """Give up this attempt's lease so that the next delivery may take the job at once;
        the job stays running (never backwards), with the error that stopped the attempt."""
        return self._update_held(
            job_id,
            attempt,
            "SET lease_until = :now, last_error = :error, updated_at = :now",
            {":error": {"S": json.dumps(error)}},
        )

    def succeed(self, job_id: str, attempt: str, result: dict[str, Any]) -> bool:
        """Finish the job with its result, if this attempt still holds it."""
        return self._update_held(
            job_id,
            attempt,
            "SET #status = :succeeded, #result = :result, finished_at = :now, "
            "updated_at = :now REMOVE lease_until",
            {":succeeded": {"S": SUCCEEDED}, ":result": {"S": json.dumps(result)}},
            {"#result": "result"},
        )

    def fail(self, job_id: str, attempt: str, error: dict[str, Any]) -> bool:
        """Finish the job as failed, if this attempt still holds it."""
        return self._update_held(job_id, attempt, _FAIL, _failure(error), {"#error": "error"})

    def abandon(self, job_id: str, attempt: str, error: dict[str, Any]) -> bool:
        """Fail a job whose last allowed attempt ended without a word (its worker crashed or
        was cut off) once that attempt's lease has run out: no delivery is left to finish it."""
        return self._update(
            job_id,
            _FAIL,
            "#status = :running AND attempt = :attempt AND lease_until <= :now",
            {**_failure(error), ":running": {"S": RUNNING}, ":attempt": {"S": attempt}},
            {"#error": "error"},
        )

    def _update_held(
        self,
        job_id: str,
        attempt: str,
        update: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> bool:
        return self._update(
            job_id,
            update,
            "#status = :running AND attempt = :attempt",
            {**values, ":running": {"S": RUNNING}, ":attempt": {"S": attempt}},
            names,
        )

    def _update(
        self,
        job_id: str,
        update: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> bool:
        """One conditional update; False when the condition did not hold."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"job_id": {"S": job_id}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status", **(names or {})},
                ExpressionAttributeValues={**values, ":now": _number(self.clock())},
            )
            return True
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise


_FAIL = (
    "SET #status = :failed, #error = :error, finished_at = :now, updated_at = :now "
    "REMOVE lease_until"
)


def _failure(error: dict[str, Any]) -> dict[str, Any]:
    return {":failed": {"S": FAILED}, ":error": {"S": json.dumps(error)}}


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def _condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _number(value: float) -> dict[str, str]:
    return {"N": repr(round(value, 3)) if isinstance(value, float) else str(value)}


def _item(job: Job) -> dict[str, Any]:
    item: dict[str, Any] = {
        "job_id": {"S": job.job_id},
        "owner": {"S": job.owner},
        "status": {"S": job.status},
        "created_at": _number(job.created_at),
        "updated_at": _number(job.updated_at),
        "expires_at": _number(job.expires_at),
        "request": {"S": json.dumps(job.request)},
        "request_id": {"S": job.request_id},
        "receive_count": _number(job.receive_count),
    }
    return item


def _job(item: dict[str, Any]) -> Job:
    def text(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    def number(name: str) -> float | None:
        return float(item[name]["N"]) if name in item else None

    def blob(name: str) -> Any:
        raw = text(name)
        return json.loads(raw) if raw is not None else None

    return Job(
        job_id=item["job_id"]["S"],
        owner=text("owner") or "",
        status=text("status") or "",
        created_at=number("created_at") or 0.0,
        updated_at=number("updated_at") or 0.0,
        expires_at=int(number("expires_at") or 0),
        request=_request_blob(text("request")),
        request_id=text("request_id") or "",
        receive_count=int(number("receive_count") or 0),
        attempt=text("attempt"),
        lease_until=number("lease_until"),
        started_at=number("started_at"),
        finished_at=number("finished_at"),
        result=blob("result"),
        error=blob("error"),
    )


def _request_blob(raw: str | None) -> dict[str, Any]:
    """The stored request; a record that is not one reads as {} (the worker fails the job)."""
    try:
        value = json.loads(raw) if raw is not None else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

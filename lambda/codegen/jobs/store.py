"""The jobs table: one DynamoDB item per job (codegen.jobs.state), moved only forward by
conditional writes, and the marshalling between items and Jobs."""

import json
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from codegen.jobs.state import Job, JobError, JobStatus, Take


class JobStore:
    """The jobs table. `clock` gives epoch seconds."""

    def __init__(self, client: Any, table: str, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.table = table
        self.clock = clock

    def create(
        self,
        job_id: str,
        owner: str,
        request: dict[str, Any],
        request_id: str,
        ttl_days: int,
        deadline_s: int,
    ) -> Job:
        now = self.clock()
        job = Job(
            job_id=job_id,
            owner=owner,
            status=JobStatus.QUEUED,
            created_at=now,
            updated_at=now,
            expires_at=int(now + ttl_days * 86400),
            request=request,
            request_id=request_id,
            ends_by=now + deadline_s,
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
                ExpressionAttributeValues={":queued": {"S": JobStatus.QUEUED}},
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise

    def unfinished(self, owner: str, index: str, enough: int) -> int:
        """How many of `owner`'s jobs are queued or running and not past their deadline or
        expiry, counted up to `enough`. Read from the owner index, which DynamoDB updates
        shortly after each write (eventually consistent): a burst of submissions may
        briefly count a few short."""
        now = _number(self.clock())
        arguments: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "#owner = :owner",
            "FilterExpression": (
                "#status IN (:queued, :running) AND ends_by > :now AND expires_at > :now"
            ),
            "ExpressionAttributeNames": {"#owner": "owner", "#status": "status"},
            "ExpressionAttributeValues": {
                ":owner": {"S": owner},
                ":queued": {"S": JobStatus.QUEUED},
                ":running": {"S": JobStatus.RUNNING},
                ":now": now,
            },
            "Select": "COUNT",
        }
        count = 0
        while count < enough:
            answer = self.client.query(**arguments)
            count += int(answer.get("Count", 0))
            if "LastEvaluatedKey" not in answer:
                break
            arguments["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        return count

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
                    "started_at = if_not_exists(started_at, :now) "
                    "REMOVE progress_tokens, progress_at"  # a new attempt starts from nothing
                ),
                ConditionExpression=(
                    "attribute_exists(job_id) AND (#status = :queued OR "
                    "(#status = :running AND lease_until <= :now))"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":running": {"S": JobStatus.RUNNING},
                    ":queued": {"S": JobStatus.QUEUED},
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

    def release(self, job_id: str, attempt: str) -> bool:
        """Give up this attempt's lease so that the next delivery may take the job at once;
        the job stays running (never backwards)."""
        return self._update_held(job_id, attempt, "SET lease_until = :now, updated_at = :now", {})

    def progress(self, job_id: str, attempt: str, output_tokens: int) -> bool:
        """Record how far this attempt's answer has come, if it still holds the job."""
        return self._update_held(
            job_id,
            attempt,
            "SET progress_tokens = :tokens, progress_at = :now",
            {":tokens": _number(output_tokens)},
        )

    def succeed(self, job_id: str, attempt: str, result: dict[str, Any]) -> bool:
        """Finish the job with its result, if this attempt still holds it."""
        return self._update_held(
            job_id,
            attempt,
            "SET #status = :succeeded, #result = :result, finished_at = :now, "
            "updated_at = :now REMOVE lease_until",
            {":succeeded": {"S": JobStatus.SUCCEEDED}, ":result": {"S": json.dumps(result)}},
            {"#result": "result"},
        )

    def adopt(self, job_id: str, result: dict[str, Any]) -> bool:
        """Finish an unfinished job with the result of code a delivery stored before it was
        cut off, whoever holds it: that code is the job's answer (its object's key is the
        job's own)."""
        return self._update(
            job_id,
            "SET #status = :succeeded, #result = :result, finished_at = :now, "
            "updated_at = :now REMOVE lease_until",
            "#status = :queued OR #status = :running",
            {
                ":succeeded": {"S": JobStatus.SUCCEEDED},
                ":result": {"S": json.dumps(result)},
                ":queued": {"S": JobStatus.QUEUED},
                ":running": {"S": JobStatus.RUNNING},
            },
            {"#result": "result"},
        )

    def fail(self, job_id: str, attempt: str, error: JobError) -> bool:
        """Finish the job as failed, if this attempt still holds it."""
        return self._update_held(job_id, attempt, _FAIL, _failure(error), {"#error": "error"})

    def abandon(self, job_id: str, attempt: str, error: JobError) -> bool:
        """Fail a job whose last allowed attempt ended without a word (its worker crashed or
        was cut off) once that attempt's lease has run out: no delivery is left to finish it."""
        return self._update(
            job_id,
            _FAIL,
            "#status = :running AND attempt = :attempt AND lease_until <= :now",
            {**_failure(error), ":running": {"S": JobStatus.RUNNING}, ":attempt": {"S": attempt}},
            {"#error": "error"},
        )

    def fail_overdue(self, job_id: str, error: JobError) -> bool:
        """Fail a job that is not finished by its deadline and that no worker holds now
        (queued, or its lease ran out): a worker running it may still finish it."""
        return self._update(
            job_id,
            _FAIL,
            "ends_by <= :now AND (#status = :queued OR "
            "(#status = :running AND (attribute_not_exists(lease_until) OR lease_until <= :now)))",
            {
                **_failure(error),
                ":queued": {"S": JobStatus.QUEUED},
                ":running": {"S": JobStatus.RUNNING},
            },
            {"#error": "error"},
        )

    def note_last_delivery(self, job_id: str, receive_count: int) -> bool:
        """The last allowed delivery found the job busy: record that none is left, so that
        the job is failed once the holder's lease runs out unfinished (JobApi)."""
        return self._update(
            job_id,
            "SET receive_count = :receives, updated_at = :now",
            "#status = :running AND receive_count < :receives",
            {":running": {"S": JobStatus.RUNNING}, ":receives": _number(receive_count)},
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
            {**values, ":running": {"S": JobStatus.RUNNING}, ":attempt": {"S": attempt}},
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


def _failure(error: JobError) -> dict[str, Any]:
    return {":failed": {"S": JobStatus.FAILED}, ":error": {"S": json.dumps(error.as_record())}}


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
        "ends_by": _number(job.ends_by),
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
        status=JobStatus(text("status")),
        created_at=number("created_at") or 0.0,
        updated_at=number("updated_at") or 0.0,
        expires_at=int(number("expires_at") or 0),
        request=_request_blob(text("request")),
        request_id=text("request_id") or "",
        ends_by=number("ends_by") or float("inf"),
        receive_count=int(number("receive_count") or 0),
        attempt=text("attempt"),
        lease_until=number("lease_until"),
        started_at=number("started_at"),
        finished_at=number("finished_at"),
        result=blob("result"),
        error=blob("error"),
        progress_tokens=None
        if number("progress_tokens") is None
        else int(item["progress_tokens"]["N"]),
        progress_at=number("progress_at"),
    )


def _request_blob(raw: str | None) -> dict[str, Any]:
    """The stored request; a record that is not one reads as {} (the worker fails the job)."""
    try:
        value = json.loads(raw) if raw is not None else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

"""What a generation job is: its statuses, its record, what a delivery found, and its error.

    queued -> running -> succeeded | failed      (queued -> failed too)

A job's message may be delivered more than once (SQS delivers at least once, and a worker that
crashed leaves it to be delivered again). So a worker takes a job only while it is queued, or
running under a lease that ran out (the worker that held it is gone); it finishes the job only
while it still holds that lease (`attempt`); and nothing ever changes a finished job. The
conditional writes that keep these rules are in codegen.jobs.store.
"""

import uuid
from dataclasses import asdict, dataclass
from enum import Enum, StrEnum
from typing import Any

from codegen.http.errors import HttpError


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


@dataclass(frozen=True)
class JobError:
    """Why a job failed: the status and error code the synchronous path would have answered."""

    status: int
    code: str
    message: str

    @classmethod
    def of(cls, error: HttpError) -> "JobError":
        return cls(error.status, error.code, error.message)

    @classmethod
    def internal(cls, job_id: str) -> "JobError":
        return cls(
            500,
            "InternalError",
            f"the job failed on our side; quote job id {job_id} when reporting it",
        )

    @classmethod
    def overdue(cls, deadline_s: int) -> "JobError":
        """A job not finished by its deadline: its message was lost, dead-lettered (its
        worker could not start) or never sent, or it waited too long to run."""
        return cls(
            500,
            "JobOverdue",
            f"the job did not finish within {deadline_s} s of its submission; submit it again",
        )

    @classmethod
    def abandoned(cls) -> "JobError":
        """A job whose last allowed attempt vanished (its worker crashed or was cut off)."""
        return cls(
            500,
            "JobAbandoned",
            "the job's worker stopped before finishing it, on every allowed attempt",
        )

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Job:
    job_id: str
    owner: str  # the IAM principal that submitted it: the only one that may read it
    status: JobStatus
    created_at: float  # epoch seconds
    updated_at: float
    expires_at: int  # epoch seconds: DynamoDB's TTL removes the item after this
    request: dict[str, Any]  # the validated request (codegen.generation.request.request_record)
    request_id: str  # of the submitting request
    ends_by: float = float("inf")  # epoch seconds: not finished by then, it is failed
    receive_count: int = 0  # the delivery of its message that took it last
    attempt: str | None = None  # the lease holder's token
    lease_until: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None  # a JobError's record
    # How far the running attempt's answer has come (codegen.jobs.progress_recorder): an estimate.
    progress_tokens: int | None = None
    progress_at: float | None = None

    @property
    def finished(self) -> bool:
        return self.status.finished

    def overdue(self, now: float) -> bool:
        """Past its deadline, and no worker holds it now (one that does may still finish)."""
        held = self.status is JobStatus.RUNNING and (self.lease_until or 0) > now
        return not self.finished and not held and now >= self.ends_by

    def expired(self, now: float) -> bool:
        """Past its record's TTL: gone for its owner, whenever DynamoDB removes it."""
        return now >= self.expires_at


class Take(Enum):
    """What a delivery of a job's message found."""

    STARTED = "started"  # this delivery runs it now
    FINISHED = "finished"  # it ran already (or was failed as overdue): nothing to do
    BUSY = "busy"  # another delivery holds a live lease: try again later
    MISSING = "missing"  # no such job (expired, or never created)


def new_job_id() -> str:
    return str(uuid.uuid4())

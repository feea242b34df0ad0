"""The HTTP side of jobs: submit one (202 + Location) and read one (only its owner may)."""

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from codegen.generation.producer import stored_job_answer
from codegen.generation.request import GenerationRequest, request_from_record, request_record
from codegen.generation.storage import StoredObject, read_code
from codegen.http.errors import HttpError
from codegen.http.events import HttpRequest
from codegen.http.responses import json_result
from codegen.http.routes import READ_JOB
from codegen.jobs.state import Job, JobError, JobStatus, new_job_id
from codegen.jobs.store import JobStore
from codegen.jobs.view import job_view
from codegen.settings import Settings
from codegen.spend.ledger import Grant, SpendLedger, grant_of
from codegen.spend.request import spend_bound

logger = logging.getLogger(__name__)
_JOB_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class JobApi:
    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        sqs: Any,
        s3: Any,
        clock: Callable[[], float] = time.time,
        spend: SpendLedger | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.sqs = sqs
        self.s3 = s3  # where a finished job's code is read from
        self.clock = clock
        # A job reserves its max_tokens in its caller's budget when submitted; the worker
        # settles it to what the job used (or releases it when the job fails).
        self.spend = spend

    def submit(
        self, http: HttpRequest, request: GenerationRequest, request_id: str, log: dict[str, Any]
    ) -> dict[str, Any]:
        """Record the job, then queue its id: a job that could not be queued is removed
        again, so the caller's 503 leaves nothing behind."""
        jobs = self.settings.jobs
        try:
            waiting = self.store.unfinished(
                http.caller, jobs.owner_index, jobs.max_unfinished_per_caller
            )
        except (ClientError, BotoCoreError) as exc:
            logger.error("cannot count the caller's jobs: %s", exc)
            raise self._unavailable() from exc
        if waiting >= jobs.max_unfinished_per_caller:
            log.update(unfinished_jobs=waiting)
            raise HttpError(
                429,
                "TooManyJobs",
                f"you have {waiting} unfinished jobs, the most one caller may have waiting "
                f"on this stage ({jobs.max_unfinished_per_caller}); wait for one to finish "
                "(GET its url), then submit again",
                {"unfinished": waiting, "limit": jobs.max_unfinished_per_caller},
                headers={"Retry-After": str(self.settings.retry_after_seconds)},
            )
        job_id = new_job_id()
        log.update(job_id=job_id)
        grant = None
        if self.spend is not None:
            grant = self.spend.reserve(
                http.caller,
                http.caller_arn,
                spend_bound(request, self.settings),
                request.max_tokens,
            )
            if grant.capped:
                request = request.with_max_tokens(grant.max_tokens)
                log.update(budget_capped_to=grant.max_tokens)
        record = request_record(request)
        if grant is not None:
            record["spend"] = grant.record()
        try:
            job = self.store.create(
                job_id, http.caller, record, request_id, jobs.ttl_days, jobs.deadline_seconds
            )
        except (ClientError, BotoCoreError) as exc:
            logger.error("cannot record job %s: %s", job_id, exc)
            self._release(grant)
            raise self._unavailable() from exc
        try:
            self.sqs.send_message(
                QueueUrl=self.settings.jobs.queue_url, MessageBody=json.dumps({"job_id": job_id})
            )
        except (ClientError, BotoCoreError) as exc:
            logger.error("cannot queue job %s: %s", job_id, exc)
            try:
                self.store.discard(job_id)
                self._release(grant)
            except (ClientError, BotoCoreError):
                # Its deadline fails it (JobOverdue), the first time anyone looks after that.
                logger.exception("job %s stays queued without a message", job_id)
            raise self._unavailable() from exc
        location = READ_JOB.url_path(http, id=job_id)
        headers = {
            "Location": location,
            "Preference-Applied": "respond-async",
            "Retry-After": str(self.settings.poll_after_seconds),
            "X-Request-Id": request_id,
        }
        return json_result(202, job_view(job, location), headers)

    def _release(self, grant: Grant | None) -> None:
        if grant is not None and self.spend is not None:
            self.spend.release(grant)

    def read(self, http: HttpRequest, request_id: str, log: dict[str, Any]) -> dict[str, Any]:
        job_id = http.path_parameters.get("id") or http.path.rstrip("/").rsplit("/", 1)[-1]
        log.update(job_id=job_id[:64])
        if not _JOB_ID.match(job_id):
            raise HttpError(
                400,
                "InvalidJobId",
                "a job id is the UUID a submission answered with (in its Location header)",
                {"field": "id"},
            )
        code: dict[str, Any] = {}
        try:
            job = self.store.get(job_id)
            if job is not None and job.owner == http.caller and not job.expired(self.clock()):
                job = self._settle(job)
                code = self._code(job)
        except (ClientError, BotoCoreError) as exc:
            logger.error("cannot read job %s: %s", job_id, exc)
            raise self._unavailable() from exc
        # Someone else's job is answered as no job at all: its id tells them nothing. An
        # expired one is gone, whenever DynamoDB's TTL removes its item (that can take days).
        if job is None or job.owner != http.caller or job.expired(self.clock()):
            raise HttpError(404, "JobNotFound", f"no job {job_id} of yours (jobs expire)")
        location = READ_JOB.url_path(http, id=job_id)
        headers = {"X-Request-Id": request_id}
        if not job.finished:
            headers["Retry-After"] = str(self.settings.poll_after_seconds)
        log.update(job_status=job.status.value)
        return json_result(200, {**job_view(job, location), **code}, headers)

    def _code(self, job: Job) -> dict[str, Any]:
        """A finished job's code, read from its object (the record holds where it is)."""
        result = job.result
        if job.status is not JobStatus.SUCCEEDED or result is None or "code" in result:
            return {}
        if not result.get("bucket") or not result.get("key"):
            return {"code": None}
        code = read_code(self.s3, StoredObject(result["bucket"], result["key"]))
        if code is None:
            return {"code": None, "code_error": "the stored code is gone (the bucket's lifecycle)"}
        return {"code": code}

    def _settle(self, job: Job) -> Job:
        """Settle an unfinished job that nothing can finish any more (past its deadline, or
        abandoned by its last allowed delivery): succeeded, if a delivery stored its code
        before it was cut off, else failed."""
        if job.finished or not (job.overdue(self.clock()) or self._abandoned(job)):
            return job
        adopted = self._adopt(job)
        if adopted is not None:
            return adopted
        if job.overdue(self.clock()) and self.store.fail_overdue(
            job.job_id, JobError.overdue(self.settings.jobs.deadline_seconds)
        ):
            logger.error("job %s overdue: failed (status was %s)", job.job_id, job.status.value)
            # The read that failed it gives its reservation back (only one read can).
            self._release(grant_of(job.request))
            return self.store.get(job.job_id) or job
        return self._settle_abandoned(job)

    def _abandoned(self, job: Job) -> bool:
        """A running job whose last allowed delivery's lease ran out: no worker will finish
        it (its message is in the dead-letter queue)."""
        return (
            job.status is JobStatus.RUNNING
            and job.attempt is not None
            and job.lease_until is not None
            and job.lease_until < self.clock()
            and job.receive_count >= self.settings.jobs.max_receives
        )

    def _adopt(self, job: Job) -> Job | None:
        try:
            request = request_from_record(job.request)
        except ValueError:
            return None
        result = stored_job_answer(self.s3, self.settings, request, job.job_id)
        if result is None or not self.store.adopt(job.job_id, result):
            return None
        logger.warning("job %s: its stored code adopted at %s", job.job_id, result["location"])
        return self.store.get(job.job_id)

    def _settle_abandoned(self, job: Job) -> Job:
        """Record failed an abandoned job (see _abandoned)."""
        if (
            self._abandoned(job)
            and job.attempt is not None
            and self.store.abandon(job.job_id, job.attempt, JobError.abandoned())
        ):
            logger.error("job %s abandoned after %s deliveries", job.job_id, job.receive_count)
            self._release(grant_of(job.request))
            return self.store.get(job.job_id) or job
        return job

    def _unavailable(self) -> HttpError:
        return HttpError(
            503,
            "JobsUnavailable",
            "the job service is unavailable; retry shortly",
            headers={"Retry-After": str(self.settings.retry_after_seconds)},
        )

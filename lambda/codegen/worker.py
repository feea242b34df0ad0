"""The job worker: `codegen.worker.lambda_handler`, fed by the jobs queue's event source mapping.

Each SQS record names one job. The answer lists the records to deliver again
(ReportBatchItemFailures); every other record is deleted from the queue.

A job ends once: `succeeded` with the code, or `failed` with the same error the synchronous
path would have answered. A failure worth another try (throttling, a timeout, the model
unavailable) leaves the job running for the next delivery, until the last allowed one
(JOB_MAX_RECEIVE_COUNT) records it failed; the message then goes on to the dead-letter queue.
"""

import json
import logging
import time
from functools import cache
from typing import Any

from codegen.access_log import log_request
from codegen.clients import bedrock_client, dynamodb_client, s3_client
from codegen.errors import HttpError
from codegen.generation import Budget, Producer
from codegen.jobs import JobStore, Take, request_from_record
from codegen.settings import ConfigError, Settings, load_settings

logging.getLogger().setLevel(logging.INFO)
logger = logging.getLogger(__name__)
# Worth another delivery: the same request may well succeed a little later.
_RETRYABLE_STATUSES = {429, 503, 504}
_LEASE_SLACK_S = 5.0  # beyond the function's own end, for clocks that differ a little
_LAMBDA_MAX_S = 900.0  # no invocation outlives Lambda's 15 minutes


class JobWorker:
    def __init__(self, settings: Settings, producer: Producer, store: JobStore) -> None:
        self.settings = settings
        self.producer = producer
        self.store = store

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        records = event.get("Records", []) if isinstance(event, dict) else []
        failures = []
        for record in records:
            if not self._run(record, context):
                failures.append({"itemIdentifier": record.get("messageId", "")})
        return {"batchItemFailures": failures}

    def _run(self, record: dict[str, Any], context: Any) -> bool:
        """Work on one record; False when it must be delivered again."""
        started = time.perf_counter()
        receives = int((record.get("attributes") or {}).get("ApproximateReceiveCount", "1"))
        last = receives >= self.settings.jobs.max_receives
        log: dict[str, Any] = {"message_id": record.get("messageId"), "receive_count": receives}
        job_id = _job_id(record.get("body"))
        if job_id is None:
            # Not a job's message: let redrive move it to the dead-letter queue for a person.
            logger.error("message %s names no job: %.200r", record.get("messageId"), record)
            self._log(log, started, outcome="not-a-job")
            return False
        log.update(job_id=job_id)
        budget = Budget(context)
        attempt = f"{record.get('messageId', '')}#{receives}"
        take, job = self.store.take(
            job_id,
            attempt=attempt,
            lease_s=min(budget.seconds(), _LAMBDA_MAX_S) + _LEASE_SLACK_S,
            receive_count=receives,
        )
        if take is not Take.STARTED or job is None:
            self._log(log, started, outcome=take.value)
            return take is not Take.BUSY  # a live lease elsewhere: look again later
        try:
            request = request_from_record(job.request)
            log.update(language=request.language.name, model=self.settings.model_id)
            produced = self.producer.produce(request, job_id, budget, log)
        except HttpError as error:
            retry = error.status in _RETRYABLE_STATUSES and not last
            outcome = self._stop(job_id, attempt, _error(error), retry)
            self._log(log, started, outcome=outcome, error=error.code)
            return not retry and not last
        except Exception:
            logger.exception("job %s failed unexpectedly", job_id)
            error = {
                "status": 500,
                "code": "InternalError",
                "message": f"the job failed on our side; quote job id {job_id} when reporting it",
            }
            outcome = self._stop(job_id, attempt, error, retry=not last)
            self._log(log, started, outcome=outcome, error="InternalError")
            return False  # delivered again, and after the last time, kept for a person
        result = produced.fields(request, self.settings.model_id)
        finished = self.store.succeed(job_id, attempt, result)
        self._log(log, started, outcome="succeeded" if finished else "lease-lost")
        return True

    def _stop(self, job_id: str, attempt: str, error: dict[str, Any], retry: bool) -> str:
        if retry:
            self.store.release(job_id, attempt, error)
            return "retry"
        self.store.fail(job_id, attempt, error)
        return "failed"

    @staticmethod
    def _log(log: dict[str, Any], started: float, **fields: Any) -> None:
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        log_request(kind="job", latency_ms=latency_ms, **log, **fields)


def _job_id(body: Any) -> str | None:
    try:
        value = json.loads(body).get("job_id") if isinstance(body, str) else None
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def _error(error: HttpError) -> dict[str, Any]:
    return {"status": error.status, "code": error.code, "message": error.message}


@cache
def _worker() -> JobWorker:
    settings = load_settings()
    producer = Producer(
        settings, lambda read_timeout: bedrock_client(settings, read_timeout), s3_client(settings)
    )
    return JobWorker(settings, producer, JobStore(dynamodb_client(settings), settings.jobs.table))


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        worker = _worker()
    except ConfigError:
        # Nothing can run: every record is delivered again (and ends in the dead-letter queue).
        logger.exception("worker misconfigured")
        raise
    return worker.handle(event, context)

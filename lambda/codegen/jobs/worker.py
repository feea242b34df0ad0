"""The job worker behind `codegen.worker.lambda_handler`, fed by the jobs queue's event source
mapping.

Each SQS record names one job. The answer lists the records to deliver again
(ReportBatchItemFailures); every other record is deleted from the queue.

A job ends once: `succeeded` with the code, or `failed` with the same error the synchronous
path would have answered. A failure worth another try (throttling, a timeout, the model
unavailable) leaves the job running for the next delivery, until the last allowed one
(JOB_MAX_RECEIVE_COUNT) records it failed; the message then goes on to the dead-letter queue.

The model's answer is streamed (ConverseStream): a long answer is not cut by a read timeout
while the model still writes, and the job's record shows the tokens so far as it goes
(codegen.jobs.progress_recorder).
"""

import json
import logging
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from enum import Enum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from codegen.clients import QUICK_ATTEMPT_S
from codegen.generation.producer import Budget, Produced, Producer, answer_fields, stored_job_answer
from codegen.generation.request import GenerationRequest, request_from_record
from codegen.http.errors import HttpError
from codegen.jobs.progress_recorder import ProgressRecorder
from codegen.jobs.state import Job, JobError, Take
from codegen.jobs.store import JobStore
from codegen.settings import Settings
from codegen.spend.ledger import SpendLedger, grant_of
from codegen.telemetry.access_log import log_request
from codegen.telemetry.metrics import JOB_ROUTE, metrics_target

logger = logging.getLogger(__name__)
# Worth another delivery: the same request may well succeed a little later. A 502 only when
# the model service failed or could not be reached; not when the stage is set up wrong.
_RETRYABLE_STATUSES = {429, 503, 504}
_RETRYABLE_502S = {"ModelError", "ModelUnreachable"}
_LEASE_SLACK_S = 5.0  # beyond the function's own end, for clocks that differ a little
_LAMBDA_MAX_S = 900.0  # no invocation outlives Lambda's 15 minutes
# A record holds its code only when it could not be stored, and then only up to this many
# bytes (JSON-escaped): DynamoDB's items stop at 400 KB.
MAX_INLINE_CODE_BYTES = 256 * 1024


class Delivery(Enum):
    """What becomes of a record's message once the worker is done with it."""

    DONE = "done"  # deleted from the queue
    AGAIN = "again"  # delivered again once its visibility timeout ends
    # Delivered again until the queue's redrive moves it to the dead-letter queue, for a
    # person: the last allowed delivery, or a message that names no job.
    DEAD_LETTER = "dead-letter"

    @property
    def redelivered(self) -> bool:
        return self is not Delivery.DONE


class JobWorker:
    def __init__(
        self,
        settings: Settings,
        producer: Producer,
        store: JobStore,
        progress_writer: Executor | None = None,
        spend: SpendLedger | None = None,
    ) -> None:
        self.settings = settings
        self.producer = producer
        self.store = store
        self.spend = spend  # settles a job's reservation when the job ends
        self.metrics = metrics_target(settings)
        # Writes a job's progress beside its stream (codegen.jobs.progress_recorder): one at a time.
        self.progress_writer = progress_writer or ThreadPoolExecutor(1, "job-progress")

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        records = event.get("Records", []) if isinstance(event, dict) else []
        failures = []
        for record in records:
            if self._run(record, context).redelivered:
                failures.append({"itemIdentifier": record.get("messageId", "")})
        return {"batchItemFailures": failures}

    def _run(self, record: dict[str, Any], context: Any) -> Delivery:
        """Work on one record."""
        started = time.perf_counter()
        receives = int((record.get("attributes") or {}).get("ApproximateReceiveCount", "1"))
        last = receives >= self.settings.jobs.max_receives
        log: dict[str, Any] = {
            "request_id": getattr(context, "aws_request_id", None),  # this delivery's invocation
            "message_id": record.get("messageId"),
            "receive_count": receives,
        }
        job_id = _job_id(record.get("body"))
        if job_id is None:
            logger.error("message %s names no job: %.200r", record.get("messageId"), record)
            self._log(log, started, outcome="not-a-job")
            return Delivery.DEAD_LETTER
        log.update(job_id=job_id)
        attempt = f"{record.get('messageId', '')}#{receives}"
        take, job = self.store.take(
            job_id,
            attempt=attempt,
            lease_s=min(Budget(context).seconds(), _LAMBDA_MAX_S) + _LEASE_SLACK_S,
            receive_count=receives,
        )
        if take is Take.BUSY and last:
            # No delivery is left after this one: if the holder never finishes, the job is
            # failed once its lease has run out (JobApi), and by its deadline at the latest.
            self.store.note_last_delivery(job_id, receives)
        if take is Take.STARTED and job is not None and self.store.clock() >= job.ends_by:
            # Taken past its deadline: this delivery holds it, and fails it unrun.
            self.store.fail(job_id, attempt, JobError.overdue(self.settings.jobs.deadline_seconds))
            self._release(job)
            self._log(log, started, outcome="overdue")
            return Delivery.DONE
        if take is not Take.STARTED or job is None:
            self._log(log, started, outcome=take.value)
            return Delivery.AGAIN if take is Take.BUSY else Delivery.DONE
        # The record's write after the model call keeps one attempt's time.
        budget = Budget(context, reserve_s=QUICK_ATTEMPT_S)
        try:
            request = request_from_record(job.request)
            log.update(language=request.language.name, model=self.settings.model_id)
            result = self._adopted(request, job_id, log)
            if result is None:
                # Streamed: no read timeout cuts a long answer, and its owner sees it grow.
                progress = ProgressRecorder(self.store, job_id, attempt, self.progress_writer)
                produced = self.producer.produce(
                    request, job_id, budget, log, job=True, progress=progress
                )
                log.update(progress_writes=progress.writes)
                result = self._result(request, produced)
        except HttpError as error:
            passing = error.status in _RETRYABLE_STATUSES or error.code in _RETRYABLE_502S
            retry = passing and not last
            delivery = self._stop(job_id, attempt, JobError.of(error), retry, last)
            if not retry:
                self._release(job)
            self._log(log, started, outcome=_outcome(delivery), error=error.code)
            return delivery
        except Exception:
            logger.exception("job %s failed unexpectedly", job_id)
            delivery = self._stop(job_id, attempt, JobError.internal(job_id), not last, last)
            if last:
                self._release(job)
            self._log(log, started, outcome=_outcome(delivery), error="InternalError")
            return delivery
        try:
            finished = self.store.succeed(job_id, attempt, result)
        except (ClientError, BotoCoreError) as exc:
            # Its code is stored: the next delivery adopts it instead of calling the model.
            logger.error("job %s: its record could not be finished: %s", job_id, exc)
            self._log(log, started, outcome="record-failed")
            return Delivery.AGAIN
        if finished:
            self._settle(job, result)
        self._log(log, started, outcome="succeeded" if finished else "lease-lost")
        return Delivery.DONE

    def _settle(self, job: Job, result: dict[str, Any]) -> None:
        """The job's reservation, settled to what its answer used (only the delivery that
        finished the job settles it)."""
        grant = grant_of(job.request)
        if grant is None or self.spend is None:
            return
        usage = result.get("usage") or {}
        self.spend.settle(
            grant,
            int(usage.get("input_tokens", 0)),
            int(usage.get("output_tokens", 0)),
            str(result.get("language", "")),
            str(result.get("model", "")),
        )

    def _release(self, job: Job) -> None:
        grant = grant_of(job.request)
        if grant is not None and self.spend is not None:
            self.spend.release(grant)

    def _adopted(
        self, request: GenerationRequest, job_id: str, log: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The job's result from its object, when an earlier delivery stored it but did not
        finish the record: no second generation."""
        result = stored_job_answer(self.producer.s3, self.settings, request, job_id)
        if result is not None:
            log.update(adopted=True, key=result["key"])
        return result

    @staticmethod
    def _result(request: GenerationRequest, produced: Produced) -> dict[str, Any]:
        """What the record keeps: where the code is, not the code (GET reads it from the
        object). Code that could not be stored is kept in the record if it fits."""
        result = answer_fields(request, produced.stored, produced.generated)
        if produced.stored is None:
            encoded = len(json.dumps(produced.code).encode("utf-8"))
            if encoded <= MAX_INLINE_CODE_BYTES:
                result["code"] = produced.code
                result["storage_error"] = produced.storage_error
            else:
                raise HttpError(
                    503,
                    "CodeNotStored",
                    "the code was generated but could not be stored; the job is tried again",
                )
        return result

    def _stop(
        self, job_id: str, attempt: str, error: JobError, retry: bool, last: bool
    ) -> Delivery:
        """Leave the job to the next delivery, or fail it (and its message, after the last
        delivery, goes to the dead-letter queue: an unexpected failure's always does)."""
        if retry:
            self.store.release(job_id, attempt)
            return Delivery.AGAIN
        self.store.fail(job_id, attempt, error)
        return Delivery.DEAD_LETTER if last else Delivery.DONE

    def _log(self, log: dict[str, Any], started: float, **fields: Any) -> None:
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        log_request(self.metrics, JOB_ROUTE, kind="job", latency_ms=latency_ms, **log, **fields)


def _outcome(stopped: Delivery) -> str:
    """The access log's word for an attempt that did not succeed."""
    return "retry" if stopped is Delivery.AGAIN else "failed"


def _job_id(body: Any) -> str | None:
    try:
        value = json.loads(body).get("job_id") if isinstance(body, str) else None
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None

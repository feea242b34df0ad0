"""Lambda's SQS pollers, for the local stage: each enabled SQS event source mapping Terraform
created in the emulator is run here, with the function's deployed zip in the runtime's workers.

As Lambda does: long-poll the queue for up to `BatchSize` messages (each receive counts toward
the queue's redrive policy, and moto moves a message past `maxReceiveCount` to the dead-letter
queue on receive); invoke the function synchronously with the batch as an SQS event; when it
succeeds, delete the messages it did not name in `batchItemFailures` (with
ReportBatchItemFailures; an answer that is not a valid one fails the whole batch), and when it
fails (an error, a crash, a timeout) delete none: they come back once their visibility timeout
runs out. At most `ScalingConfig.MaximumConcurrency` batches of one mapping run at once.

Each poller long-polls for 20 s, SQS's longest wait (SQS Developer Guide, "Setting-up long
polling", read 2026-12-06), as Lambda's pollers do: an idle queue costs one request per poller
every 20 s instead of one a second (a stack of 6 stages idled at a fifth of a core polling its
queues every second: 12 CPU-s a minute, now 1), and a send still wakes the poll at once.
"""

import asyncio
import contextlib
import hashlib
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local_stage.control_plane import ControlPlane, SqsMapping
from local_stage.runtime.invocation import InvokeResult
from local_stage.runtime.service import RuntimeService

logger = logging.getLogger(__name__)
LONG_POLL_S = 20  # each receive waits this long for a message (moto wakes it on a send)
# Connections the pollers' client keeps for calls at once: more than a stack has pollers.
_MAX_POLLS = 256
_CHECK_EVERY_S = 0.5  # how often the mappings are looked at (cached until they change)
_RESULT_GRACE_S = 5.0  # beyond the function's timeout, for its worker to report


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda sends a function for a batch of SQS messages."""
    records = []
    for message in messages:
        body = message.get("Body", "")
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": body,
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.get("DataType", "String"),
                    }
                    for name, value in (message.get("MessageAttributes") or {}).items()
                },
                "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


async def long_poll(sqs: Any, queue_url: str, batch_size: int, wait_s: int) -> list[dict]:
    """Up to `batch_size` messages of the queue, waiting up to `wait_s` for the first.

    The receive blocks a daemon thread of its own, so that nothing waits for it: a stopped stack
    exits at once, and a poll of a stopped poller does not hold a pool's thread. Messages that
    such an abandoned poll receives go back on the queue at once (visibility 0) instead of
    staying hidden for their visibility timeout."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[list[dict]] = loop.create_future()

    def settle(messages: list[dict], error: Exception | None) -> None:
        if answer.cancelled():
            if messages:
                threading.Thread(target=release, args=(messages,), daemon=True).start()
        elif error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(messages)

    def release(messages: list[dict]) -> None:
        with contextlib.suppress(Exception):  # if it fails, they come back after their timeout
            sqs.change_message_visibility_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for index, m in enumerate(messages)
                ],
            )

    def receive() -> None:
        messages: list[dict] = []
        error: Exception | None = None
        try:
            messages = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=batch_size,
                WaitTimeSeconds=wait_s,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        except Exception as exc:
            error = exc
        # (If the loop is closed, the stack stopped while this poll waited.)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, messages, error)

    threading.Thread(target=receive, name="sqs-long-poll", daemon=True).start()
    return await answer


def to_retry(result: InvokeResult | None, message_ids: list[str], report: bool) -> set[str]:
    """The messages of a batch that stay on the queue after this result of its invocation."""
    if result is None or not result.ok:
        return set(message_ids)
    if not report:
        return set()
    try:
        answer = json.loads(result.payload or b"null")
    except ValueError:
        return set(message_ids)
    if answer is None or answer == {}:
        return set()
    failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(message_ids)
    named = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in message_ids:
            return set(message_ids)  # as Lambda: an unknown or empty id fails the batch
        named.add(identifier)
    return named


class EventSourcePollers:
    """Runs every enabled SQS mapping; follows them as Terraform changes them."""

    def __init__(
        self, control: ControlPlane, runtime: RuntimeService, max_concurrency: int
    ) -> None:
        self.region = control.region
        self._sqs = control.client(
            "sqs", read_timeout=LONG_POLL_S + 10, max_pool_connections=_MAX_POLLS
        )
        self._control = control
        self._runtime = runtime
        self._max_concurrency = max_concurrency
        # The other calls (short) block a thread each: their own pool, not the loop's default.
        self._threads = ThreadPoolExecutor(max_workers=16, thread_name_prefix="sqs-poller")
        self._running: dict[SqsMapping, list[asyncio.Task[None]]] = {}
        self._watcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        tasks = [self._watcher] if self._watcher else []
        for pollers in self._running.values():
            tasks.extend(pollers)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._running.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)

    def polled_queues(self) -> dict[str, str]:
        """Each polled queue's ARN and the function it feeds (the console's health view)."""
        return {mapping.queue_arn: mapping.function_name for mapping in self._running}

    async def _call(self, function: Any, **arguments: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, lambda: function(**arguments))

    async def _watch(self) -> None:
        """Follow the mappings: the control plane answers from its cache until the emulator's
        configuration changes, so looking often costs nothing."""
        while True:
            try:
                wanted = await self._call(
                    self._control.sqs_mappings, default_concurrency=self._max_concurrency
                )
                self._reconcile(set(wanted))
            except Exception:
                logger.exception("cannot read the event source mappings")
            await asyncio.sleep(_CHECK_EVERY_S)

    def _reconcile(self, wanted: set[SqsMapping]) -> None:
        for mapping in set(self._running) - wanted:
            logger.info("stopping the pollers of %s", mapping.queue_arn)
            for task in self._running.pop(mapping):
                task.cancel()
        for mapping in wanted - set(self._running):
            count = max(1, min(mapping.max_concurrency, self._max_concurrency))
            logger.info(
                "polling %s for %s (%d at once)", mapping.queue_arn, mapping.function_name, count
            )
            loop = asyncio.get_running_loop()
            self._running[mapping] = [loop.create_task(self._poll(mapping)) for _ in range(count)]

    async def _poll(self, mapping: SqsMapping) -> None:
        queue_url = None
        while True:
            try:
                if queue_url is None:
                    name = mapping.queue_arn.rsplit(":", 1)[-1]
                    queue_url = (await self._call(self._sqs.get_queue_url, QueueName=name))[
                        "QueueUrl"
                    ]
                await self._one_batch(mapping, queue_url)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("polling %s failed; trying again", mapping.queue_arn)
                queue_url = None
                await asyncio.sleep(1.0)

    async def _one_batch(self, mapping: SqsMapping, queue_url: str) -> None:
        messages = await long_poll(self._sqs, queue_url, mapping.batch_size, LONG_POLL_S)
        if not messages:
            return
        function = self._control.function(mapping.function_name)
        if function is None:
            logger.error("mapping %s names no function %s", mapping.uuid, mapping.function_name)
            return  # the messages come back after their visibility timeout
        event = sqs_event(messages, mapping.queue_arn, self.region)
        result = await self._runtime.invoke(
            function, json.dumps(event).encode(), function.timeout + _RESULT_GRACE_S
        )
        ids = [message["MessageId"] for message in messages]
        keep = to_retry(result, ids, mapping.report_batch_item_failures)
        done = [m for m in messages if m["MessageId"] not in keep]
        if done:
            await self._call(
                self._sqs.delete_message_batch,
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done)
                ],
            )
        if keep:
            logger.info("%d of %d messages stay on %s", len(keep), len(ids), mapping.queue_arn)

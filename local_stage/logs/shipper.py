"""Ships the local stage's log lines to the emulator's CloudWatch Logs, where AWS keeps them:
a function's output under `/aws/lambda/<function>` in one stream per worker (Lambda's stream
names), the gateway's access log in the stage's access-log group. EMF lines also become
metrics (local_stage.logs.emf), as CloudWatch Logs makes them on AWS.

Lines are queued by the caller (never blocking an invocation) and sent by one thread in
batches a few times a second; so `aws logs filter-log-events` and `invoke logs` read the
local stage as they read AWS.
"""

import logging
import queue
import secrets
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from local_stage.contract import DEFAULT_CREDENTIALS
from local_stage.logs.emf import metric_data, put_metric_data

logger = logging.getLogger(__name__)
FLUSH_EVERY_S = 0.2
_MAX_BATCH = 1000  # events per PutLogEvents call (AWS allows 10,000; moto is slower per call)


def lambda_stream_name(now: float | None = None) -> str:
    """A new execution environment's stream: `YYYY/MM/DD/[$LATEST]<32 hex>`, as Lambda names it."""
    day = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC)
    return f"{day:%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}"


def function_log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def group_of(destination_arn: str) -> str:
    """The log group an access-log destination ARN names (`...:log-group:NAME[:*]`)."""
    name = destination_arn.split(":log-group:", 1)[-1]
    return name.removesuffix(":*")


class LogShipper:
    def __init__(
        self, emulator_url: str, region: str, credentials: tuple[str, str] = DEFAULT_CREDENTIALS
    ) -> None:
        config = Config(retries={"max_attempts": 2, "mode": "standard"}, read_timeout=10)
        session = boto3.session.Session(
            aws_access_key_id=credentials[0],
            aws_secret_access_key=credentials[1],
            region_name=region,
        )
        self._logs = session.client("logs", endpoint_url=emulator_url, config=config)
        self._cloudwatch = session.client("cloudwatch", endpoint_url=emulator_url, config=config)
        self._lines: queue.SimpleQueue[tuple[str, str, int, str] | None] = queue.SimpleQueue()
        self._streams: set[tuple[str, str]] = set()
        self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)
        self._pending = 0  # lines queued and not yet sent (or given up on)
        self._sent = threading.Condition()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Send what is queued, then end."""
        self._lines.put(None)
        self._thread.join(timeout=10)

    def put(self, group: str, stream: str, message: str, timestamp_ms: int | None = None) -> None:
        stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        with self._sent:
            self._pending += 1
        self._lines.put((group, stream, stamp, message))

    def flushed(self, timeout_s: float) -> bool:
        """Whether everything queued so far has been sent within `timeout_s`."""
        with self._sent:
            return self._sent.wait_for(lambda: self._pending == 0, timeout_s)

    # -- the thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        ending = False
        while not ending:
            batch: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
            item = self._lines.get()
            deadline = time.monotonic() + FLUSH_EVERY_S
            while True:
                if item is None:
                    ending = True
                    break
                group, stream, stamp, message = item
                batch[(group, stream)].append({"timestamp": stamp, "message": message})
                left = deadline - time.monotonic()
                try:
                    item = self._lines.get(timeout=left) if left > 0 else self._lines.get_nowait()
                except queue.Empty:
                    break
            for (group, stream), events in batch.items():
                self._send(group, stream, events)
                with self._sent:
                    self._pending -= len(events)
                    self._sent.notify_all()

    def _send(self, group: str, stream: str, events: list[dict[str, Any]]) -> None:
        try:
            self._ensure_stream(group, stream)
            events.sort(key=lambda event: event["timestamp"])  # PutLogEvents wants them in order
            for start in range(0, len(events), _MAX_BATCH):
                self._logs.put_log_events(
                    logGroupName=group,
                    logStreamName=stream,
                    logEvents=events[start : start + _MAX_BATCH],
                )
            for event in events:
                data = metric_data(event["message"])
                if data:
                    put_metric_data(self._cloudwatch, data)
        except (BotoCoreError, ClientError) as exc:
            # The emulator is going away, or its state was reset: the lines stay in the files.
            logger.warning("could not ship %d log lines to %s: %s", len(events), group, exc)
            self._streams.discard((group, stream))

    def _ensure_stream(self, group: str, stream: str) -> None:
        if (group, stream) in self._streams:
            return
        for create, arguments in (
            (self._logs.create_log_group, {"logGroupName": group}),  # as Lambda does, if missing
            (self._logs.create_log_stream, {"logGroupName": group, "logStreamName": stream}),
        ):
            try:
                create(**arguments)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                    raise
        self._streams.add((group, stream))

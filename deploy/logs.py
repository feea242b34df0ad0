"""One stage's logs as one time-ordered view: the API function, the job worker and the API's
access log, each line tagged with where it came from (`invoke logs`).

Read through CloudWatch Logs' own API, so the same code reads AWS and the local stage (which
writes its logs where AWS would). `FilterLogEvents` shares 5 requests/s per account and
Region: throttled calls back off and are retried. A follow polls from the last line seen,
a little before it, and drops the events it already showed by their event id (as the AWS CLI
does) rather than skipping a millisecond and losing lines; on AWS it first tries a
`StartLiveTail` session (pushed lines, up to 10 groups, 3 hours), and polls once it ends.

A request's lines: `--request-id` (API Gateway's or Lambda's id) or `--job-id` finds the lines
that name it, then every line of the invocations and requests those lines belong to: from the
access log's line to the function's START ... REPORT, and for a job its worker's deliveries.
"""

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from layer_builder.errors import UserError

DEFAULT_SINCE = "10m"
FOLLOW_EVERY_S = 1.0
MAX_PATTERN_CHARS = 1024  # CloudWatch Logs' limit on a filter pattern
FOLLOW_OVERLAP_MS = 5_000  # lines may arrive a little late: look back this far on each poll
_THROTTLED = {"ThrottlingException", "TooManyRequestsException", "LimitExceededException"}
_MAX_BACKOFF_S = 8.0
_LAMBDA_LINE = re.compile(r"^(?:START|END|REPORT) RequestId: ([0-9a-fA-F-]{8,})")
_RUNTIME_LINE = re.compile(r"^\[[A-Z]+\]\t\S+\t([0-9a-fA-F-]{8,})\t")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
FUNCTIONS = ("api", "jobs", "worker", "all")


class LogsError(UserError):
    """Logs could not be read as asked."""


@dataclass(frozen=True)
class LogSource:
    tag: str  # what the line is tagged with: api, worker, access
    group: str


@dataclass(frozen=True, order=True)
class LogLine:
    timestamp_ms: int
    source: str
    stream: str
    event_id: str
    message: str = field(compare=False)

    def ids(self) -> set[str]:
        """The request, invocation and job ids this line names."""
        found: set[str] = set()
        for pattern in (_LAMBDA_LINE, _RUNTIME_LINE):
            match = pattern.match(self.message)
            if match:
                found.add(match.group(1))
        record = _json(self.message)
        for name in ("request_id", "api_request_id", "requestId", "job_id"):
            value = record.get(name)
            if isinstance(value, str) and value:
                found.add(value)
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "time": _iso(self.timestamp_ms),
            "source": self.source,
            "stream": self.stream,
            "event_id": self.event_id,
            "message": self.message,
        }

    def as_text(self) -> str:
        return f"{_iso(self.timestamp_ms)} {self.source:<6} {self.message}"


def sources(outputs: Mapping[str, Any], function: str) -> list[LogSource]:
    """The log groups `--function` names: the API's (its function and access log), the job
    routes' function's, the worker's, or all of them."""
    if function not in FUNCTIONS:
        raise LogsError(f"--function must be one of {', '.join(FUNCTIONS)}, not {function!r}")
    chosen = []
    if function in ("api", "all"):
        chosen += [LogSource("api", outputs["function_log_group"])]
        chosen += [LogSource("access", outputs["access_log_group"])]
    if function in ("jobs", "all") and outputs.get("jobs_function_log_group"):
        chosen += [LogSource("jobs", outputs["jobs_function_log_group"])]
    if function in ("worker", "all") and outputs.get("worker_log_group"):
        chosen += [LogSource("worker", outputs["worker_log_group"])]
    return chosen


def parse_since(text: str, now: float | None = None) -> int:
    """`10m`, `2h`, `30s`, `1d` ago, or an ISO 8601 time (UTC unless it says), in epoch ms."""
    now = time.time() if now is None else now
    match = _DURATION.match(text.strip())
    if match:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
        return int((now - float(match.group(1)) * unit) * 1000)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise LogsError(
            f"--since {text!r} is neither a duration (10m, 2h, 30s, 1d) nor an ISO time "
            "(2026-12-01T09:30:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class LogReader:
    def __init__(
        self,
        client: Any,
        chosen: list[LogSource],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.sources = chosen
        self.sleep = sleep
        self.clock = clock

    # -- reading a window ---------------------------------------------------------------------
    def read(
        self, start_ms: int, end_ms: int | None = None, text: str | None = None
    ) -> list[LogLine]:
        """Every line from `start_ms` (to `end_ms`) holding `text`, merged in time order."""
        pattern = _quoted(text) if text else None
        lines = [
            line
            for source in self.sources
            for line in self._filter(source, start_ms, end_ms, pattern)
            if text is None or text in line.message
        ]
        return sorted(set(lines))

    def related(self, start_ms: int, end_ms: int | None, wanted: str) -> list[LogLine]:
        """The lines of the requests, invocations and jobs that name `wanted`."""
        ids = {wanted}
        seeds = self.read(start_ms, end_ms, wanted)
        for line in seeds:
            ids |= line.ids()
        if ids == {wanted}:
            return seeds
        lines = {
            line
            for pattern in any_of(sorted(ids))
            for source in self.sources
            for line in self._filter(source, start_ms, end_ms, pattern)
            if line.ids() & ids or any(one in line.message for one in ids)
        }
        return sorted(lines | set(seeds))

    # -- following ----------------------------------------------------------------------------
    def follow(
        self,
        start_ms: int,
        text: str | None = None,
        *,
        live_tail: bool = True,
        until: Callable[[], bool] = lambda: False,
    ) -> Iterator[LogLine]:
        """Lines as they arrive, from `start_ms`, until `until()` says stop. Polled lines are
        told apart by event id; a live tail's lines (which carry none) by time, stream and
        text, so a line is shown once whichever way it came."""
        seen = _Shown()
        newest = start_ms
        for line in self.read(start_ms, None, text):
            if seen.polled(line):
                newest = max(newest, line.timestamp_ms)
                yield line
        if live_tail:
            for line in self._live_tail(text, until):
                if seen.pushed(line):
                    newest = max(newest, line.timestamp_ms)
                    yield line
        while not until():
            self.sleep(FOLLOW_EVERY_S)
            for line in self.read(newest - FOLLOW_OVERLAP_MS, None, text):
                if seen.polled(line):
                    newest = max(newest, line.timestamp_ms)
                    yield line
            seen.forget_before(newest - 2 * FOLLOW_OVERLAP_MS)

    def _live_tail(self, text: str | None, until: Callable[[], bool]) -> Iterator[LogLine]:
        """A StartLiveTail session's lines while it lasts; nothing when it cannot start (no
        permission, not offered): the caller polls instead."""
        tags = {}
        for source in self.sources[:10]:
            tags[self._group_arn(source.group)] = source.tag
        try:
            arguments: dict[str, Any] = {"logGroupIdentifiers": list(tags)}
            if text:
                arguments["logEventFilterPattern"] = _quoted(text)
            stream = self.client.start_live_tail(**arguments)["responseStream"]
            for event in stream:
                for result in event.get("sessionUpdate", {}).get("sessionResults", []):
                    identifier = result.get("logGroupIdentifier", "")
                    tag = tags.get(identifier) or tags.get(self._group_arn(identifier), "?")
                    message = str(result.get("message", "")).rstrip("\n")
                    if text is None or text in message:
                        yield LogLine(
                            int(result.get("timestamp", 0)),
                            tag,
                            str(result.get("logStreamName", "")),
                            "",  # a live tail's results carry no event id
                            message,
                        )
                if until():
                    return
        except (BotoCoreError, ClientError, KeyError, AttributeError):
            return

    def _group_arn(self, group: str) -> str:
        if group.startswith("arn:"):
            return group.removesuffix(":*")
        found = self._call(self.client.describe_log_groups, logGroupNamePrefix=group, limit=1).get(
            "logGroups", []
        )
        arn = found[0]["arn"] if found and found[0]["logGroupName"] == group else group
        return str(arn).removesuffix(":*")

    # -- the API ------------------------------------------------------------------------------
    def _filter(
        self, source: LogSource, start_ms: int, end_ms: int | None, pattern: str | None
    ) -> Iterable[LogLine]:
        arguments: dict[str, Any] = {"logGroupName": source.group, "startTime": start_ms}
        if end_ms is not None:
            arguments["endTime"] = end_ms
        if pattern:
            arguments["filterPattern"] = pattern
        while True:
            try:
                page = self._call(self.client.filter_log_events, **arguments)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                    return  # not created yet: no line has been written to it
                raise LogsError(f"could not read {source.group}: {exc}") from exc
            for event in page.get("events", []):
                yield LogLine(
                    int(event["timestamp"]),
                    source.tag,
                    str(event.get("logStreamName", "")),
                    str(event.get("eventId", "")),
                    str(event.get("message", "")).rstrip("\n"),
                )
            token = page.get("nextToken")
            if not token:
                return
            arguments["nextToken"] = token

    def _call(self, method: Callable[..., dict[str, Any]], **arguments: Any) -> dict[str, Any]:
        """The call, retried with a growing pause while CloudWatch Logs throttles it."""
        pause = 0.5
        while True:
            try:
                return method(**arguments)
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in _THROTTLED or pause > _MAX_BACKOFF_S:
                    raise
            self.sleep(pause)
            pause *= 2


class _Shown:
    """The lines a follow has shown: polled ones by event id, and every one by its content
    (time, stream, text) to match a live tail's lines with polled ones."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}  # event id -> its time
        self.by_poll: Counter[tuple[int, str, str]] = Counter()
        self.by_push: Counter[tuple[int, str, str]] = Counter()

    def polled(self, line: LogLine) -> bool:
        """Whether a polled line is new (and now shown)."""
        if line.event_id in self.ids:
            return False
        self.ids[line.event_id] = line.timestamp_ms
        key = (line.timestamp_ms, line.stream, line.message)
        if self.by_push[key] > 0:
            self.by_push[key] -= 1  # the live tail showed this one
            return False
        self.by_poll[key] += 1
        return True

    def pushed(self, line: LogLine) -> bool:
        """Whether a live tail's line is new (and now shown)."""
        key = (line.timestamp_ms, line.stream, line.message)
        if self.by_poll[key] > 0:
            self.by_poll[key] -= 1
            return False
        self.by_push[key] += 1
        return True

    def forget_before(self, horizon_ms: int) -> None:
        self.ids = {event: stamp for event, stamp in self.ids.items() if stamp >= horizon_ms}
        for counter in (self.by_poll, self.by_push):
            for key in [key for key in counter if key[0] < horizon_ms]:
                del counter[key]


def render(lines: Iterable[LogLine], as_json: bool) -> Iterator[str]:
    for line in lines:
        yield json.dumps(line.as_json()) if as_json else line.as_text()


def any_of(terms: list[str]) -> list[str]:
    """Filter patterns (`?"a" ?"b" ...`) that together match a line holding any of `terms`,
    each within CloudWatch Logs' 1,024 characters (a job polled for long has many ids)."""
    patterns: list[str] = []
    current = ""
    for term in terms:
        part = f"?{_quoted(term)}"
        if current and len(current) + 1 + len(part) > MAX_PATTERN_CHARS:
            patterns.append(current)
            current = ""
        current = f"{current} {part}" if current else part
    return [*patterns, current] if current else patterns


def _quoted(text: str) -> str:
    """A filter-pattern term that matches `text` exactly (a quoted phrase)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json(message: str) -> dict[str, Any]:
    if not message.startswith("{"):
        return {}
    try:
        value = json.loads(message)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _iso(timestamp_ms: int) -> str:
    moment = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

"""`invoke usage`: who used how many tokens and dollars on a stage, read from its spend table
(lambda/codegen/spend), not from its logs: per caller (its owner id and the ARN it last called
with), day, language or model, top spenders first.

The table holds, per caller, one item per day and one per day, language and model; a report
reads the days of the window (one Scan of the table, whose size is callers x days kept, a few
kilobytes a caller a day). The same code reads AWS and the local stage.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from layer_builder.errors import UserError

BY = ("caller", "day", "language", "model")
_SINCE = re.compile(r"^(\d+)([hdw])$")
_DETAIL = re.compile(r"^day#(\d{4}-\d{2}-\d{2})#(?P<language>[^#]*)#(?P<model>.*)$")
MICRO = 1_000_000


@dataclass
class UsageRow:
    key: str  # the caller's owner id, the day, the language or the model
    arn: str = ""  # for a caller: the ARN it last called with
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "arn": self.arn,
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 6),
        }


def since_start(since: str, now: datetime) -> datetime:
    """The window's first day: `7d`, `2w`, `12h`, or an ISO date; UserError otherwise."""
    match = _SINCE.match(since.strip())
    if match:
        amount, unit = int(match[1]), match[2]
        delta = {
            "h": timedelta(hours=amount),
            "d": timedelta(days=amount),
            "w": timedelta(weeks=amount),
        }
        return now - delta[unit]
    try:
        start = datetime.fromisoformat(since)
    except ValueError:
        raise UserError(
            f"--since {since!r} is not a window: give 7d, 2w, 12h or a date such as 2026-12-01"
        ) from None
    return start if start.tzinfo else start.replace(tzinfo=UTC)


def read_usage(dynamodb: Any, table: str, *, start: datetime, by: str = "caller") -> list[UsageRow]:
    """The window's use, grouped `by` caller, day, language or model, top spenders first."""
    if by not in BY:
        raise UserError(f"--by {by!r}: group by one of {', '.join(BY)}")
    first_day = start.astimezone(UTC).strftime("%Y-%m-%d")
    rows: dict[str, UsageRow] = {}
    for item in _scan(dynamodb, table):
        detail = _DETAIL.match(item["period"]["S"])
        if detail is None or detail[1] < first_day:
            continue
        caller = item["caller"]["S"]
        key = {
            "caller": caller,
            "day": detail[1],
            "language": detail["language"],
            "model": detail["model"],
        }[by]
        row = rows.setdefault(key, UsageRow(key))
        if by == "caller":
            row.arn = item.get("caller_arn", {}).get("S", row.arn)
        row.requests += _int(item, "requests")
        row.input_tokens += _int(item, "input_tokens")
        row.output_tokens += _int(item, "output_tokens")
        row.cost_usd += _int(item, "used_micro") / MICRO
    order: Callable[[UsageRow], Any] = (
        (lambda row: row.key)
        if by == "day"
        else (lambda row: (-row.cost_usd, -row.tokens, row.key))
    )
    return sorted(rows.values(), key=order)


def top_callers_today(dynamodb: Any, table: str, now: datetime, count: int = 3) -> list[UsageRow]:
    """The day's top spenders (what `invoke status` shows)."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return read_usage(dynamodb, table, start=today, by="caller")[:count]


def render(rows: list[UsageRow], by: str, start: datetime) -> str:
    if not rows:
        return f"no use recorded since {start:%Y-%m-%d} (UTC)"
    header = f"{by:<28} {'requests':>9} {'input':>10} {'output':>10} {'cost (USD)':>11}"
    lines = [f"use since {start:%Y-%m-%d} (UTC), by {by}", header]
    for row in rows:
        lines.append(
            f"{row.key:<28} {row.requests:>9} {row.input_tokens:>10} {row.output_tokens:>10} "
            f"{row.cost_usd:>11.4f}"
        )
        if row.arn and row.arn != row.key:
            lines.append(f"  {row.arn}")
    total = UsageRow("total")
    for row in rows:
        total.requests += row.requests
        total.input_tokens += row.input_tokens
        total.output_tokens += row.output_tokens
        total.cost_usd += row.cost_usd
    lines.append(
        f"{'total':<28} {total.requests:>9} {total.input_tokens:>10} {total.output_tokens:>10} "
        f"{total.cost_usd:>11.4f}"
    )
    return "\n".join(lines)


def _scan(dynamodb: Any, table: str) -> Any:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        yield from page.get("Items", [])


def _int(item: Mapping[str, Any], name: str) -> int:
    return int(item.get(name, {}).get("N", "0"))

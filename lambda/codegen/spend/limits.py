"""Budgets and the periods they count over.

A budget is a map of limits, any of: `tokens_per_day`, `tokens_per_month` (input and output
tokens together), `usd_per_day`, `usd_per_month` (the stage's prices: the model's estimated
cost). The stage's default applies to every caller without an override; an override names a
caller by its owner id (`ACCOUNT:AIDA…`) or a role's ARN (every session of that role).
Periods are UTC days and months; a period's counters reset when the next one begins.
"""

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from codegen.http.errors import HttpError

KINDS = ("tokens_per_day", "tokens_per_month", "usd_per_day", "usd_per_month")
MICRO = 1_000_000  # costs are counted in micro-dollars: whole numbers add exactly


@dataclass(frozen=True)
class Period:
    """One counting period: its key in the table and when it ends."""

    name: str  # "day" or "month"
    key: str  # the table's sort key: day#2026-12-07, month#2026-12
    ends: datetime  # when its counters reset

    def seconds_left(self, now: datetime) -> int:
        return max(1, math.ceil((self.ends - now).total_seconds()))


def periods(now: datetime) -> dict[str, Period]:
    """The day and the month `now` is in (UTC)."""
    now = now.astimezone(UTC)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    next_month = (day_start.replace(day=1) + timedelta(days=32)).replace(day=1)
    return {
        "day": Period("day", f"day#{now:%Y-%m-%d}", day_start + timedelta(days=1)),
        "month": Period("month", f"month#{now:%Y-%m}", next_month),
    }


@dataclass(frozen=True)
class Limits:
    """A caller's budget: per period, the most tokens and micro-dollars (None: no limit)."""

    tokens: Mapping[str, int | None]  # by period name
    micro_usd: Mapping[str, int | None]

    @property
    def any(self) -> bool:
        return any(v is not None for v in (*self.tokens.values(), *self.micro_usd.values()))

    def periods_limited(self) -> list[str]:
        return [
            name
            for name in ("day", "month")
            if self.tokens[name] is not None or self.micro_usd[name] is not None
        ]

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        for name in ("day", "month"):
            if self.tokens[name] is not None:
                shown[f"tokens_per_{name}"] = self.tokens[name]
            if self.micro_usd[name] is not None:
                shown[f"usd_per_{name}"] = self.micro_usd[name] / MICRO
        return shown


NO_LIMITS = Limits({"day": None, "month": None}, {"day": None, "month": None})


def parse_limits(value: Any, where: str) -> Limits:
    """A budget from its JSON form (the stage file's, as Terraform passes it); ValueError
    naming `where` and the fault when it is not one. Terraform refuses the same faults first."""
    if value is None:
        return NO_LIMITS
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValueError(f"{where}: not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError(
            f'{where}: a budget is an object of limits, e.g. {{"tokens_per_day": 100000}}'
        )
    unknown = sorted(set(value) - set(KINDS))
    if unknown:
        raise ValueError(f"{where}: unknown limits {unknown}; a budget takes {list(KINDS)}")
    tokens: dict[str, int | None] = {"day": None, "month": None}
    micro: dict[str, int | None] = {"day": None, "month": None}
    for kind, limit in value.items():
        if limit is None:
            continue
        if isinstance(limit, bool) or not isinstance(limit, int | float) or limit < 0:
            raise ValueError(f"{where}: {kind} must be a number at least 0, not {limit!r}")
        period = kind.rsplit("_", 1)[1]
        if kind.startswith("tokens"):
            tokens[period] = int(limit)
        else:
            micro[period] = math.floor(limit * MICRO)
    return Limits(tokens, micro)


def budget_exceeded(period: Period, now: datetime, left: dict[str, Any]) -> HttpError:
    """429 before any model call: the caller has nothing left in `period`; Retry-After is
    when the period resets, and the answer says what is left in each limit."""
    resets = f"{period.ends:%Y-%m-%dT%H:%M:%SZ}"
    return HttpError(
        429,
        "BudgetExceeded",
        f"this caller's budget for the {period.name} is spent; it resets at {resets}",
        {"left": left, "period": period.name, "resets_at": resets},
        {"Retry-After": str(period.seconds_left(now))},
    )

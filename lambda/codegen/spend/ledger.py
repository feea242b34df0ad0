"""The spend table: per caller and period, what was used and what is reserved, kept so that a
budget holds before the model is called.

Items (partition key `caller`, sort key `period`):
- `day#2026-12-07`, `month#2026-12`: the counters a budget reads. `committed_tokens` and
  `committed_micro` are what was used plus what in-flight requests reserved; a reservation is
  one conditional write per period (`committed <= limit - wanted`), both periods in one
  transaction, so concurrent requests of one caller can never commit more than the limit.
  Settling adds what was used and takes back what was reserved.
- `day#2026-12-07#<language>#<model>`: what `invoke usage --by language|model` reads.
- `budget`: a caller's override of the stage's default budget, written by Terraform.
Every counter item expires (TTL `expires_at`) the stage's retention after its period ends.

A table that cannot be read or written fails the request closed (503) before any model call.
"""

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from codegen.http.errors import HttpError
from codegen.spend.limits import (
    MICRO,
    Limits,
    Period,
    budget_exceeded,
    parse_limits,
    periods,
)

logger = logging.getLogger(__name__)
BUDGET_ITEM = "budget"
_RETRIES = 3  # a reservation lost to a concurrent one is tried again with what is left
# A reservation of :t tokens and :m micro-dollars (negative: given back).
_RESERVE = "ADD committed_tokens :t, committed_micro :m, reserved_tokens :t"


@dataclass(frozen=True)
class Prices:
    """The stage's prices, USD per 1,000 tokens (0 on `local`)."""

    input_per_1000: float
    output_per_1000: float

    def micro(self, input_tokens: int, output_tokens: int) -> int:
        """The estimated cost in micro-dollars, rounded up: a budget is never undercounted."""
        usd = (
            input_tokens * self.input_per_1000 / 1000 + output_tokens * self.output_per_1000 / 1000
        )
        return math.ceil(usd * MICRO - 1e-9)


@dataclass(frozen=True)
class Grant:
    """What a request may use, reserved in its periods: settled when it ends, released if it
    fails. A caller without a budget reserves nothing (its use is still recorded)."""

    caller: str
    caller_arn: str
    period_keys: dict[str, str]  # period name -> its item's sort key, as reserved
    max_tokens: int  # the request's output tokens, capped to what is left
    capped: bool
    reserved_tokens: int = 0
    reserved_micro: int = 0
    limits: dict[str, Any] = field(default_factory=dict)  # the caller's budget, as shown

    def record(self) -> dict[str, Any]:
        """What a job's record keeps of its grant, to settle it at the job's end."""
        return {
            "caller": self.caller,
            "caller_arn": self.caller_arn,
            "period_keys": self.period_keys,
            "max_tokens": self.max_tokens,
            "capped": self.capped,
            "reserved_tokens": self.reserved_tokens,
            "reserved_micro": self.reserved_micro,
            "limits": self.limits,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Grant":
        return cls(**record)

    def answer_field(self) -> dict[str, Any] | None:
        """What the answer says of the budget, when one applies."""
        if not self.limits:
            return None
        return {"limits": self.limits, "max_tokens": self.max_tokens, "capped": self.capped}


def _unavailable(exc: Exception) -> HttpError:
    logger.error("the spend table cannot be reached: %s", exc)
    return HttpError(
        503,
        "SpendUnavailable",
        "the service cannot check this caller's budget right now; try again shortly",
        {},
        {"Retry-After": "2"},
    )


def grant_of(request_record: dict[str, Any]) -> Grant | None:
    """A job's reservation, as its request record keeps it (None for a job without one)."""
    record = request_record.get("spend")
    return Grant.from_record(record) if isinstance(record, dict) else None


class SpendLedger:
    def __init__(
        self,
        dynamodb: Any,
        table: str,
        prices: Prices,
        default_limits: Limits,
        retention_days: int,
        *,
        alert_share: float = 0.8,
        notify: Callable[[str, str], None] = lambda subject, message: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.prices = prices
        self.default_limits = default_limits
        self.retention_days = retention_days
        self.alert_share = alert_share
        self.notify = notify
        self.clock = clock

    # -- before the model ----------------------------------------------------------------
    def reserve(self, caller: str, caller_arn: str, input_estimate: int, max_tokens: int) -> Grant:
        """Reserve what a request may use: `input_estimate` (an upper bound of its input
        tokens) and `max_tokens`, capped to what is left. 429 BudgetExceeded when nothing is
        left, 503 when the table cannot be reached: both before any model call."""
        now = self.clock()
        current = periods(now)
        keys = {name: period.key for name, period in current.items()}
        try:
            limits = self._limits(caller, caller_arn)
            if not limits.any:
                return Grant(caller, caller_arn, keys, max_tokens, False)
            wanted = max_tokens
            for _ in range(_RETRIES):
                tokens = input_estimate + wanted
                micro = self.prices.micro(input_estimate, wanted)
                if self._try_reserve(caller, limits, current, tokens, micro):
                    return Grant(
                        caller,
                        caller_arn,
                        keys,
                        wanted,
                        wanted < max_tokens,
                        tokens,
                        micro,
                        limits.as_dict(),
                    )
                left = self._left(caller, limits, current)
                wanted = min(wanted, self._affordable(left, input_estimate))
                if wanted < 1:
                    exhausted = self._exhausted(left, current, input_estimate)
                    raise budget_exceeded(exhausted, now, self._shown(left))
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from None
        # Still losing to concurrent reservations after every try: as good as spent.
        raise budget_exceeded(current["day"], now, {})

    def _limits(self, caller: str, caller_arn: str) -> Limits:
        """The caller's override (by owner id, else by its role's ARN), else the default."""
        names = [caller] + ([role_arn(caller_arn)] if role_arn(caller_arn) else [])
        answer = self.dynamodb.batch_get_item(
            RequestItems={
                self.table: {
                    "Keys": [
                        {"caller": {"S": name}, "period": {"S": BUDGET_ITEM}} for name in names
                    ],
                    "ConsistentRead": True,
                }
            }
        )
        found = {item["caller"]["S"]: item for item in answer["Responses"].get(self.table, [])}
        for name in names:
            if name in found:
                return parse_limits(found[name]["limits"]["S"], f"the budget of {name}")
        return self.default_limits

    def _try_reserve(
        self, caller: str, limits: Limits, current: dict[str, Period], tokens: int, micro: int
    ) -> bool:
        items = []
        for name in limits.periods_limited():
            period = current[name]
            conditions, values = [], {":t": {"N": str(tokens)}, ":m": {"N": str(micro)}}
            if limits.tokens[name] is not None:
                conditions.append(
                    "(attribute_not_exists(committed_tokens) OR committed_tokens <= :tokens_room)"
                )
                values[":tokens_room"] = {"N": str(limits.tokens[name] - tokens)}
            if limits.micro_usd[name] is not None:
                conditions.append(
                    "(attribute_not_exists(committed_micro) OR committed_micro <= :micro_room)"
                )
                values[":micro_room"] = {"N": str(limits.micro_usd[name] - micro)}
            if any(int(v["N"]) < 0 for k, v in values.items() if k.endswith("room")):
                return False  # more than the whole budget: never fits
            values[":exp"] = {"N": str(self._expiry(period))}
            items.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {"caller": {"S": caller}, "period": {"S": period.key}},
                        "UpdateExpression": _RESERVE
                        + " SET expires_at = if_not_exists(expires_at, :exp)",
                        "ConditionExpression": " AND ".join(conditions),
                        "ExpressionAttributeValues": values,
                    }
                }
            )
        try:
            self.dynamodb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return False
            raise
        return True

    def _left(
        self, caller: str, limits: Limits, current: dict[str, Period]
    ) -> dict[str, dict[str, int]]:
        """What is left in each limited period: tokens and micro-dollars (None: no limit)."""
        left: dict[str, dict[str, int]] = {}
        for name in limits.periods_limited():
            item = self.dynamodb.get_item(
                TableName=self.table,
                Key={"caller": {"S": caller}, "period": {"S": current[name].key}},
                ConsistentRead=True,
            ).get("Item", {})
            used_tokens = int(item.get("committed_tokens", {}).get("N", "0"))
            used_micro = int(item.get("committed_micro", {}).get("N", "0"))
            entry = {}
            if limits.tokens[name] is not None:
                entry["tokens"] = max(0, limits.tokens[name] - used_tokens)
            if limits.micro_usd[name] is not None:
                entry["micro"] = max(0, limits.micro_usd[name] - used_micro)
            left[name] = entry
        return left

    def _affordable(self, left: dict[str, dict[str, int]], input_estimate: int) -> int:
        """The most output tokens that fit in what is left, after the input."""
        fits = []
        for entry in left.values():
            if "tokens" in entry:
                fits.append(entry["tokens"] - input_estimate)
            if "micro" in entry and self.prices.output_per_1000 > 0:
                room = entry["micro"] - self.prices.micro(input_estimate, 0)
                fits.append(math.floor(room / (self.prices.output_per_1000 / 1000 * MICRO)))
        return min(fits) if fits else 0

    def _exhausted(
        self, left: dict[str, dict[str, int]], current: dict[str, Period], input_estimate: int
    ) -> Period:
        """The period whose reset frees the caller: the month when it cannot hold the
        request's input any more, else the day."""
        month = left.get("month")
        if month is not None and self._affordable({"month": month}, input_estimate) < 1:
            return current["month"]
        return current["day"] if "day" in left else current["month"]

    @staticmethod
    def _shown(left: dict[str, dict[str, int]]) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        for name, entry in left.items():
            if "tokens" in entry:
                shown[f"tokens_this_{name}"] = entry["tokens"]
            if "micro" in entry:
                shown[f"usd_this_{name}"] = entry["micro"] / MICRO
        return shown

    def _expiry(self, period: Period) -> int:
        return int((period.ends + timedelta(days=self.retention_days)).timestamp())

    # -- after the model -----------------------------------------------------------------
    def settle(
        self, grant: Grant, input_tokens: int, output_tokens: int, language: str, model: str
    ) -> None:
        """Count what the request used (its reservation taken back) in its periods, and its
        day's detail by language and model; a caller crossing its alert share of a limit is
        recorded once per period and notified. Logged, never raised: the answer exists."""
        micro = self.prices.micro(input_tokens, output_tokens)
        try:
            for name, key in grant.period_keys.items():
                self._count(grant, name, key, input_tokens, output_tokens, micro)
            day = grant.period_keys["day"]
            self._detail(grant, f"{day}#{language}#{model}", input_tokens, output_tokens, micro)
        except (ClientError, BotoCoreError) as exc:
            logger.error(
                "spend of %s not recorded (%s): %s",
                grant.caller,
                {"in": input_tokens, "out": output_tokens},
                exc,
            )

    def release(self, grant: Grant) -> None:
        """Give back a reservation whose request used nothing (it failed before the model)."""
        if not grant.reserved_tokens and not grant.reserved_micro:
            return
        try:
            for key in self._reserved_keys(grant):
                self.dynamodb.update_item(
                    TableName=self.table,
                    Key={"caller": {"S": grant.caller}, "period": {"S": key}},
                    UpdateExpression=_RESERVE,
                    ExpressionAttributeValues={
                        ":t": {"N": str(-grant.reserved_tokens)},
                        ":m": {"N": str(-grant.reserved_micro)},
                    },
                )
        except (ClientError, BotoCoreError) as exc:
            logger.error("reservation of %s not released: %s", grant.caller, exc)

    @staticmethod
    def _reserved_keys(grant: Grant) -> list[str]:
        return [key for name, key in grant.period_keys.items() if _reserved_in(grant, name)]

    def _count(
        self, grant: Grant, name: str, key: str, input_tokens: int, output_tokens: int, micro: int
    ) -> None:
        reserved_here = grant.reserved_tokens if _reserved_in(grant, name) else 0
        reserved_micro = grant.reserved_micro if _reserved_in(grant, name) else 0
        period_end = _period_end(key)
        answer = self.dynamodb.update_item(
            TableName=self.table,
            Key={"caller": {"S": grant.caller}, "period": {"S": key}},
            UpdateExpression=(
                "ADD input_tokens :i, output_tokens :o, used_micro :m, requests :one, "
                "committed_tokens :dt, committed_micro :dm, reserved_tokens :rt "
                "SET caller_arn = :arn, expires_at = if_not_exists(expires_at, :exp)"
            ),
            ExpressionAttributeValues={
                ":i": {"N": str(input_tokens)},
                ":o": {"N": str(output_tokens)},
                ":m": {"N": str(micro)},
                ":one": {"N": "1"},
                ":dt": {"N": str(input_tokens + output_tokens - reserved_here)},
                ":dm": {"N": str(micro - reserved_micro)},
                ":rt": {"N": str(-reserved_here)},
                ":arn": {"S": grant.caller_arn or grant.caller},
                ":exp": {
                    "N": str(int((period_end + timedelta(days=self.retention_days)).timestamp()))
                },
            },
            ReturnValues="ALL_NEW",
        )
        self._maybe_alert(grant, name, key, answer.get("Attributes", {}))

    def _detail(
        self, grant: Grant, key: str, input_tokens: int, output_tokens: int, micro: int
    ) -> None:
        day_end = _period_end(grant.period_keys["day"])
        self.dynamodb.update_item(
            TableName=self.table,
            Key={"caller": {"S": grant.caller}, "period": {"S": key}},
            UpdateExpression=(
                "ADD input_tokens :i, output_tokens :o, used_micro :m, requests :one "
                "SET caller_arn = :arn, expires_at = if_not_exists(expires_at, :exp)"
            ),
            ExpressionAttributeValues={
                ":i": {"N": str(input_tokens)},
                ":o": {"N": str(output_tokens)},
                ":m": {"N": str(micro)},
                ":one": {"N": "1"},
                ":arn": {"S": grant.caller_arn or grant.caller},
                ":exp": {
                    "N": str(int((day_end + timedelta(days=self.retention_days)).timestamp()))
                },
            },
        )

    def _maybe_alert(self, grant: Grant, name: str, key: str, item: dict[str, Any]) -> None:
        limits = grant.limits
        crossed = []
        tokens_limit = limits.get(f"tokens_per_{name}")
        if tokens_limit:
            used = int(item.get("input_tokens", {}).get("N", "0")) + int(
                item.get("output_tokens", {}).get("N", "0")
            )
            if used >= self.alert_share * tokens_limit:
                crossed.append(f"{used} of {tokens_limit} tokens")
        usd_limit = limits.get(f"usd_per_{name}")
        if usd_limit:
            used_usd = int(item.get("used_micro", {}).get("N", "0")) / MICRO
            if used_usd >= self.alert_share * usd_limit:
                crossed.append(f"${used_usd:.4f} of ${usd_limit}")
        if not crossed or "alerted_at" in item:
            return
        try:  # once per period: the first to set it sends it
            self.dynamodb.update_item(
                TableName=self.table,
                Key={"caller": {"S": grant.caller}, "period": {"S": key}},
                UpdateExpression="SET alerted_at = :now",
                ConditionExpression="attribute_not_exists(alerted_at)",
                ExpressionAttributeValues={":now": {"S": self.clock().isoformat()}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return
            raise
        share = round(self.alert_share * 100)
        self.notify(
            f"spend: {grant.caller} passed {share}% of its {name}ly budget",
            f"{grant.caller} ({grant.caller_arn}) has used {', '.join(crossed)} "
            f"this {name} ({key}).",
        )


def _reserved_in(grant: Grant, name: str) -> bool:
    return f"tokens_per_{name}" in grant.limits or f"usd_per_{name}" in grant.limits


def _period_end(key: str) -> datetime:
    kind, stamp = key.split("#")[:2]
    if kind == "day":
        return datetime.strptime(stamp, "%Y-%m-%d").replace(tzinfo=UTC) + timedelta(days=1)
    start = datetime.strptime(stamp, "%Y-%m").replace(tzinfo=UTC)
    return (start + timedelta(days=32)).replace(day=1)


# What a request's input may count at most, beyond its text's UTF-8 bytes (a token is at least
# one byte of text): the chat template's framing tokens, generously.
INPUT_FRAMING_TOKENS = 64


def input_upper_bound(system_prompt: str, message: str) -> int:
    """An upper bound of a request's input tokens, known before the model is called."""
    return len(system_prompt.encode()) + len(message.encode()) + INPUT_FRAMING_TOKENS


_ROLE_SESSION = "assumed-role/"


def role_arn(caller_arn: str) -> str | None:
    """The role's ARN of a role session's (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION ->
    arn:aws:iam::ACCOUNT:role/ROLE): an override by role covers every session."""
    if _ROLE_SESSION not in caller_arn:
        return None
    prefix, rest = caller_arn.split(_ROLE_SESSION, 1)
    parts = prefix.split(":")  # arn, partition, sts, "", account, ""
    if len(parts) < 5:
        return None
    role = rest.split("/", 1)[0]
    return f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"

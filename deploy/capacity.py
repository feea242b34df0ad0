"""The arithmetic of what a stage asks of its account: Lambda concurrency it reserves, and
model tokens a minute it can ask Bedrock for. Pure functions, so the edges are tested alone
(tests/unit/test_capacity.py); deploy/preflight.py reads the account and words the verdicts.

AWS's rules, read on 2026-12-06:
- Lambda (PutFunctionConcurrency, "Configuring reserved concurrency"): reservations must leave
  at least 100 of the account's limit unreserved; an account whose limit is under 100 (new
  accounts start at 10, some at 50) must leave all of it, so it can reserve nothing ("...below
  its minimum value of [10]"). The limit is Service Quotas' lambda `L-B99A9384`.
- Bedrock (quotas page, as reported by AWS's own agent toolkit and users): a request reserves
  its input plus max_tokens of the tokens-a-minute quota when it starts, and for Claude models
  since Claude 3.7 each output token burns down 5 tokens of it.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from local_stage.contract import LAMBDA_UNRESERVED_MINIMUM

LAMBDA_CONCURRENCY_QUOTA_CODE = "L-B99A9384"
CLAUDE_OUTPUT_BURNDOWN = 5


@dataclass(frozen=True)
class Reservations:
    """The reserved concurrency a stage's file asks for, per function (0: unreserved)."""

    api: int
    jobs_api: int
    worker: int

    @classmethod
    def of_stage(cls, variables: Mapping[str, Any]) -> "Reservations":
        """As terraform/main.tf sets them: -1 leaves a function unreserved; the worker
        reserves job_max_concurrency (its event source's ceiling)."""

        def reserved(name: str) -> int:
            value = int(variables.get(name, -1))
            return value if value >= 1 else 0

        return cls(
            reserved("reserved_concurrency"),
            reserved("jobs_api_reserved_concurrency"),
            int(variables["job_max_concurrency"]),
        )

    @property
    def total(self) -> int:
        return self.api + self.jobs_api + self.worker

    def spelled(self) -> str:
        return (
            f"{self.api} (API) + {self.jobs_api} (job routes) + {self.worker} (worker) = "
            f"{self.total}"
        )


@dataclass(frozen=True)
class ConcurrencyVerdict:
    fits: bool
    limit: int
    minimum_unreserved: int
    reservable: int  # what the stage may reserve: unreserved now + its own - the minimum
    wanted: int
    others: int  # reserved by functions that are not the stage's
    desired_limit: int  # a limit at which the stage fits (for the quota request)

    def arithmetic(self, reservations: Reservations) -> str:
        return (
            f"the stage reserves {reservations.spelled()}; the account's limit is "
            f"{self.limit}, {self.others} of it reserved by other functions, and Lambda keeps "
            f"{self.minimum_unreserved} unreserved (min(100, limit)): "
            f"{max(self.reservable, 0)} can be reserved"
        )


def concurrency_verdict(
    limit: int, unreserved: int, wanted: int, own_now: int = 0
) -> ConcurrencyVerdict:
    """Whether reserving `wanted` fits an account with concurrency `limit`, `unreserved` of it
    unreserved now, of which `own_now` the stage's own functions already hold (a redeploy
    gives those back before it takes them again)."""
    minimum = min(LAMBDA_UNRESERVED_MINIMUM, limit)
    reservable = unreserved + own_now - minimum
    others = max(limit - unreserved - own_now, 0)
    fits = wanted == 0 or wanted <= reservable
    return ConcurrencyVerdict(
        fits=fits,
        limit=limit,
        minimum_unreserved=minimum,
        reservable=reservable,
        wanted=wanted,
        others=others,
        desired_limit=others + wanted + LAMBDA_UNRESERVED_MINIMUM,
    )


@dataclass(frozen=True)
class TokenDemand:
    """The most tokens a minute the stage's concurrency can ask the model for."""

    generations: int  # at once: synchronous + jobs
    tokens_per_second: float
    burndown: int

    @property
    def per_minute(self) -> int:
        return math.ceil(self.generations * self.tokens_per_second * 60 * self.burndown)

    def spelled(self) -> str:
        burn = f" x {self.burndown} (output burndown)" if self.burndown != 1 else ""
        return (
            f"{self.generations} generations at once x {self.tokens_per_second:g} tokens/s x "
            f"60 s{burn} = {self.per_minute:,} tokens/minute"
        )


def token_demand(variables: Mapping[str, Any], provider: str) -> TokenDemand:
    """What a stage can ask for in a minute: its synchronous generations at once (the API's
    reservation, or its throttle's burst when unreserved) plus its jobs at once, each writing
    at model_tokens_per_second; Claude's output counted with its burndown."""
    reservations = Reservations.of_stage(variables)
    synchronous = reservations.api or int(variables["throttling_burst_limit"])
    burndown = CLAUDE_OUTPUT_BURNDOWN if provider.lower() == "anthropic" else 1
    return TokenDemand(
        synchronous + reservations.worker, float(variables["model_tokens_per_second"]), burndown
    )


def quota_verdict(quota: float | None, demand: TokenDemand) -> str:
    """'missing', 'zero', 'short' (under the demand) or 'ok'."""
    if quota is None:
        return "missing"
    if quota <= 0:
        return "zero"
    return "short" if quota < demand.per_minute else "ok"

"""Send each task to a stage, run its answer against the task's tests in the sandbox, and
sum it up: pass@1 (one deterministic answer per task), the share that parse, latency, tokens
and the model's estimated cost per task; and what changed against an earlier run."""

import statistics
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from deploy.evaluation.sandbox import DEFAULT_LIMITS, Limits, run_tests
from deploy.evaluation.suite import Task
from layer_builder.errors import UserError

# What `ask(task)` answers: the service's JSON answer (deploy.call.generate's payload).
Ask = Callable[[Task], Mapping[str, Any]]


class EvalError(UserError):
    """The evaluation cannot run as asked."""


@dataclass(frozen=True)
class TaskResult:
    task: str
    passed: bool
    reason: str  # the sandbox's (passed, failed, timeout, ...) or request-failed
    syntax: str  # the service's verdict on the answer's code (ok, error, unchecked)
    latency_s: float  # the request, as the caller saw it
    input_tokens: int
    output_tokens: int
    cost: float  # at the stage's prices
    detail: str  # why it failed, briefly
    repair: str | None = None  # the stage's repair attempt, if it made one (syntax.repair)
    language: str = "python"


def evaluate(
    tasks: Iterable[Task],
    ask: Ask,
    prices: Mapping[str, float],
    *,
    limits: Limits = DEFAULT_LIMITS,
    report: Callable[[str], None] = lambda line: None,
    clock: Callable[[], float] = time.perf_counter,
) -> list[TaskResult]:
    results = []
    for task in tasks:
        started = clock()
        try:
            answer = ask(task)
        except UserError as exc:  # refused, unreachable, a failed job: scored as failed
            result = TaskResult(
                task.name,
                False,
                "request-failed",
                "none",
                clock() - started,
                0,
                0,
                0.0,
                str(exc)[:300],
                language=task.language,
            )
        else:
            latency = clock() - started
            outcome = run_tests(str(answer.get("code") or ""), task.tests, limits, task.language)
            usage = answer.get("usage") or {}
            tokens_in, tokens_out = (
                int(usage.get("input_tokens", 0)),
                int(usage.get("output_tokens", 0)),
            )
            cost = tokens_in / 1000 * float(
                prices.get("input_per_1000", 0)
            ) + tokens_out / 1000 * float(prices.get("output_per_1000", 0))
            verdict = answer.get("syntax") or {}
            syntax = verdict.get("status", "unchecked")
            result = TaskResult(
                task.name,
                outcome.passed,
                outcome.reason,
                syntax,
                latency,
                tokens_in,
                tokens_out,
                cost,
                "" if outcome.passed else outcome.detail[-300:],
                verdict.get("repair"),
                task.language,
            )
        repaired = " (repaired)" if result.repair == "repaired" else ""
        report(
            f"{result.task:<24} {'pass' if result.passed else 'FAIL'}  {result.reason:<14} "
            f"syntax {result.syntax:<9} {result.latency_s:6.1f} s  {result.output_tokens:5d} "
            f"tokens{repaired}"
        )
        results.append(result)
    return results


def summarize(results: list[TaskResult]) -> dict[str, Any]:
    if not results:
        raise EvalError("no task was run")
    n = len(results)
    latencies = sorted(r.latency_s for r in results)
    return {
        "tasks": n,
        "passed": sum(r.passed for r in results),
        "pass_at_1": sum(r.passed for r in results) / n,
        "parse_share": _parse_share(results),
        # Answers the stage's repair attempt made parse (codegen/generation/repair.py;
        # 0 when it is off).
        "repaired": sum(r.repair == "repaired" for r in results),
        "latency_p50_s": statistics.median(latencies),
        "latency_p95_s": _percentile(latencies, 0.95),
        "output_tokens_per_task": sum(r.output_tokens for r in results) / n,
        "input_tokens_per_task": sum(r.input_tokens for r in results) / n,
        "cost_per_task": sum(r.cost for r in results) / n,
        "cost_total": sum(r.cost for r in results),
        "by_language": {
            language: {
                "tasks": len(mine),
                "passed": sum(r.passed for r in mine),
                "pass_at_1": sum(r.passed for r in mine) / len(mine),
                "parse_share": _parse_share(mine),
            }
            for language in sorted({r.language for r in results})
            if (mine := [r for r in results if r.language == language])
        },
    }


def _parse_share(results: list[TaskResult]) -> float | None:
    """The share whose code parses, of the answers the service could check (None when it
    could check none: their language is `unchecked`); a failed request counts as not."""
    checked = [r for r in results if r.syntax != "unchecked"]
    return sum(r.syntax == "ok" for r in checked) / len(checked) if checked else None


def _percentile(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of ordered values."""
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def run_record(results: list[TaskResult], **about: Any) -> dict[str, Any]:
    """What the JSON report holds: what was run against (`about`), the summary, each task."""
    return {**about, "summary": summarize(results), "results": [asdict(r) for r in results]}


def compare(current: Mapping[str, Any], earlier: Mapping[str, Any]) -> list[str]:
    """Lines saying how `current` differs from `earlier` (two run records)."""
    now, then = current["summary"], earlier["summary"]
    lines = []
    for key, label, percent in (
        ("pass_at_1", "pass@1", True),
        ("parse_share", "parse", True),
        ("latency_p50_s", "latency p50 (s)", False),
        ("output_tokens_per_task", "output tokens/task", False),
        ("cost_per_task", "cost/task", False),
    ):
        if then.get(key) is None or now.get(key) is None:  # e.g. no answer could be checked
            lines.append(f"{label:<20} {then.get(key)} -> {now.get(key)}")
            continue
        before, after = float(then[key]), float(now[key])
        shown = (lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:.3g}")
        change = f"{(after - before) * 100:+.0f} points" if percent else f"{after - before:+.3g}"
        lines.append(f"{label:<20} {shown(before)} -> {shown(after)} ({change})")
    passed_then = {r["task"] for r in earlier["results"] if r["passed"]}
    passed_now = {r["task"] for r in current["results"] if r["passed"]}
    common = {r["task"] for r in earlier["results"]} & {r["task"] for r in current["results"]}
    gained, lost = (
        sorted((passed_now - passed_then) & common),
        sorted((passed_then - passed_now) & common),
    )
    lines.append(f"now passing: {', '.join(gained) or 'none'}")
    lines.append(f"now failing: {', '.join(lost) or 'none'}")
    for key in ("model", "answered_by", "system_prompt_sha256", "syntax_repair"):
        if earlier.get(key) != current.get(key):
            lines.append(f"{key}: {earlier.get(key)} -> {current.get(key)}")
    return lines

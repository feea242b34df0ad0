"""`invoke eval` against a deployed stage: its real API (signed as `invoke call` signs), sync
for a task whose max_tokens the stage answers synchronously, a job otherwise; the report
written as JSON and a chart beside the bench report."""

import hashlib
import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deploy.call import build_body, generate
from deploy.evaluation.runner import EvalError, compare, evaluate, run_record
from deploy.evaluation.sandbox import (
    confinement,
    javascript_permissions,
    runtime_missing,
    sandbox_description,
)
from deploy.evaluation.suite import TASKS, Task
from deploy.paths import BENCH_DIR
from deploy.tools import tool_bin


def chosen_tasks(only: str | None) -> list[Task]:
    """The suite, or the tasks `only` names (comma-separated); an unknown name is refused."""
    if not only:
        return list(TASKS)
    by_name = {task.name: task for task in TASKS}
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise EvalError(
            f"no task {', '.join(unknown)} in the suite; the tasks are {', '.join(by_name)}"
        )
    return [by_name[name] for name in names]


def runnable(tasks: list[Task]) -> tuple[list[Task], dict[str, str]]:
    """The tasks this machine can run the tests of, and the others with why not (a task's
    language whose runtime is missing is skipped and reported, never scored)."""
    skipped = {task.name: why for task in tasks if (why := runtime_missing(task.language))}
    return [task for task in tasks if task.name not in skipped], skipped


def earlier_run(path: str | None) -> dict[str, Any] | None:
    """The report of an earlier run to compare with, checked before anything is sent."""
    if path is None:
        return None
    try:
        earlier = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise EvalError(f"--compare {path}: cannot read an eval report there ({exc})") from exc
    if not isinstance(earlier, dict) or "summary" not in earlier or "results" not in earlier:
        raise EvalError(f"--compare {path}: not an eval report (no summary and results)")
    return earlier


def check_confinement(emulated: bool, unconfined: bool) -> None:
    """Model-written code from a stage in AWS runs here only in a sandbox that keeps it off
    this machine's files and network, unless the caller says --unconfined."""
    sandbox = confinement()
    if emulated or unconfined or sandbox.strong:
        return
    raise EvalError(
        f"this machine's sandbox cannot keep model-written code from your files and network "
        f"({sandbox.describe()}); use Linux 6.7+ with Landlock, or pass --unconfined to run "
        "it anyway"
    )


def run_on_stage(
    deployer: Any,
    tasks: list[Task],
    out_dir: Path,
    earlier: dict[str, Any] | None,
    report: Callable[[str], None],
) -> dict[str, Any]:
    outputs = deployer.outputs()
    endpoint = deployer.target.endpoint(outputs)
    deployed = _function_environment(deployer, outputs)
    sync_limit = int(deployed["MAX_TOKENS_LIMIT"])

    def ask(task: Task) -> dict[str, Any]:
        settings = {"max_tokens": task.max_tokens, "temperature": 0}  # deterministic
        return generate(
            endpoint,
            build_body(task.prompt, task.language, settings),
            asynchronous=task.max_tokens > sync_limit,
        )

    tasks, skipped = runnable(tasks)
    for name, why in skipped.items():
        report(f"{name:<24} skipped: {why}")
    if not tasks:
        raise EvalError("no task can run on this machine: " + "; ".join(set(skipped.values())))
    report(
        f"{len(tasks)} tasks on stage {deployer.stage.name}; the sandbox: {sandbox_description()}"
        + (
            f"; node's permission model refuses {javascript_permissions()}"
            if any(task.language == "javascript" for task in tasks)
            else ""
        )
    )
    results = evaluate(tasks, ask, outputs.get("model_prices") or {}, report=report)
    record = run_record(
        results,
        stage=deployer.stage.name,
        model=deployed["MODEL_ID"],
        answered_by=deployer.target.answered_by(),  # local: the model server's own model
        system_prompt_sha256=hashlib.sha256(deployed["SYSTEM_PROMPT"].encode()).hexdigest(),
        syntax_repair=deployed.get("SYNTAX_REPAIR") == "true",
        when=datetime.now(UTC).isoformat(timespec="seconds"),
        sandbox=sandbox_description(),
        skipped=skipped,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"eval-{deployer.stage.name}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    record["report_path"] = str(path)
    record["chart_path"] = _chart(path)
    if earlier is not None:
        record["comparison"] = compare(record, earlier)
    return record


def _function_environment(deployer: Any, outputs: dict[str, Any]) -> dict[str, str]:
    """The generating function's environment as deployed: its synchronous max_tokens limit
    (Terraform computes it), its model and its system prompt, the run's record of what made
    the answers."""
    lam = deployer.target.client("lambda")
    configuration = lam.get_function_configuration(FunctionName=outputs["function_name"])
    return dict(configuration["Environment"]["Variables"])


def _chart(report_path: Path) -> str | None:
    """The chart beside the report, drawn with the plotting tool (scripts/tool.sh plot)."""
    chart = report_path.with_suffix(".png")
    try:
        subprocess.run(
            [
                str(tool_bin("plot") / "python"),
                str(BENCH_DIR / "chart.py"),  # the project's one chart script
                str(report_path),
                str(chart),
            ],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None  # the figures are in the JSON report; the chart is extra
    return str(chart)


def summary_lines(record: dict[str, Any]) -> list[str]:
    """What `invoke eval` prints of a run's record: the figures in all and per language, the
    tasks skipped and why, the comparison with an earlier run, and where the report went."""
    summary = record["summary"]
    lines = [
        f"\npass@1 {summary['pass_at_1']:.0%} ({summary['passed']}/{summary['tasks']}), "
        f"parse {_share(summary['parse_share'])} ({summary['repaired']} repaired), "
        f"latency p50 {summary['latency_p50_s']:.1f} s p95 {summary['latency_p95_s']:.1f} s, "
        f"{summary['output_tokens_per_task']:.0f} output tokens and "
        f"${summary['cost_per_task']:.5f} per task"
    ]
    for language, figures in summary["by_language"].items():
        lines.append(
            f"  {language}: pass@1 {figures['pass_at_1']:.0%} "
            f"({figures['passed']}/{figures['tasks']}), parse {_share(figures['parse_share'])}"
        )
    if record["skipped"]:
        why = "; ".join(set(record["skipped"].values()))
        lines.append(f"skipped {len(record['skipped'])} tasks: {why}")
    lines += [f"  {line}" for line in record.get("comparison", [])]
    chart = record["chart_path"] or "not drawn (the plotting tool is not installed)"
    lines.append(f"report: {record['report_path']}\nchart:  {chart}")
    return lines


def _share(value: float | None) -> str:
    """A share of the answers the service could check; none could: their code is unchecked."""
    return "unchecked" if value is None else f"{value:.0%}"

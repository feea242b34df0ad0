"""Small helpers shared by the bench scripts (timing, table printing, a local stage)."""

import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

RESULTS_VARIABLE = "CODEGEN_BENCH_RESULTS"  # a JSON-lines file the figures are added to
# The repository's root, last on the path: a bench may import what it shares with the tests
# (tests/support/, e.g. the headless browsers); the packages themselves are installed.
_REPO_ROOT = str(Path(__file__).resolve().parent.parent)
if _REPO_ROOT not in sys.path:
    sys.path.append(_REPO_ROOT)


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = action()
    return time.perf_counter() - start, value


def median_seconds(action: Callable[[], object], runs: int) -> float:
    return statistics.median(timed(action)[0] for _ in range(runs))


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in rows)
    print(f"\n{title}")
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")


def record(
    figure: str,
    value: float,
    unit: str,
    *,
    baseline: float | None = None,
    baseline_name: str | None = None,
) -> None:
    """Keep a figure for `invoke bench`'s report (bench/run_all.py sets where): its value
    and, when it has one, the baseline measured in the same run that it is a ratio against."""
    path = os.environ.get(RESULTS_VARIABLE)
    if not path:
        return
    script = Path(sys.argv[0]).stem
    entry = {"script": script, "figure": figure, "value": value, "unit": unit}
    if baseline is not None:
        entry |= {"baseline": baseline, "baseline_name": baseline_name, "ratio": value / baseline}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


def stack_dir(root: Path) -> Path:
    """Where a bench's own local stack under `root` keeps its state."""
    return root / "state"


@contextlib.contextmanager
def bench_stage(root: Path) -> Iterator[Any]:
    """A local stage of the bench's own (state under `root`), with the local model; its
    StackState while it runs, stopped afterwards."""
    from deploy.stages import load_stage
    from local_stage import supervisor

    state, _ = supervisor.up(
        state_dir=stack_dir(root),
        python=load_stage("local").python_version,
        report=lambda line: None,
    )
    try:
        yield state
    finally:
        supervisor.down(state_dir=stack_dir(root))


def deploy_open_stage(
    root: Path, state: Any, name: str | None = None, **variables: Any
) -> tuple[Any, dict[str, Any]]:
    """The real function deployed to a bench stage through the real Terraform, its routes
    open and its throttling out of the way: where it answers (a deploy.call.Endpoint, from the
    stage's outputs, unsigned) and its Terraform outputs. With a `name`, a stage of its own
    (local-<name>, its state under root/<name>) beside others in the same stack, with
    `variables` over the local stage's."""
    from deploy.paths import LAMBDA_DIR
    from deploy.scratch import scratch_deployer

    named = {"stage": f"local-{name}"} if name else {}
    deployer = scratch_deployer(
        root / name if name else root,
        state.emulator_url,
        LAMBDA_DIR,
        credentials=state.credentials,
        state_dir=stack_dir(root),  # bench_stage's stack
        route_authorization="NONE",
        throttling_rate_limit=100000,
        throttling_burst_limit=100000,
        **named,
        **variables,
    )
    outputs = deployer.deploy().outputs
    return deployer.target.endpoint(outputs), outputs

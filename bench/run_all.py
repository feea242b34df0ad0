"""Run every bench script and report their figures together (what `invoke bench` does):

    python bench/run_all.py [--out DIR]

Each script runs as it would alone (its own tables stream by); the figures it records go to
one table here, to DIR/bench.json, and to DIR/bench.png, a chart of every figure that has a
baseline as its ratio to that baseline (both measured in the same run).
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from _common import RESULTS_VARIABLE, print_table
from report import shown

from deploy.tools import tool_bin

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "layer_build.py",
    "noops.py",
    "deploy_times.py",
    "local_gateway.py",
    "local_model.py",
    "async_jobs.py",
    "idempotency.py",
    "spend.py",
    "operate.py",
    "console.py",
]


def run(scripts: list[str]) -> list[dict]:
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "results.jsonl"
        results.touch()
        for script in scripts:
            print(f"\n==> bench/{script}", flush=True)
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, str(HERE / script)],
                cwd=HERE,
                env={**os.environ, RESULTS_VARIABLE: str(results)},
                check=False,
            )
            print(
                f"(bench/{script}: exit {done.returncode} in {time.perf_counter() - started:.0f} s)"
            )
            if done.returncode != 0:
                raise SystemExit(f"bench/{script} failed (exit {done.returncode})")
        return [json.loads(line) for line in results.read_text().splitlines() if line]


def table(figures: list[dict]) -> list[tuple[str, str]]:
    rows = []
    for item in figures:
        text = shown(item["value"], item["unit"])
        if "ratio" in item:
            base = shown(item["baseline"], item["unit"])
            text += f"  = {item['ratio']:.2f}x {item['baseline_name']} ({base})"
        rows.append((f"{item['script']}: {item['figure']}", text))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE.parent / "build" / "bench")
    parser.add_argument("--only", nargs="*", default=SCRIPTS, help="some of the scripts")
    parser.add_argument(
        "--readme", action="store_true", help="write the figures into bench/README.md too"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    figures = run(args.only)
    print_table("every figure of this run", table(figures))
    args.out.mkdir(parents=True, exist_ok=True)
    report = args.out / "bench.json"
    run_record = {
        "date": datetime.date.today().isoformat(),
        "minutes": round((time.perf_counter() - started) / 60),
        "scripts": args.only,
        "machine": machine(),
    }
    report.write_text(json.dumps({"run": run_record, "figures": figures}, indent=2) + "\n")
    chart = args.out / "bench.png"
    subprocess.run(
        [str(tool_bin("plot") / "python"), str(HERE / "chart.py"), str(report), str(chart)],
        check=True,
    )
    print(f"\nfigures: {report}\nchart:   {chart}")
    if args.readme:
        subprocess.run([sys.executable, str(HERE / "report.py"), str(report)], check=True)


def machine() -> dict[str, object]:
    """What the figures were measured on (they are only comparable within one run)."""
    return {
        "system": platform.system(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
    }


if __name__ == "__main__":
    main()

"""Draw a measurement report as a chart: the one chart script of the project, run with the
plotting tool's Python (scripts/tool.sh plot: matplotlib is not a project dependency; this
file imports nothing of the project's).

- `invoke bench`'s bench.json (bench/run_all.py): each figure that has a baseline, as a bar of
  its ratio to it (log scale);
- `invoke eval`'s eval-<stage>.json (deploy/evaluation/stage.py): each task's latency, green
  where its answer passed its tests, red where it did not.

    python chart.py REPORT.json CHART.png
"""

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen
import matplotlib.pyplot as plt


def bench_chart(report: dict[str, Any], target: Path) -> None:
    figures = [item for item in report["figures"] if "ratio" in item]
    labels = [f"{item['figure']}\nvs {item['baseline_name']}" for item in figures]
    ratios = [item["ratio"] for item in figures]
    fig, axis = plt.subplots(figsize=(11, 0.8 * len(figures) + 1.5))
    bars = axis.barh(labels, ratios, color="#3b7dd8")
    axis.axvline(1.0, color="black", linewidth=1)
    axis.set_xscale("log")
    axis.set_xlabel("ratio to the baseline measured in the same run (log scale; 1 = equal)")
    axis.invert_yaxis()
    for bar, ratio in zip(bars, ratios, strict=True):
        axis.text(
            bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {ratio:.3g}x", va="center"
        )
    axis.set_title("codegen-deploy benchmarks: each figure against its baseline")
    fig.tight_layout()
    fig.savefig(target, dpi=110)


def eval_chart(report: dict[str, Any], target: Path) -> None:
    results, summary = report["results"], report["summary"]
    labels = [f"{r['task']} ({r['reason']})" for r in results]
    colours = ["#2e8b57" if r["passed"] else "#c0392b" for r in results]
    fig, axis = plt.subplots(figsize=(10, 0.32 * len(results) + 1.8))
    axis.barh(labels, [r["latency_s"] for r in results], color=colours)
    axis.invert_yaxis()
    axis.set_xlabel("seconds for the answer (green: passed its tests; red: did not)")
    model = report.get("answered_by") or report.get("model")
    share = summary["parse_share"]  # None: no answer's language could be checked
    parse = "unchecked" if share is None else f"{share:.0%}"
    axis.set_title(
        f"invoke eval, stage {report.get('stage')}: pass@1 {summary['pass_at_1']:.0%}, "
        f"parse {parse}\n{model}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(target, dpi=110)


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    report = json.loads(source.read_text())
    (bench_chart if "figures" in report else eval_chart)(report, target)


if __name__ == "__main__":
    main()

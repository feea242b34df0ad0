"""Draw an eval report: each task's latency, green where its answer passed its tests, red
where it did not (run with the plotting tool's Python, as bench/chart.py is: matplotlib is not
a project dependency; this file imports nothing of the project's).

    python chart.py eval-local.json eval-local.png
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen
import matplotlib.pyplot as plt


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    report = json.loads(source.read_text())
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


if __name__ == "__main__":
    main()

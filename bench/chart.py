"""Draw bench.json's figures that have a baseline as bars of their ratio to it (run by
bench/run_all.py with the plotting tool's Python: matplotlib is not a project dependency).

    python chart.py bench.json bench.png
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen
import matplotlib.pyplot as plt


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    figures = [item for item in json.loads(source.read_text())["figures"] if "ratio" in item]
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


if __name__ == "__main__":
    main()

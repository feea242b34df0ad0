"""Write bench/README.md's figures from an `invoke bench` report (bench.json): the run's date
and machine, then one row per figure with its same-run baseline. Only the part between the
two markers changes; the prose around it is the README's own.

    python bench/report.py build/bench/bench.json [--readme bench/README.md]
"""

import argparse
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BEGIN = "<!-- figures: written by bench/report.py from bench.json; do not edit by hand -->"
END = "<!-- end of figures -->"


def shown(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.1f} {unit}"


def figures_markdown(report: dict[str, Any]) -> str:
    run = report.get("run") or {}
    machine = run.get("machine") or {}
    lines = [
        f"Run of {run.get('date', 'an unrecorded date')} on {machine.get('system', '?')} "
        f"{machine.get('machine', '')}, {machine.get('cpus', '?')} CPUs, "
        f"{machine.get('memory_gib', '?')} GiB of memory, Python {machine.get('python', '?')}"
        f" ({run.get('minutes', '?')} minutes).",
        "",
        "| script | figure | value | against its baseline in the same run |",
        "| --- | --- | --- | --- |",
    ]
    for item in report["figures"]:
        ratio = ""
        if "ratio" in item:
            base = shown(item["baseline"], item["unit"])
            ratio = f"{item['ratio']:.2f}x {item['baseline_name']} ({base})"
        value = shown(item["value"], item["unit"])
        lines.append(f"| {item['script']} | {item['figure']} | {value} | {ratio} |")
    return "\n".join(lines) + "\n"


def rewrite(readme: str, figures: str) -> str:
    """`readme` with its figures section replaced by `figures`."""
    if BEGIN not in readme or END not in readme:
        raise SystemExit(f"the README has no figures section (the lines {BEGIN!r} ... {END!r})")
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{figures}{END}{tail}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("report", type=Path)
    parser.add_argument("--readme", type=Path, default=HERE / "README.md")
    args = parser.parse_args()
    figures = figures_markdown(json.loads(args.report.read_text()))
    args.readme.write_text(rewrite(args.readme.read_text(), figures))
    print(f"figures written to {args.readme}")


if __name__ == "__main__":
    main()

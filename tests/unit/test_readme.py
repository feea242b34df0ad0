"""The README is the guide (at most ~250 lines, no figure of a particular run) and its links,
and bench/README.md's, lead somewhere: MkDocs checks the links inside docs/, not these."""

import re

import pytest

from deploy.paths import REPO_ROOT

LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
GUIDES = ["README.md", "bench/README.md"]


@pytest.mark.parametrize("guide", GUIDES)
def test_every_relative_link_of_a_guide_leads_to_a_file_of_the_repository(guide):
    path = REPO_ROOT / guide
    targets = [m["target"] for m in LINK.finditer(path.read_text())]
    broken = [
        target
        for target in targets
        if "://" not in target
        and not target.startswith("#")
        and not (path.parent / target.split("#")[0]).exists()
    ]
    assert not broken, f"{guide} links to files that do not exist: {broken}"


def test_the_readme_stays_a_guide():
    text = (REPO_ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 250, "the reference belongs in docs/"
    # A run's figures (timings with decimals, "measured on" dates) live in bench/README.md.
    assert not re.search(r"\b\d+\.\d+ (s|ms|tokens/s)\b", text)
    assert "measured 20" not in text.lower()


def test_benchs_figures_replace_only_their_section_of_its_readme(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO_ROOT / "bench"))
    import report

    figures = report.figures_markdown(
        {
            "run": {"date": "2026-12-07", "minutes": 20, "machine": {"cpus": 2}},
            "figures": [
                {
                    "script": "noops",
                    "figure": "no-op",
                    "value": 0.5,
                    "unit": "s",
                    "baseline": 0.25,
                    "baseline_name": "floor",
                    "ratio": 2.0,
                },
            ],
        }
    )
    assert (
        "Run of 2026-12-07" in figures
        and "| noops | no-op | 500.0 ms | 2.00x floor (250.0 ms) |" in figures
    )
    readme = f"intro\n{report.BEGIN}\nold figures\n{report.END}\noutro\n"
    assert (
        report.rewrite(readme, figures) == f"intro\n{report.BEGIN}\n{figures}{report.END}\noutro\n"
    )
    with pytest.raises(SystemExit, match="no figures section"):
        report.rewrite("intro only\n", figures)
    # The real README has the section.
    report.rewrite((REPO_ROOT / "bench" / "README.md").read_text(), figures)

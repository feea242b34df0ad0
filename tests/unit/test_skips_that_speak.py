"""A run says what did not run and why, one line per group, and CI is one rule."""

import pytest

from tests.conftest import skipped_groups
from tests.system_packages import require, under_ci


def skipped(nodeid: str, reason: str) -> pytest.TestReport:
    longrepr = (nodeid.split("::")[0], 1, f"Skipped: {reason}")
    return pytest.TestReport(nodeid, ("", 1, ""), {}, "skipped", longrepr, "setup")


def test_skips_are_grouped_by_module_and_reason_most_first():
    chromium = "no Chromium with chromedriver on PATH: needs Chromium"
    reports = [
        skipped("tests/e2e/test_console.py::test_a", chromium),
        skipped("tests/e2e/test_console.py::test_b", chromium),
        skipped("tests/integration/test_eval_sandbox.py::test_c", "no curl on PATH: needs curl"),
        skipped("tests/e2e/test_console.py::test_d", chromium),
    ]
    assert skipped_groups(reports) == [
        f"tests/e2e/test_console.py: 3 tests skipped, {chromium}",
        "tests/integration/test_eval_sandbox.py: 1 test skipped, no curl on PATH: needs curl",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("", False),
        ("false", False),
        ("0", False),
        ("FALSE", False),
        ("true", True),
        ("1", True),
        ("yes", True),
    ],
)
def test_ci_is_ci_set_and_not_false_or_0(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert under_ci() is expected


def test_a_missing_package_skips_on_a_laptop_and_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "0")
    with pytest.raises(pytest.skip.Exception, match=r"no node on PATH: needs Node\.js"):
        require("no node on PATH", "Node.js")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI must have Node\.js"):
        require("no node on PATH", "Node.js")
    require(None, "Node.js")  # nothing missing: nothing said

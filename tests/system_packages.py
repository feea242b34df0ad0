"""What the tests need from the machine (a browser, Node.js, curl, a Landlock kernel), which
`.ci/run` installs or CI machines have: missing on a laptop, a test says so and skips (and
scripts/test.sh ends with one line per skipped group); missing under CI, it fails, since CI
must have them."""

import os

import pytest


def under_ci() -> bool:
    """The one rule for "this run is CI": CI set, and not to false or 0 (as CI services set
    it, and as a user may unset it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "false", "0")


def require(missing: str | None, what: str) -> None:
    """Skip (or, under CI, fail) saying `missing`, unless it is None; `what` names what the
    machine needs (the package `.ci/run` installs)."""
    if missing is None:
        return
    if under_ci():
        pytest.fail(f"{missing}: CI must have {what} (.ci/run installs it)")
    pytest.skip(f"{missing}: needs {what}")


def require_node() -> None:
    """The eval's JavaScript tasks need a node (.ci/run installs Node.js)."""
    from deploy.evaluation.sandbox import runtime_missing

    require(runtime_missing("javascript"), "Node.js")

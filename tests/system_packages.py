"""What the tests need from the system's packages (a browser, Node.js), which `.ci/run`
installs: missing on a laptop, a test says so and skips; missing under CI, it fails, since
CI must have them."""

import os

import pytest


def require(missing: str | None, what: str) -> None:
    """Skip (or, under CI, fail) saying `missing`, unless it is None; `what` names the
    package `.ci/run` installs."""
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing}: .ci/run installs {what}, so CI must have it")
    pytest.skip(missing)


def require_node() -> None:
    """The eval's JavaScript tasks need a node (.ci/run installs Node.js)."""
    from deploy.evaluation.sandbox import runtime_missing

    require(runtime_missing("javascript"), "Node.js")

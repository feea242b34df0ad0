"""Every task's `--help` prints its usage and does nothing else (no request, no stack)."""

import subprocess
import sys

import pytest
from invoke import Collection

import tasks
from deploy.paths import REPO_ROOT


def task_names() -> list[str]:
    namespace = Collection.from_module(tasks)
    return sorted(namespace.task_names)


def test_there_are_tasks_to_check():
    assert {"call", "deploy", "build-layer", "local.up"} <= set(task_names())


@pytest.mark.parametrize("name", task_names())
def test_help_prints_the_usage_and_runs_nothing(name, tmp_path):
    # An empty environment of AWS and stack settings: a task that ran would fail loudly.
    answer = subprocess.run(
        [sys.executable, "-m", "invoke", name, "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert answer.stdout.startswith(f"Usage: inv[oke] [--core-opts] {name}"), answer.stdout
    assert "Docstring:" in answer.stdout and answer.stderr == ""

"""`invoke eval`'s parts without a stage: the suite can be solved (every reference passes its
own tests), the sandbox stops what it must and scores it failed, and the summary and the
comparison say what the results say."""

import json
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from deploy.evaluation.runner import (
    EvalError,
    TaskResult,
    compare,
    evaluate,
    run_record,
    summarize,
)
from deploy.evaluation.sandbox import (
    Limits,
    Outcome,
    _node_permission_flags,
    network_isolation,
    run_tests,
    runtime_missing,
)
from deploy.evaluation.stage import chosen_tasks, earlier_run, runnable
from deploy.evaluation.suite import TASKS
from layer_builder.errors import UserError
from tests.system_packages import require

QUICK = Limits(cpu_seconds=2, memory_bytes=256 * 2**20, wall_seconds=4.0)


@contextmanager
def listener() -> Iterator[tuple[int, list[bool]]]:
    """A port on 127.0.0.1 and what reached it: `reached` holds True once a connection was
    accepted (it is waited for, 5 s at most, when the block ends)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)
    reached: list[bool] = []

    def accept() -> None:
        try:
            server.accept()
            reached.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        yield server.getsockname()[1], reached
    finally:
        thread.join()
        server.close()


def needs_node() -> None:
    """JavaScript's sandbox needs a node: said and skipped without one, failed under CI
    (.ci/run installs it)."""
    require(runtime_missing("javascript"), "Node.js")


def test_the_suite_has_thirty_distinct_python_tasks_and_some_in_javascript():
    assert sum(task.language == "python" for task in TASKS) >= 30
    assert len({task.name for task in TASKS}) == len(TASKS)
    assert {task.language for task in TASKS} == {"python", "javascript"}


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.name)
def test_every_reference_solution_passes_its_own_tests(task):
    if task.language == "javascript":
        needs_node()
    outcome = run_tests(task.reference, task.tests, language=task.language)
    assert outcome.passed, outcome.detail


def test_tasks_without_their_runtime_are_skipped_and_said(monkeypatch):
    monkeypatch.setattr(
        "deploy.evaluation.sandbox.shutil.which", lambda name: None if name == "node" else name
    )
    tasks, skipped = runnable(chosen_tasks("add,js_add"))
    assert [task.name for task in tasks] == ["add"]
    assert skipped == {"js_add": "no node on PATH (install Node.js)"}


# -- JavaScript's sandbox: the same stops as Python's, and node's permission model ---------
def js(code: str, tests: str = "") -> Outcome:
    needs_node()
    return run_tests(code, tests, QUICK, "javascript")


def test_a_wrong_javascript_answer_fails_and_says_why():
    outcome = js("function add(a, b) {\n  return a - b;\n}", "assert.equal(add(2, 3), 5);")
    assert not outcome.passed and outcome.reason == "failed"
    assert "-1 !== 5" in outcome.detail  # node's own words, which come first


def test_javascript_that_loops_or_allocates_too_much_is_stopped():
    looped = js("while (true) {}")
    assert looped.reason in ("cpu-limit", "timeout") and looped.seconds < QUICK.wall_seconds + 2
    grew = js("const kept = [];\nwhile (true) kept.push(new Array(1e6).fill(1));")
    assert not grew.passed and grew.reason == "memory"


def test_javascript_sees_none_of_the_callers_environment(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-the-model")
    outcome = js(
        "const leaked = Object.keys(process.env).filter((k) => k.includes('SECRET'));",
        "assert.ok(leaked.length > 0, 'nothing to read');",
    )
    assert not outcome.passed and "nothing to read" in outcome.detail


def test_javascript_cannot_reach_the_network():
    with listener() as (port, reached):
        code = (
            f"const s = require('net').connect({port}, '127.0.0.1', () => process.exit(0));\n"
            "s.on('error', () => process.exit(3));\nsetTimeout(() => process.exit(4), 2000);"
        )
        outcome = js(code)
    if network_isolation() == "a network namespace":
        assert not outcome.passed and reached == []
    else:  # said plainly in the README: only a namespace keeps node off the network
        pytest.skip("no network namespace on this machine: node's network is not refused")


def test_javascript_may_read_only_its_own_directory_and_start_nothing():
    if not _node_permission_flags():
        pytest.skip("this node has no permission model")

    def denied(outcome: Outcome) -> bool:  # node's words for it, in 20 and in later ones
        return not outcome.passed and any(
            words in outcome.detail for words in ("ERR_ACCESS_DENIED", "has been restricted")
        )

    assert denied(js("require('fs').readFileSync('/etc/hosts');"))
    assert js("require('fs').readFileSync(__filename);").passed  # its own directory it may
    assert denied(js("require('child_process').execSync('true');"))
    assert denied(js("require('fs').writeFileSync('out.txt', 'x');"))


def test_a_wrong_answer_fails_its_tests():
    (add,) = [task for task in TASKS if task.name == "add"]
    outcome = run_tests("def add(a, b):\n    return a - b\n", add.tests, QUICK)
    assert not outcome.passed and outcome.reason == "failed"


def test_code_that_loops_for_ever_is_stopped_and_failed():
    outcome = run_tests("while True:\n    pass\n", "", QUICK)
    assert not outcome.passed and outcome.reason in ("cpu-limit", "timeout")
    assert outcome.seconds < QUICK.wall_seconds + 2


def test_code_that_sleeps_past_the_wall_clock_is_killed():
    outcome = run_tests("import time\ntime.sleep(60)\n", "", QUICK)
    assert not outcome.passed and outcome.reason == "timeout"


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="only Linux enforces an address-space limit"
)
def test_code_that_allocates_too_much_is_stopped_and_failed():
    outcome = run_tests("block = bytearray(2 * 1024**3)\n", "", QUICK)
    assert not outcome.passed and outcome.reason == "memory"


def test_code_sees_none_of_the_callers_environment(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-the-model")
    monkeypatch.setenv("CODEGEN_TEST_SECRET", "nor-this")
    code = "import os\nleaked = {k: v for k, v in os.environ.items() if 'SECRET' in k}\n"
    outcome = run_tests(code, "assert leaked, 'nothing to read'\n", QUICK)
    assert not outcome.passed and "nothing to read" in outcome.detail


def test_code_cannot_reach_the_network():
    with listener() as (port, reached):
        code = (
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
        )
        outcome = run_tests(code, "", QUICK)
    assert not outcome.passed and reached == []


def reference_answers(task):
    return {
        "code": task.reference,
        "usage": {"input_tokens": 100, "output_tokens": 50},
        "syntax": {"status": "ok"},
    }


def test_the_summary_counts_passes_parses_latency_tokens_and_cost():
    tasks = chosen_tasks("add,fizzbuzz,gcd")
    ticks = iter(range(100))
    answers = {
        "add": {**reference_answers(tasks[0]), "syntax": {"status": "ok", "repair": "repaired"}},
        "fizzbuzz": {
            "code": "def fizzbuzz(n)\n",
            "usage": {"input_tokens": 100, "output_tokens": 10},
            "syntax": {"status": "error", "line": 1},
        },
    }

    def ask(task):
        if task.name == "gcd":
            raise UserError("HTTP 503: the model is unavailable")
        return answers[task.name]

    prices = {"input_per_1000": 1.0, "output_per_1000": 2.0}
    results = evaluate(tasks, ask, prices, limits=QUICK, clock=lambda: float(next(ticks)))
    assert [(r.task, r.passed, r.reason) for r in results] == [
        ("add", True, "passed"),
        ("fizzbuzz", False, "error"),
        ("gcd", False, "request-failed"),
    ]
    summary = summarize(results)
    assert summary["pass_at_1"] == pytest.approx(1 / 3)
    assert summary["parse_share"] == pytest.approx(1 / 3)
    assert summary["repaired"] == 1 and results[0].repair == "repaired"
    assert summary["latency_p50_s"] == 1.0 and summary["latency_p95_s"] == 1.0
    assert summary["cost_per_task"] == pytest.approx((0.2 + 0.12 + 0) / 3)
    with pytest.raises(EvalError):
        summarize([])


def test_a_comparison_shows_the_change_and_which_tasks_moved():
    tasks = chosen_tasks("add,gcd")

    def record(passing: set[str], prompt: str) -> dict:
        def ask(task):
            code = task.reference if task.name in passing else "x = 1\n"
            return {"code": code, "usage": {}, "syntax": {"status": "ok"}}

        return run_record(
            evaluate(tasks, ask, {}, limits=QUICK),
            system_prompt_sha256=prompt,
            syntax_repair=prompt == "bbb",
        )

    before, after = record({"add"}, "aaa"), record({"add", "gcd"}, "bbb")
    lines = compare(json.loads(json.dumps(after)), json.loads(json.dumps(before)))
    assert lines[0].startswith("pass@1") and "50% -> 100% (+50 points)" in lines[0]
    assert "now passing: gcd" in lines and "now failing: none" in lines
    assert "system_prompt_sha256: aaa -> bbb" in lines
    assert "syntax_repair: False -> True" in lines


def test_bad_options_are_refused_before_anything_is_sent(tmp_path):
    with pytest.raises(EvalError, match="no task nope in the suite"):
        chosen_tasks("add,nope")
    with pytest.raises(EvalError, match="cannot read an eval report"):
        earlier_run(str(tmp_path / "missing.json"))
    (tmp_path / "other.json").write_text('{"figures": []}')
    with pytest.raises(EvalError, match="not an eval report"):
        earlier_run(str(tmp_path / "other.json"))


def test_answers_the_service_cannot_check_are_left_out_of_the_parse_share():
    def result(task: str, language: str, syntax: str, passed: bool) -> TaskResult:
        return TaskResult(task, passed, "passed", syntax, 1.0, 0, 0, 0.0, "", language=language)

    summary = summarize(
        [
            result("add", "python", "ok", True),
            result("gcd", "python", "error", False),
            result("js_add", "javascript", "unchecked", True),
        ]
    )
    assert summary["parse_share"] == pytest.approx(1 / 2)
    assert summary["by_language"]["javascript"] == {
        "tasks": 1,
        "passed": 1,
        "pass_at_1": 1.0,
        "parse_share": None,
    }
    assert summary["by_language"]["python"]["pass_at_1"] == pytest.approx(1 / 2)

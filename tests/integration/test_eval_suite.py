"""`invoke eval`'s parts without a stage: the suite can be solved (every reference passes its
own tests in the sandbox), and the summary and the comparison say what the results say (the
sandbox's own tests: test_eval_sandbox.py)."""

import json

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
    run_tests,
)
from deploy.evaluation.stage import chosen_tasks, earlier_run, runnable
from deploy.evaluation.suite import TASKS
from layer_builder.errors import UserError
from tests.system_packages import require_node

QUICK = Limits(cpu_seconds=2, memory_bytes=256 * 2**20, wall_seconds=4.0)


def test_the_suite_has_thirty_distinct_python_tasks_and_some_in_javascript():
    assert sum(task.language == "python" for task in TASKS) >= 30
    assert len({task.name for task in TASKS}) == len(TASKS)
    assert {task.language for task in TASKS} == {"python", "javascript"}


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.name)
def test_every_reference_solution_passes_its_own_tests(task):
    if task.language == "javascript":
        require_node()
    outcome = run_tests(task.reference, task.tests, language=task.language)
    assert outcome.passed, outcome.detail


def test_tasks_without_their_runtime_are_skipped_and_said(monkeypatch):
    monkeypatch.setattr(
        "deploy.evaluation.sandbox.shutil.which", lambda name: None if name == "node" else name
    )
    tasks, skipped = runnable(chosen_tasks("add,js_add"))
    assert [task.name for task in tasks] == ["add"]
    assert skipped == {"js_add": "no node on PATH (install Node.js)"}


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

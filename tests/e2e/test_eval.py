"""`invoke eval` on the local stage: a few of the suite's tasks through the real API and the
local model, each answer run in the sandbox, the report written and comparable."""

import json
import sys

import pytest

from deploy.evaluation.runner import compare
from deploy.evaluation.sandbox import sandbox_description
from deploy.evaluation.stage import chosen_tasks, run_on_stage
from tests.e2e.variants import BASE
from tests.system_packages import require_node

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.registry,
    pytest.mark.terraform,
    pytest.mark.model,
    pytest.mark.variants(BASE),
]

FEW = "add,digit_sum,reverse_words,is_palindrome"


def evaluate(local_stage, tasks: str, tmp_path) -> dict:
    deployer = local_stage.on(BASE).deployer()
    lines: list[str] = []
    record = run_on_stage(deployer, chosen_tasks(tasks), tmp_path, None, lines.append)
    print("\n".join(lines))
    return record


def test_an_eval_of_a_few_tasks_scores_the_local_models_answers(local_stage, tmp_path):
    record = evaluate(local_stage, FEW, tmp_path)
    summary = record["summary"]
    assert record["skipped"] == {}
    assert summary["tasks"] == 4 and 0 <= summary["passed"] <= 4
    print(f"pass@1 {summary['pass_at_1']:.0%}, parse {summary['parse_share']:.0%}")
    results = {result["task"]: result for result in record["results"]}
    assert set(results) == set(FEW.split(","))
    for result in results.values():
        assert result["reason"] != "request-failed", result
        assert result["syntax"] in ("ok", "error"), result
        assert result["output_tokens"] > 0
        assert result["latency_s"] > 0 and result["cost"] == 0  # local prices are 0
        assert result["passed"] == (result["reason"] == "passed")
    # The tiny model writes `add` right: the pass rate is measured, not assumed to be zero.
    assert results["add"]["passed"], results["add"]
    written = json.loads((tmp_path / "eval-local.json").read_text())
    assert written["summary"] == summary and written["stage"] == "local"
    assert written["sandbox"] == sandbox_description()  # what confined the code, said
    assert compare(written, written)[0].endswith("(+0 points)")


def test_an_eval_runs_a_javascript_answer_under_node_in_the_sandbox(local_stage, tmp_path):
    require_node()  # a laptop without Node.js skips, saying so; CI has one
    record = evaluate(local_stage, "js_add", tmp_path)
    assert record["skipped"] == {}
    (result,) = record["results"]
    assert result["task"] == "js_add" and result["language"] == "javascript"
    assert result["reason"] != "request-failed" and result["output_tokens"] > 0, result
    # tree-sitter judges JavaScript where the layer's compiled grammar loads: on Linux.
    checked = sys.platform.startswith("linux")
    assert result["syntax"] in (("ok", "error") if checked else ("unchecked",)), result
    assert result["passed"], result  # the tiny model writes `add` right in JavaScript too

"""What a caller's budget costs a PUT, on the local stack, in one run: the same PUT on a stage
whose callers have a budget (a reservation before the model call: one read of the caller's
budget, one conditional write of the day's and month's counters; the settlement after) and
on a stage without one (the settlement only: spend is counted either way).

    python bench/spend.py

Starts its own local stage with the local model, deploys the real function twice through the
real Terraform (two stages side by side in one emulator, routes open), then sends ROUNDS
pairs, interleaved so that drift in the machine's speed hits both alike. Goal: a PUT with a
budget at most 1.05x one without.
"""

import json
import statistics
import tempfile
import time
from pathlib import Path

from _common import bench_stage, deploy_open_stage, print_table, record

from deploy.call import call

ROUNDS = 11
REQUEST = {
    "message": "a function that checks whether a string is a palindrome",
    "key": "python",
    "temperature": 0,
    "max_tokens": 64,
}
BUDGET = {"tokens_per_day": 10_000_000, "tokens_per_month": 100_000_000}


def put(url: str) -> tuple[float, dict]:
    started = time.perf_counter()
    result = call(url, json.dumps(REQUEST).encode(), region="us-east-1", credentials=None)
    seconds = time.perf_counter() - started
    if result.status != 200:
        raise AssertionError(f"HTTP {result.status}: {result.body[:300]!r}")
    return seconds, result.json()


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with bench_stage(root) as state:
            plain_url = deploy_open_stage(root, state, "plain")[0].generation_url
            budget_url = deploy_open_stage(root, state, "budget", spend_budget=BUDGET)[
                0
            ].generation_url
            for url in (plain_url, budget_url):  # warm: functions started, the model loaded
                put(url)
            plain, budgeted, tokens = [], [], set()
            for _ in range(ROUNDS):
                seconds, answer = put(plain_url)
                plain.append(seconds)
                tokens.add(answer["usage"]["output_tokens"])
                seconds, answer = put(budget_url)
                assert answer["budget"]["limits"] == BUDGET, answer.get("budget")
                budgeted.append(seconds)

    plain_s, budget_s = statistics.median(plain), statistics.median(budgeted)
    print_table(
        f"a caller's budget on the local stack (median of {ROUNDS}, answers of "
        f"{sorted(tokens)} tokens)",
        [
            ("PUT, no budget (spend counted)", f"{plain_s:.3f} s"),
            ("PUT with a budget", f"{budget_s:.3f} s = {budget_s / plain_s:.3f}x (goal <= 1.05x)"),
        ],
    )
    record("PUT with a budget", budget_s, "s", baseline=plain_s, baseline_name="PUT without one")


if __name__ == "__main__":
    main()

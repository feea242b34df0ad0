"""Idempotency-Key on the local stack, in one run: what the key costs a fresh synchronous PUT
(against the same PUT without a key), and how fast a replayed answer comes back.

    python bench/idempotency.py

Starts its own local stage with the local model (own state directory), deploys the real
function through the real Terraform (routes open, generous throttling), then sends ROUNDS
triples, interleaved so that drift in the machine's speed hits each kind alike: a PUT with no
key, a PUT with a new key, and the same keyed PUT again (a replay: no model call). Goal: a
keyed fresh PUT at most 1.05x one without a key.
"""

import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from _common import bench_stage, deploy_open_stage, print_table, record

from deploy.call import CallResult, call

ROUNDS = 9
REQUEST = {
    "message": "a function that checks whether a string is a palindrome",
    "key": "python",
    "temperature": 0,
    "max_tokens": 64,
}


def put(url: str, key: str | None) -> tuple[float, CallResult, dict]:
    headers = {"Idempotency-Key": key} if key is not None else {}
    data = json.dumps(REQUEST).encode()
    started = time.perf_counter()
    result = call(url, data, region="us-east-1", credentials=None, headers=headers, timeout=120)
    seconds = time.perf_counter() - started
    if result.status != 200:
        raise AssertionError(f"HTTP {result.status}: {result.body[:300]!r}")
    return seconds, result, result.json()


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with bench_stage(root) as state:
            url = deploy_open_stage(root, state)[0].generation_url
            put(url, None)  # warm: the function started, the model loaded
            put(url, str(uuid.uuid4()))
            plain, keyed, replayed, tokens = [], [], [], set()
            for _ in range(ROUNDS):
                seconds, _, body = put(url, None)
                plain.append(seconds)
                tokens.add(body["usage"]["output_tokens"])
                key = str(uuid.uuid4())
                seconds, _, first = put(url, key)
                keyed.append(seconds)
                seconds, result, again = put(url, key)
                assert result.header("Idempotent-Replayed") == "true" and again == first
                replayed.append(seconds)

    plain_s, keyed_s = statistics.median(plain), statistics.median(keyed)
    replay_s = statistics.median(replayed)
    print_table(
        f"Idempotency-Key on the local stack (median of {ROUNDS}, answers of "
        f"{sorted(tokens)} tokens)",
        [
            ("PUT without a key", f"{plain_s:.3f} s"),
            ("PUT with a new key", f"{keyed_s:.3f} s = {keyed_s / plain_s:.3f}x (goal <= 1.05x)"),
            ("the same keyed PUT again (replayed)", f"{replay_s * 1000:.1f} ms"),
        ],
    )
    record("keyed fresh PUT", keyed_s, "s", baseline=plain_s, baseline_name="PUT without a key")
    record("replayed answer", replay_s, "s", baseline=plain_s, baseline_name="PUT without a key")


if __name__ == "__main__":
    main()

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
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from _common import bench_stage, deploy_open_function, print_table, record

ROUNDS = 9
REQUEST = {
    "message": "a function that checks whether a string is a palindrome",
    "key": "python",
    "temperature": 0,
    "max_tokens": 64,
}


def put(url: str, key: str | None) -> tuple[float, dict, dict]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    data = json.dumps(REQUEST).encode()
    request = urllib.request.Request(url, data=data, method="PUT", headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            body, answer = json.loads(response.read()), dict(response.headers.items())
    except urllib.error.HTTPError as error:
        raise AssertionError(f"HTTP {error.code}: {error.read()[:300]!r}") from None
    return time.perf_counter() - started, answer, body


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with bench_stage(root) as state:
            url = deploy_open_function(root, state)
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
                seconds, headers, again = put(url, key)
                assert headers.get("Idempotent-Replayed") == "true" and again == first
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

"""What operating a stage costs, in one run: the EMF record each request and job writes
(against the same log line without it), and on the local stack the time from a request's
answer to its lines in `invoke logs` (against the request's own time).

    python bench/operate.py

Goal: the EMF record under 1 ms per request. The local stage ships log lines to its
emulator a few times a second (local_stage/log_shipper.py): a request's lines should be
readable well within a second of its answer.
"""

import contextlib
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import bench_stage, deploy_open_stage, print_table, record

from deploy.call import call

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lambda"))

CALLS = 20_000
ROUNDS = 7
FIELDS = {
    "request_id": "6b1f6c5e-3f44-4a57-9d7f-2f1a4c1b9e21",
    "api_request_id": "Xyz123abcdEFg=",
    "status": 200,
    "latency_ms": 812.4,
    "language": "python",
    "model": "us.anthropic.claude-haiku-5-5",
    "input_tokens": 61,
    "output_tokens": 188,
    "model_latency_ms": 790,
    "stored": True,
    "key": "code-output/2026/12/02/6b1f6c5e.py",
}
REQUEST = {"message": "a function that adds two numbers", "key": "python", "max_tokens": 32}


def per_call_ms(action) -> float:
    """The median over ROUNDS of one call's time, each round CALLS calls into a buffer."""
    rounds = []
    for _ in range(ROUNDS):
        with contextlib.redirect_stdout(io.StringIO()):
            started = time.perf_counter()
            for _ in range(CALLS // ROUNDS):
                action()
            rounds.append((time.perf_counter() - started) / (CALLS // ROUNDS) * 1000)
    return statistics.median(rounds)


def emf_cost() -> tuple[float, float]:
    from codegen.telemetry.access_log import log_request
    from codegen.telemetry.metrics import MetricsTarget

    target = MetricsTarget("CodeGen", "dev", FIELDS["model"])
    plain = per_call_ms(lambda: log_request(**FIELDS))
    with_emf = per_call_ms(lambda: log_request(target, "PUT /code-generation", **FIELDS))
    return plain, with_emf


def log_delay() -> tuple[float, float]:
    """Median seconds from a PUT's answer to its access-log line read back, and of the PUT."""
    from deploy.emulator_target import EmulatorTarget
    from deploy.logs import LogReader, sources
    from deploy.stages import load_stage

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with bench_stage(root) as state:
            endpoint, outputs = deploy_open_stage(root, state)
            url = endpoint.generation_url
            target = EmulatorTarget(
                load_stage("local"),
                state.emulator_url,
                lambda line: None,
                credentials=state.credentials,
            )
            logs = target.client("logs")  # as `invoke logs` reads the local stage
            reader = LogReader(logs, sources(outputs, "api"))
            put(url)  # warm: the function started, the model loaded
            delays, requests = [], []
            for _ in range(ROUNDS):
                since = int(time.time() * 1000) - 1000
                started = time.perf_counter()
                request_id = put(url)
                answered = time.perf_counter()
                requests.append(answered - started)
                while not any(
                    line.source == "access" for line in reader.related(since, None, request_id)
                ):
                    time.sleep(0.02)
                delays.append(time.perf_counter() - answered)
    return statistics.median(delays), statistics.median(requests)


def put(url: str) -> str:
    result = call(url, json.dumps(REQUEST).encode(), region="us-east-1", credentials=None)
    assert result.status == 200, result.body[:300]
    return str(result.header("apigw-requestid"))


def main() -> None:
    plain_ms, emf_ms = emf_cost()
    delay_s, request_s = log_delay()
    print_table(
        "Operating a stage",
        [
            ("a request's log line, plain", f"{plain_ms * 1000:.1f} us"),
            (
                "the same line as an EMF record",
                f"{emf_ms * 1000:.1f} us = {emf_ms / plain_ms:.2f}x; "
                f"+{(emf_ms - plain_ms) * 1000:.1f} us (goal < 1 ms)",
            ),
            (f"a PUT on the local stack (median of {ROUNDS})", f"{request_s:.3f} s"),
            (
                "its answer to its lines in `invoke logs`",
                f"{delay_s:.3f} s = {delay_s / request_s:.2f}x the PUT",
            ),
        ],
    )
    record(
        "EMF log record",
        emf_ms / 1000,
        "s",
        baseline=plain_ms / 1000,
        baseline_name="the plain log line",
    )
    record(
        "answer to its lines in invoke logs (local)",
        delay_s,
        "s",
        baseline=request_s,
        baseline_name="the PUT",
    )


if __name__ == "__main__":
    main()

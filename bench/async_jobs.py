"""The async path on the local stack, in one run: a job's submit-to-running latency, and its
whole time (submit, queue, worker, poll) against a synchronous request of the same size.

    python bench/async_jobs.py

Starts its own local stage with the local model (own state directory), deploys the real
function through the real Terraform (routes open, generous throttling), and runs ROUNDS pairs
of the same request, one synchronous and one as a job, one after the other (interleaved, so
drift in the machine's speed hits both alike). A job's time is its own clock, from its record
(created to finished): the bench polls it every POLL_S seconds, as `invoke call --async`
first does, because polling faster (every 50 ms) runs the job routes' function twenty times a
second and, on 2 cores, takes about a second of CPU from the model the job is waiting for.
"""

import json
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin

from _common import bench_stage, deploy_open_stage, print_table, record

from deploy.call import FIRST_POLL_S, CallResult, Endpoint, call

ROUNDS = 7
POLL_S = FIRST_POLL_S  # as `invoke call --async` first polls
MAX_TOKENS = 256
REQUEST = {
    "message": "a function that checks whether a string is a palindrome, with a docstring",
    "key": "python",
    "temperature": 0,
    "max_tokens": MAX_TOKENS,
}


def http(method: str, url: str, body: dict | None = None) -> tuple[int, CallResult, dict]:
    """(status, the answer, its JSON) of an unsigned request through the tooling's client."""
    data = json.dumps(body).encode() if body is not None else b""
    result = call(url, data, region="us-east-1", credentials=None, method=method, timeout=120)
    return result.status, result, json.loads(result.body or b"{}")


def synchronous(endpoint: Endpoint) -> tuple[float, int]:
    started = time.perf_counter()
    status, _result, answer = http("PUT", endpoint.generation_url, REQUEST)
    elapsed = time.perf_counter() - started
    assert status == 200, answer
    return elapsed, answer["usage"]["output_tokens"]


def as_job(endpoint: Endpoint) -> tuple[float, float, float, float, int]:
    """(seconds to the 202; by the job's own clock, seconds from submit to running and to
    finished; seconds from submit until a poll saw it succeeded; output tokens)."""
    started = time.perf_counter()
    status, result, answer = http("POST", endpoint.jobs_url, REQUEST)  # the job route
    accepted = time.perf_counter() - started
    assert status == 202, answer
    job_url = urljoin(endpoint.jobs_url, result.header("Location"))
    while True:
        status, _result, job = http("GET", job_url)
        assert status == 200, job
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(POLL_S)
    done = time.perf_counter() - started
    assert job["status"] == "succeeded", job
    created = datetime.fromisoformat(job["created_at"])
    to_running = (datetime.fromisoformat(job["started_at"]) - created).total_seconds()
    to_finished = (datetime.fromisoformat(job["finished_at"]) - created).total_seconds()
    return accepted, to_running, to_finished, done, job["usage"]["output_tokens"]


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with bench_stage(root) as state:
            endpoint, _ = deploy_open_stage(root, state)
            synchronous(endpoint)  # warm: both functions started, the model loaded
            as_job(endpoint)
            sync_s, job_rows, tokens = [], [], set()
            for _ in range(ROUNDS):
                seconds, sync_tokens = synchronous(endpoint)
                sync_s.append(seconds)
                *row, job_tokens = as_job(endpoint)
                job_rows.append(row)
                tokens |= {sync_tokens, job_tokens}

    accepted = statistics.median(row[0] for row in job_rows)
    to_running = statistics.median(row[1] for row in job_rows)
    job_s = statistics.median(row[2] for row in job_rows)
    seen_s = statistics.median(row[3] for row in job_rows)
    sync = statistics.median(sync_s)
    print_table(
        f"async jobs on the local stack (median of {ROUNDS}, {MAX_TOKENS} tokens at most, "
        f"answers of {sorted(tokens)} tokens)",
        [
            ("submit -> 202 Accepted", f"{accepted * 1000:.1f} ms"),
            ("submit -> running (the job's clock)", f"{to_running * 1000:.1f} ms"),
            ("sync request", f"{sync:.3f} s"),
            ("job, submit -> finished (the job's clock)", f"{job_s:.3f} s"),
            (f"job, submit -> seen succeeded (poll {POLL_S * 1000:.0f} ms)", f"{seen_s:.3f} s"),
            ("job overhead", f"{(job_s - sync) * 1000:.0f} ms = {job_s / sync:.2f}x sync"),
        ],
    )
    record("submit to 202", accepted, "s")
    record("submit to running", to_running, "s")
    record("job end to end (its clock)", job_s, "s", baseline=sync, baseline_name="sync request")
    record(f"job seen succeeded (poll {POLL_S:g} s)", seen_s, "s")


if __name__ == "__main__":
    main()

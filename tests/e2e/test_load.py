"""A bounded load against the local stack (loopback only, a fixed number of requests, stops
by itself): at the stage's throttling limit every request is served; above it the surplus
gets 429 and nothing else goes wrong; no worker process leaks; the server's memory stays
flat from one round to the next."""

import concurrent.futures
import time

import psutil
import pytest

from tests.e2e.helpers import send, write_function

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.registry, pytest.mark.terraform]
LOCAL_MODEL = False  # a stub function: this measures the stack, not the model

RATE, BURST = 20, 20  # the stage's throttling for this test
HANDLER = """
def lambda_handler(event, context):
    return {"statusCode": 200, "body": "ok"}
"""


@pytest.fixture(scope="module")
def url(local_stage):
    source = write_function(local_stage.root, HANDLER)
    deployer = local_stage.deployer(
        source, throttling_rate_limit=RATE, throttling_burst_limit=BURST
    )
    assert deployer.deploy().changed
    return local_stage.url()


def paced(url: str, per_second: float, seconds: float, workers: int = 8) -> list[int]:
    """Statuses of requests started at `per_second` for `seconds`, however long each takes."""
    count = int(per_second * seconds)
    start = time.monotonic()

    def one(index: int) -> int:
        delay = start + index / per_second - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return send(url, timeout=30)[0]

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(count)))


def refill() -> None:
    time.sleep(BURST / RATE + 0.2)  # a token bucket refills with time alone


def workers_of(local_stage) -> list[psutil.Process]:
    server = psutil.Process(local_stage.state.pid)
    return [p for p in server.children(recursive=True) if "awslambdaric" in " ".join(p.cmdline())]


def test_at_the_limit_every_request_is_served(local_stage, url):
    # Warm first: a request that waits for a cold start holds its client thread, and the
    # requests queued behind it would then go out together, faster than the pace.
    paced(url, RATE * 0.5, 1)
    refill()
    statuses = paced(url, RATE * 0.9, 4, workers=16)
    assert statuses and set(statuses) == {200}, statuses


def test_above_the_limit_only_the_surplus_gets_429(local_stage, url):
    refill()
    seconds = 3
    statuses = paced(url, RATE * 3, seconds, workers=16)
    assert set(statuses) <= {200, 429}, statuses
    served = statuses.count(200)
    assert statuses.count(429) > 0
    # The bucket lets through its burst plus its rate for the time the run took (+ slack for
    # the refill while the first requests were in flight).
    assert BURST <= served <= BURST + RATE * (seconds + 1), served


def test_no_worker_leaks_and_memory_stays_flat_round_after_round(local_stage, url):
    server = psutil.Process(local_stage.state.pid)
    refill()
    paced(url, RATE * 0.9, 3)  # warm: workers started, caches filled
    warm_rss = server.memory_info().rss
    for _ in range(3):
        refill()
        paced(url, RATE * 0.9, 3)
    grown_mb = (server.memory_info().rss - warm_rss) / 2**20
    assert grown_mb < 15, f"the stage server grew {grown_mb:.1f} MB over 3 rounds"
    assert len(workers_of(local_stage)) <= 4  # the runtime's bound of warm workers

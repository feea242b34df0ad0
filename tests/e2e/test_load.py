"""A bounded load against the local stack (loopback only, a fixed number of requests, stops
by itself): at the stage's throttling limit every request is served; above it the surplus
gets 429 and nothing else goes wrong; no worker process leaks; the server's memory stays
flat from one round to the next.

What a test asserts holds whatever the machine's speed: requests at the limit are spaced from
the previous one's start (a slow answer only slows them down, never bunches them); the floods
above the limits must get 429s, so they are sized to exceed the bucket on any machine (the
stage's 5 a second for 150 requests: unless they took over 28 s; 100 a second, burst 30, for
600 unsigned requests, which the gateway refuses before any function runs: unless they took
over 5.6 s; on 2 cores, beside a CI run, they took 7.8 s and 0.35 s), and the surplus is
checked against the rate the test really sent."""

import concurrent.futures
import time

import psutil
import pytest

from tests.e2e.helpers import send
from tests.e2e.variants import Variant

RATE, BURST = 5, 5  # the stage's throttling for this module: any machine's flood exceeds it
HANDLER = """
def lambda_handler(event, context):
    return {"statusCode": 200, "body": "ok"}
"""
LIMITED = Variant(
    "limited", {"throttling_rate_limit": RATE, "throttling_burst_limit": BURST}, HANDLER
)
# The API stage's own scale of limits.
HUNDRED = Variant("hundred", {"throttling_rate_limit": 100, "throttling_burst_limit": 30}, HANDLER)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.registry,
    pytest.mark.terraform,
    pytest.mark.variants(LIMITED, HUNDRED),
]


@pytest.fixture
def url(local_stage):
    return local_stage.on(LIMITED).url()


def spaced(url: str, per_second: float, seconds: float) -> list[int]:
    """Statuses of requests sent one after another, each at least 1/`per_second` after the
    previous one started: never faster than `per_second` over any stretch of them."""
    statuses = []
    next_start = time.monotonic()
    for _ in range(int(per_second * seconds)):
        delay = next_start - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        next_start = time.monotonic() + 1 / per_second
        statuses.append(send(url, timeout=30)[0])
    return statuses


def flood(url: str, count: int, workers: int = 16, *, sign: bool = True) -> tuple[list[int], float]:
    """Statuses of `count` requests sent as fast as `workers` threads can, and the seconds
    from the first request's start to the last answer."""
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        statuses = list(pool.map(lambda _: send(url, sign=sign, timeout=30)[0], range(count)))
    return statuses, time.monotonic() - start


def refill(rate: float = RATE, burst: int = BURST) -> None:
    time.sleep(burst / rate + 0.2)  # a token bucket refills with time alone


def check_the_surplus(statuses: list[int], seconds: float, rate: float, burst: int, ok: int):
    """The bucket's rule against the flood really sent: a full bucket lets its burst through
    at once, then its rate for the time the flood took (+1 for the token refilled while the
    first request was in flight); every request past that is refused, and some are."""
    print(f"{len(statuses)} requests in {seconds:.2f} s: {statuses.count(429)} refused")
    assert set(statuses) <= {ok, 429}, statuses
    allowed = burst + rate * seconds + 1
    assert burst <= statuses.count(ok) <= allowed, (statuses.count(ok), seconds)
    assert statuses.count(429) >= len(statuses) - allowed, (statuses.count(429), seconds)
    assert statuses.count(429) > 0, f"no request of {len(statuses)} in {seconds:.1f} s refused"


def workers_of(local_stage) -> list[psutil.Process]:
    """The runtime workers of the LIMITED variant's API function (the shared stack runs
    other functions too, some with the same handler: the function's name in each worker's
    environment tells them apart)."""
    server = psutil.Process(local_stage.state.pid)
    name = local_stage.on(LIMITED).function_name
    return [
        process
        for process in server.children(recursive=True)
        if "codegen.handler.lambda_handler" in process.cmdline()
        and process.environ().get("AWS_LAMBDA_FUNCTION_NAME") == name
    ]


def test_at_the_limit_every_request_is_served(local_stage, url):
    # Any stretch of n requests spans at least (n - 1) / (0.9 RATE) seconds at the gateway,
    # in which the bucket gains more tokens than they take: none may be refused.
    refill()
    statuses = spaced(url, RATE * 0.9, 4)
    assert statuses and set(statuses) == {200}, statuses


def test_bursts_beyond_the_stage_limits_get_429_and_only_the_surplus(local_stage, url):
    refill()
    statuses, seconds = flood(url, 150)
    check_the_surplus(statuses, seconds, RATE, BURST, ok=200)


@pytest.mark.settled  # the emulator's memory: no other stage may be deploying meanwhile
def test_no_worker_leaks_and_memory_stays_flat_round_after_round(local_stage, url):
    server = psutil.Process(local_stage.state.pid)
    refill()
    spaced(url, RATE * 0.9, 3)  # warm: workers started, caches filled
    warm_rss = server.memory_info().rss
    for _ in range(3):
        refill()
        spaced(url, RATE * 0.9, 3)
    grown_mb = (server.memory_info().rss - warm_rss) / 2**20
    assert grown_mb < 15, f"the stage server grew {grown_mb:.1f} MB over 3 rounds"
    assert 1 <= len(workers_of(local_stage)) <= 4  # the runtime's bound of warm workers


def test_a_flood_past_100_a_second_and_a_burst_of_30_gets_429(local_stage):
    """The API stage's own scale of limits. Unsigned, the requests the bucket lets through
    are refused by the route's IAM authorization (403) without running the function, so the
    flood outpaces 100 a second on any machine that can run the stack."""
    refill(100, 30)
    statuses, seconds = flood(local_stage.on(HUNDRED).url(), 600, workers=32, sign=False)
    check_the_surplus(statuses, seconds, 100, 30, ok=403)

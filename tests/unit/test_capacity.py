"""The arithmetic the preflight does before a deploy, at AWS's edges: accounts whose limit is
10 (new), 50 (some new ones) and 1,000 (AWS's default), a redeploy that gives its own
reservations back first, and Bedrock quotas of 0."""

import pytest

from deploy.capacity import (
    CLAUDE_OUTPUT_BURNDOWN,
    Reservations,
    concurrency_verdict,
    quota_verdict,
    token_demand,
)
from deploy.stages import load_stage

DEV = load_stage("dev").variables


def test_a_stage_reserves_its_api_its_job_routes_and_its_worker():
    reservations = Reservations.of_stage(DEV)
    assert (reservations.api, reservations.jobs_api, reservations.worker) == (
        DEV["reserved_concurrency"],
        DEV["jobs_api_reserved_concurrency"],
        DEV["job_max_concurrency"],
    )
    unreserved = Reservations.of_stage(
        {**DEV, "reserved_concurrency": -1, "jobs_api_reserved_concurrency": -1}
    )
    assert unreserved.total == DEV["job_max_concurrency"]


@pytest.mark.parametrize(
    ("limit", "wanted", "fits", "reservable"),
    [
        (10, 1, False, 0),  # a new account keeps all 10 unreserved
        (10, 0, True, 0),  # nothing reserved: nothing refused
        (50, 9, False, 0),  # the same at 50
        (1000, 9, True, 900),  # AWS's default: up to limit - 100
        (1000, 900, True, 900),  # exactly what is left
        (1000, 901, False, 900),  # one more is refused
        (109, 9, True, 9),
        (108, 9, False, 8),
    ],
)
def test_reservations_fit_only_above_lambdas_unreserved_minimum(limit, wanted, fits, reservable):
    verdict = concurrency_verdict(limit, unreserved=limit, wanted=wanted)
    assert (verdict.fits, verdict.reservable) == (fits, reservable)
    assert verdict.minimum_unreserved == min(100, limit)


def test_a_redeploy_gives_back_what_the_stage_holds_before_taking_it_again():
    # 1,000 limit, 120 reserved: 100 by other functions, 20 by the stage itself.
    again = concurrency_verdict(1000, unreserved=880, wanted=20, own_now=20)
    assert again.fits and again.others == 100 and again.reservable == 800
    more = concurrency_verdict(1000, unreserved=880, wanted=801, own_now=20)
    assert not more.fits


def test_the_limit_to_ask_for_makes_room_for_the_stage_and_the_minimum():
    new_account = concurrency_verdict(10, unreserved=10, wanted=9)
    assert new_account.desired_limit == 109
    assert concurrency_verdict(new_account.desired_limit, 109, 9).fits
    crowded = concurrency_verdict(1000, unreserved=100, wanted=5)
    assert crowded.desired_limit == 1005
    assert concurrency_verdict(1005, 105, 5).fits


def test_the_arithmetic_is_spelled_out_in_the_verdict():
    reservations = Reservations(5, 2, 2)
    words = concurrency_verdict(10, 10, reservations.total).arithmetic(reservations)
    assert "5 (API) + 2 (job routes) + 2 (worker) = 9" in words
    assert "limit is 10" in words and "keeps 10 unreserved" in words and "0 can be" in words


def test_what_a_stage_can_ask_of_the_model_in_a_minute():
    demand = token_demand(DEV, "Anthropic")
    generations = DEV["reserved_concurrency"] + DEV["job_max_concurrency"]
    expected = generations * DEV["model_tokens_per_second"] * 60 * CLAUDE_OUTPUT_BURNDOWN
    assert demand.per_minute == expected
    assert f"= {expected:,} tokens/minute" in demand.spelled()
    # Unreserved, the API's burst is what can run at once; another provider burns 1:1.
    open_stage = {**DEV, "reserved_concurrency": -1}
    other = token_demand(open_stage, "Amazon")
    assert other.generations == DEV["throttling_burst_limit"] + DEV["job_max_concurrency"]
    assert other.burndown == 1


@pytest.mark.parametrize(
    ("quota", "verdict"),
    [(None, "missing"), (0, "zero"), (0.0, "zero"), (1, "short"), (10**9, "ok")],
)
def test_a_quota_of_zero_refuses_and_a_small_one_warns(quota, verdict):
    assert quota_verdict(quota, token_demand(DEV, "Anthropic")) == verdict


def test_a_quota_equal_to_the_demand_is_enough():
    demand = token_demand(DEV, "Anthropic")
    assert quota_verdict(demand.per_minute, demand) == "ok"
    assert quota_verdict(demand.per_minute - 1, demand) == "short"

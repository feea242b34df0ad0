"""Spend per caller on moto's DynamoDB: what a generation counts, the reservation a budget
holds before the model is called, what a capped request may use, the 429 with its reset,
settlement and release, the soft alert once a period, overrides by caller and by role, and a
table that cannot be reached failing closed."""

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from codegen.http.errors import HttpError
from codegen.spend.ledger import Prices, SpendLedger, role_arn
from codegen.spend.limits import NO_LIMITS, parse_limits, periods
from tests.unit.function.helpers import SPEND_TABLE, create_spend_table

CALLER, ARN = "123456789012:AIDAEXAMPLE", "arn:aws:iam::123456789012:user/ana"
NOW = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)  # 6 h before the day's reset


class Notices:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, subject: str, message: str) -> None:
        self.sent.append((subject, message))


@pytest.fixture
def dynamodb():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_spend_table(client)
        yield client


FREE = Prices(0, 0)  # the local stage's prices


def ledger(dynamodb, budget=None, prices=FREE, notices=None, now=NOW) -> SpendLedger:
    return SpendLedger(
        dynamodb,
        SPEND_TABLE,
        prices,
        parse_limits(budget, "test") if budget else NO_LIMITS,
        30,
        notify=notices or Notices(),
        clock=lambda: now,
    )


def item(dynamodb, period: str, caller: str = CALLER) -> dict:
    found = dynamodb.get_item(
        TableName=SPEND_TABLE, Key={"caller": {"S": caller}, "period": {"S": period}}
    ).get("Item", {})
    return {k: (int(v["N"]) if "N" in v else v.get("S")) for k, v in found.items()}


def test_a_generation_without_a_budget_is_counted_per_day_month_language_and_model(dynamodb):
    spend = ledger(dynamodb, prices=Prices(0.1, 0.5))
    grant = spend.reserve(CALLER, ARN, input_estimate=50, max_tokens=512)
    assert grant.max_tokens == 512 and not grant.capped and grant.answer_field() is None
    spend.settle(grant, 40, 200, "python", "m1")
    spend.settle(spend.reserve(CALLER, ARN, 50, 512), 10, 20, "go", "m1")
    day, month = item(dynamodb, "day#2026-12-07"), item(dynamodb, "month#2026-12")
    for counters in (day, month):
        assert counters["input_tokens"] == 50 and counters["output_tokens"] == 220
        assert counters["requests"] == 2 and counters["caller_arn"] == ARN
        # 50 x 0.1 / 1000 + 220 x 0.5 / 1000 dollars, in micro-dollars (rounded up per request)
        assert counters["used_micro"] == 4_000 + 100_000 + 1_000 + 10_000
    detail = item(dynamodb, "day#2026-12-07#python#m1")
    assert (detail["input_tokens"], detail["output_tokens"], detail["requests"]) == (40, 200, 1)
    # Kept the stage's retention after the period ends.
    assert month["expires_at"] == int(datetime(2027, 1, 31, tzinfo=UTC).timestamp())


def test_a_budget_reserves_before_and_settles_to_what_was_used(dynamodb):
    spend = ledger(dynamodb, {"tokens_per_day": 10_000})
    grant = spend.reserve(CALLER, ARN, input_estimate=100, max_tokens=900)
    assert item(dynamodb, "day#2026-12-07")["committed_tokens"] == 1000
    assert "month#2026-12" not in json.dumps(grant.record()["limits"])  # only the day is limited
    spend.settle(grant, 80, 300, "python", "m1")
    day = item(dynamodb, "day#2026-12-07")
    assert day["committed_tokens"] == 380 and day["reserved_tokens"] == 0
    assert grant.answer_field() == {
        "limits": {"tokens_per_day": 10000},
        "max_tokens": 900,
        "capped": False,
    }


def test_a_request_that_would_cross_the_budget_gets_only_what_is_left(dynamodb):
    spend = ledger(dynamodb, {"tokens_per_day": 1000})
    spend.settle(spend.reserve(CALLER, ARN, 100, 500), 100, 500, "python", "m1")  # 600 used
    grant = spend.reserve(CALLER, ARN, input_estimate=100, max_tokens=500)
    assert grant.capped and grant.max_tokens == 300  # 1000 - 600 - 100 of input
    assert item(dynamodb, "day#2026-12-07")["committed_tokens"] == 1000


def test_a_caller_with_nothing_left_gets_429_with_the_reset_and_what_is_left(dynamodb):
    spend = ledger(dynamodb, {"tokens_per_day": 1000, "tokens_per_month": 100_000})
    spend.settle(spend.reserve(CALLER, ARN, 100, 850), 100, 850, "python", "m1")
    with pytest.raises(HttpError) as refused:
        spend.reserve(CALLER, ARN, input_estimate=100, max_tokens=500)
    error = refused.value
    assert (error.status, error.code) == (429, "BudgetExceeded")
    assert error.headers["Retry-After"] == str(6 * 3600)  # the day's reset, UTC midnight
    assert error.details["left"] == {"tokens_this_day": 50, "tokens_this_month": 99_050}
    assert error.details["resets_at"] == "2026-12-08T00:00:00Z"
    # Nothing was reserved by the refusal.
    assert item(dynamodb, "day#2026-12-07")["committed_tokens"] == 950


def test_a_spent_month_says_the_months_reset(dynamodb):
    spend = ledger(dynamodb, {"tokens_per_day": 100_000, "tokens_per_month": 1000})
    spend.settle(spend.reserve(CALLER, ARN, 100, 900), 100, 900, "python", "m1")
    with pytest.raises(HttpError) as refused:
        spend.reserve(CALLER, ARN, 10, 10)
    assert refused.value.details["resets_at"] == "2027-01-01T00:00:00Z"


def test_a_dollar_budget_caps_by_the_output_price(dynamodb):
    prices = Prices(1.0, 2.0)  # $ per 1,000 tokens: an input token 1,000 micro, an output 2,000
    spend = ledger(dynamodb, {"usd_per_day": 1.0}, prices=prices)
    grant = spend.reserve(CALLER, ARN, input_estimate=100, max_tokens=1000)
    # $1 = 1,000,000 micro: 100 input tokens take 100,000, leaving 450 output tokens.
    assert grant.capped and grant.max_tokens == 450


def test_a_released_reservation_is_given_back(dynamodb):
    spend = ledger(dynamodb, {"tokens_per_day": 1000})
    grant = spend.reserve(CALLER, ARN, 100, 800)
    spend.release(grant)
    day = item(dynamodb, "day#2026-12-07")
    assert day["committed_tokens"] == 0 and day["reserved_tokens"] == 0
    assert spend.reserve(CALLER, ARN, 100, 800).max_tokens == 800


def test_an_override_by_caller_or_by_role_beats_the_default(dynamodb):
    session = "arn:aws:sts::123456789012:assumed-role/builders/alice"
    assert role_arn(session) == "arn:aws:iam::123456789012:role/builders"
    for caller, limits in (
        ("123456789012:AIDAGENEROUS", {"tokens_per_day": 1_000_000}),
        ("arn:aws:iam::123456789012:role/builders", {"tokens_per_day": 300}),
    ):
        dynamodb.put_item(
            TableName=SPEND_TABLE,
            Item={
                "caller": {"S": caller},
                "period": {"S": "budget"},
                "limits": {"S": json.dumps(limits)},
            },
        )
    spend = ledger(dynamodb, {"tokens_per_day": 1000})
    assert spend.reserve("123456789012:AIDAGENEROUS", ARN, 100, 5000).max_tokens == 5000
    assert spend.reserve("123456789012:AROABUILDERS", session, 100, 5000).max_tokens == 200
    assert spend.reserve(CALLER, ARN, 100, 5000).max_tokens == 900  # the default


def test_crossing_the_alert_share_notifies_once_a_period(dynamodb):
    notices = Notices()
    spend = ledger(dynamodb, {"tokens_per_day": 1000}, notices=notices)
    spend.settle(spend.reserve(CALLER, ARN, 10, 100), 100, 600, "python", "m1")  # 70%
    assert notices.sent == []
    spend.settle(spend.reserve(CALLER, ARN, 10, 100), 50, 60, "python", "m1")  # 81%
    spend.settle(spend.reserve(CALLER, ARN, 10, 50), 10, 20, "python", "m1")  # 84%
    assert len(notices.sent) == 1
    subject, message = notices.sent[0]
    assert "80%" in subject and CALLER in message and "810 of 1000 tokens" in message
    assert item(dynamodb, "day#2026-12-07")["alerted_at"]
    # The next day is a new period: its own alert.
    tomorrow = ledger(
        dynamodb, {"tokens_per_day": 1000}, notices=notices, now=datetime(2026, 12, 8, tzinfo=UTC)
    )
    tomorrow.settle(tomorrow.reserve(CALLER, ARN, 10, 100), 500, 400, "python", "m1")
    assert len(notices.sent) == 2


def test_a_table_that_cannot_be_reached_fails_the_request_closed(dynamodb):
    spend = ledger(dynamodb, {"tokens_per_day": 1000})
    spend.table = "no-such-table"
    with pytest.raises(HttpError) as refused:
        spend.reserve(CALLER, ARN, 10, 100)
    assert (refused.value.status, refused.value.code) == (503, "SpendUnavailable")


def test_periods_are_utc_days_and_months():
    at = periods(datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    assert at["day"].key == "day#2026-12-31" and at["month"].key == "month#2026-12"
    assert at["day"].ends == at["month"].ends == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad",
    [{"tokens_per_dya": 5}, {"tokens_per_day": -1}, {"usd_per_month": "ten"}, [1], "not json {"],
)
def test_a_malformed_budget_is_refused_with_the_reason(bad):
    with pytest.raises(ValueError, match="test: "):
        parse_limits(bad, "test")


def test_an_unreadable_override_is_an_error_not_a_free_pass(dynamodb):
    dynamodb.put_item(
        TableName=SPEND_TABLE,
        Item={"caller": {"S": CALLER}, "period": {"S": "budget"}, "limits": {"S": "{oops"}},
    )
    with pytest.raises((ValueError, ClientError)):
        ledger(dynamodb, {"tokens_per_day": 1000}).reserve(CALLER, ARN, 10, 100)

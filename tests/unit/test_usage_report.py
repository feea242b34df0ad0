"""`invoke usage`'s report (deploy.usage) on moto's DynamoDB: the window, the groupings, top
spenders first, and the totals it prints."""

from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from deploy.usage import read_usage, render, since_start, top_callers_today
from layer_builder.errors import UserError

TABLE = "codegen-test-spend"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def dynamodb():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "caller", "AttributeType": "S"},
                {"AttributeName": "period", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "caller", "KeyType": "HASH"},
                {"AttributeName": "period", "KeyType": "RANGE"},
            ],
        )
        rows = [  # caller, period, requests, in, out, micro-dollars
            ("1:ANA", "day#2026-12-07#python#m1", 2, 100, 300, 2_000),
            ("1:ANA", "day#2026-12-06#go#m1", 1, 50, 50, 500),
            ("1:BOB", "day#2026-12-07#python#m2", 5, 1000, 2000, 9_000),
            ("1:OLD", "day#2026-11-01#python#m1", 9, 9, 9, 9),  # before the window
            ("1:ANA", "day#2026-12-07", 3, 150, 350, 2_500),  # the budget's counters: no row
            ("1:ANA", "budget", 0, 0, 0, 0),
        ]
        for caller, period, requests, tokens_in, tokens_out, micro in rows:
            client.put_item(
                TableName=TABLE,
                Item={
                    "caller": {"S": caller},
                    "period": {"S": period},
                    "caller_arn": {"S": f"arn:aws:iam::1:user/{caller[2:].lower()}"},
                    "requests": {"N": str(requests)},
                    "input_tokens": {"N": str(tokens_in)},
                    "output_tokens": {"N": str(tokens_out)},
                    "used_micro": {"N": str(micro)},
                },
            )
        yield client


def test_callers_in_the_window_top_spenders_first(dynamodb):
    rows = read_usage(dynamodb, TABLE, start=since_start("7d", NOW))
    assert [(r.key, r.requests, r.input_tokens, r.output_tokens) for r in rows] == [
        ("1:BOB", 5, 1000, 2000),
        ("1:ANA", 3, 150, 350),
    ]
    assert rows[1].arn == "arn:aws:iam::1:user/ana" and rows[0].cost_usd == pytest.approx(0.009)
    shown = render(rows, "caller", since_start("7d", NOW))
    assert "arn:aws:iam::1:user/bob" in shown and shown.splitlines()[-1].split()[1:4] == [
        "8",
        "1150",
        "2350",
    ]


@pytest.mark.parametrize(
    ("by", "keys"),
    [
        ("day", ["2026-12-06", "2026-12-07"]),
        ("language", ["python", "go"]),
        ("model", ["m2", "m1"]),
    ],
)
def test_the_same_use_grouped_by_day_language_or_model(dynamodb, by, keys):
    rows = read_usage(dynamodb, TABLE, start=since_start("7d", NOW), by=by)
    assert [row.key for row in rows] == keys
    assert sum(row.tokens for row in rows) == 1150 + 2350


def test_todays_top_callers_and_the_windows_words(dynamodb):
    assert [row.key for row in top_callers_today(dynamodb, TABLE, NOW)] == ["1:BOB", "1:ANA"]
    assert since_start("2026-12-01", NOW) == datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(UserError, match="--since 'soon'"):
        since_start("soon", NOW)
    with pytest.raises(UserError, match="--by 'team'"):
        read_usage(dynamodb, TABLE, start=NOW, by="team")

"""`invoke logs` against moto's CloudWatch Logs: merged and ordered across groups, a request's
or a job's lines across functions, follows that neither drop nor repeat, and a back-off
when CloudWatch throttles."""

import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from deploy.logs import LogReader, LogsError, LogSource, any_of, parse_since, sources

OUTPUTS = {
    "function_log_group": "/aws/lambda/codegen-dev",
    "worker_log_group": "/aws/lambda/codegen-dev-worker",
    "access_log_group": "/aws/apigateway/codegen-dev/dev",
}
NOW_MS = int(time.time() * 1000)


@pytest.fixture
def logs(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        client = boto3.client("logs", region_name="us-east-1")
        for group in OUTPUTS.values():
            client.create_log_group(logGroupName=group)
            client.create_log_stream(logGroupName=group, logStreamName="s")
        yield client


def put(client, group: str, *events: tuple[int, str]) -> None:
    client.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": NOW_MS + offset, "message": text} for offset, text in events],
    )


def reader(client, function: str = "all", **options) -> LogReader:
    return LogReader(client, sources(OUTPUTS, function), **options)


def test_lines_of_every_group_come_merged_in_time_order_and_tagged(logs):
    put(logs, OUTPUTS["function_log_group"], (10, "api one"), (30, "api two"))
    put(logs, OUTPUTS["worker_log_group"], (20, "worker one"))
    put(logs, OUTPUTS["access_log_group"], (40, '{"requestId": "a"}'))
    lines = reader(logs).read(NOW_MS - 1000)
    assert [(line.source, line.message) for line in lines] == [
        ("api", "api one"),
        ("worker", "worker one"),
        ("api", "api two"),
        ("access", '{"requestId": "a"}'),
    ]
    assert [line.source for line in reader(logs, "worker").read(NOW_MS - 1000)] == ["worker"]
    assert [line.message for line in reader(logs).read(NOW_MS - 1000, text="two")] == ["api two"]


def test_a_request_id_brings_its_invocations_lines_and_its_access_log_line(logs):
    lambda_id, api_id = "0f3c2a1e-1111-2222-3333-444455556666", "Abc123="
    record = {"event": "code-generation", "request_id": lambda_id, "api_request_id": api_id}
    put(
        logs,
        OUTPUTS["function_log_group"],
        (1, f"START RequestId: {lambda_id} Version: $LATEST"),
        (2, f"[ERROR]\t2026-12-01T00:00:00Z\t{lambda_id}\tsomething to know"),
        (3, json.dumps(record)),
        (4, f"END RequestId: {lambda_id}"),
        (5, "START RequestId: 99999999-0000-0000-0000-000000000000 Version: $LATEST"),
    )
    put(logs, OUTPUTS["access_log_group"], (6, json.dumps({"requestId": api_id})))
    put(logs, OUTPUTS["access_log_group"], (7, json.dumps({"requestId": "other"})))
    for wanted in (api_id, lambda_id):
        lines = reader(logs).related(NOW_MS - 1000, None, wanted)
        assert [line.timestamp_ms - NOW_MS for line in lines] == [1, 2, 3, 4, 6]


def test_a_job_id_brings_its_submission_and_its_deliveries(logs):
    submit = {"request_id": "aaaaaaaa-0000-0000-0000-000000000001", "job_id": "job-7"}
    put(logs, OUTPUTS["function_log_group"], (1, json.dumps(submit)))
    delivery = "bbbbbbbb-0000-0000-0000-000000000002"
    put(
        logs,
        OUTPUTS["worker_log_group"],
        (2, f"START RequestId: {delivery} Version: $LATEST"),
        (3, json.dumps({"request_id": delivery, "job_id": "job-7", "outcome": "succeeded"})),
        (4, f"REPORT RequestId: {delivery}\tDuration: 1.00 ms"),
        (5, json.dumps({"job_id": "job-8"})),
    )
    lines = reader(logs).related(NOW_MS - 1000, None, "job-7")
    assert [(line.source, line.timestamp_ms - NOW_MS) for line in lines] == [
        ("api", 1),
        ("worker", 2),
        ("worker", 3),
        ("worker", 4),
    ]


def test_a_follow_shows_each_line_once_even_at_the_same_millisecond(logs):
    group = OUTPUTS["function_log_group"]
    put(logs, group, (0, "first"))
    polls = iter(
        [
            lambda: put(logs, group, (0, "same ms as first"), (1, "second")),
            lambda: put(logs, group, (1, "same ms as second")),
            lambda: None,
        ]
    )
    done = []

    def sleep(_seconds):
        next(polls, lambda: done.append(True))()

    follow = reader(logs, "api", sleep=sleep).follow(
        NOW_MS - 1000, live_tail=False, until=lambda: bool(done)
    )
    assert [line.message for line in follow] == [
        "first",
        "same ms as first",
        "second",
        "same ms as second",
    ]


def test_throttled_calls_back_off_and_are_retried(logs):
    put(logs, OUTPUTS["function_log_group"], (0, "line"))
    real, calls, pauses = logs.filter_log_events, [], []

    def throttled(**arguments):
        calls.append(arguments)
        if len(calls) <= 3:
            error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            raise ClientError(error, "FilterLogEvents")
        return real(**arguments)

    logs.filter_log_events = throttled
    chosen = [LogSource("api", OUTPUTS["function_log_group"])]
    lines = LogReader(logs, chosen, sleep=pauses.append).read(NOW_MS - 1000)
    assert [line.message for line in lines] == ["line"]
    assert pauses == [0.5, 1.0, 2.0]


def test_a_group_not_created_yet_has_no_lines_and_a_bad_since_says_what_it_takes(logs):
    chosen = [LogSource("worker", "/aws/lambda/never-ran")]
    assert LogReader(logs, chosen).read(NOW_MS - 1000) == []
    assert parse_since("10m", now=1000.0) == 400_000
    assert parse_since("2026-12-01T00:00:00Z") == parse_since("2026-12-01T00:00:00")
    with pytest.raises(LogsError, match="neither a duration"):
        parse_since("yesterday")
    with pytest.raises(LogsError, match="--function"):
        sources(OUTPUTS, "db")


def test_a_follow_takes_a_live_tail_sessions_lines_then_polls(logs):
    group = OUTPUTS["function_log_group"]
    put(logs, group, (0, "before"))
    real = logs.start_live_tail
    sessions = []

    def live_tail(**arguments):
        sessions.append(arguments)
        put(logs, group, (5, "pushed"))  # what the session holds (moto: one update)
        return real(**arguments)

    logs.start_live_tail = live_tail
    polls = []
    chosen = [LogSource("api", group)]
    lines = LogReader(logs, chosen, sleep=polls.append).follow(
        NOW_MS - 1000, until=lambda: len(polls) > 0
    )
    messages = [line.message for line in lines]
    assert sessions and sessions[0]["logGroupIdentifiers"][0].endswith(f"log-group:{group}")
    # Each once: the first read, the session (which on moto holds both again), the poll.
    assert messages == ["before", "pushed"] and polls


def test_many_ids_are_asked_for_in_patterns_within_cloudwatchs_limit():
    ids = [f"{index:08d}-0000-0000-0000-000000000000" for index in range(100)]
    patterns = any_of(ids)
    assert len(patterns) > 1 and all(len(pattern) <= 1024 for pattern in patterns)
    assert " ".join(patterns).split() == [f'?"{one}"' for one in ids]
    assert any_of([]) == []

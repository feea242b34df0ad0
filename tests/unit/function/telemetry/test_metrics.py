"""Each request's and each job delivery's log line is an Embedded Metric Format record: read
as CloudWatch reads it (local_stage.logs.emf), it counts what the answer says it cost."""

import json

import pytest

from local_stage.logs.emf import metric_data
from tests.unit.function.helpers import (
    FakeContext,
    StreamingClient,
    body_of,
    build_service,
    build_worker,
    converse_reply,
    http_event,
    sqs_record,
    submit_event,
)

GOOD = {"message": "a function that adds two numbers", "key": "python"}


def records(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def points(record: dict) -> dict[tuple[str, tuple[str, ...]], float]:
    """Metric name and dimension names -> value, as CloudWatch would make them."""
    found = {}
    for point in metric_data(json.dumps(record))["CodeGen"]:
        names = tuple(dimension["Name"] for dimension in point["Dimensions"])
        found[(point["MetricName"], names)] = point["Value"]
    return found


@pytest.fixture
def service(s3, bedrock):
    return build_service(lambda _seconds: bedrock[0], s3)


def test_a_request_counts_its_status_tokens_latency_and_store(service, stubber, capsys):
    stubber.add_response("converse", converse_reply("x = 1", tokens=(12, 34)))
    answer = body_of(service.handle(http_event(GOOD), FakeContext("rid-m")))
    (record,) = records(capsys)
    assert record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["Stage", "Model", "Route"],
        ["Stage"],
    ]
    assert record["Stage"] == "test" and record["Route"] == "PUT /code-generation"
    assert record["Model"] == service.settings.model_id
    values = points(record)
    full, stage = ("Stage", "Model", "Route"), ("Stage",)
    for dimensions in (full, stage):
        assert values[("Requests", dimensions)] == 1
        assert values[("Status2xx", dimensions)] == 1 and values[("Status5xx", dimensions)] == 0
        assert values[("InputTokens", dimensions)] == answer["usage"]["input_tokens"] == 12
        assert values[("OutputTokens", dimensions)] == answer["usage"]["output_tokens"] == 34
        assert values[("Stored", dimensions)] == 1
        assert values[("ModelLatency", dimensions)] == 321
    # Ids are properties of the record, never dimensions of a metric.
    assert record["request_id"] == "rid-m"
    assert all("request_id" not in names for _metric, names in values)


def test_a_refused_request_counts_a_4xx_and_no_tokens(service, capsys):
    service.handle(http_event({"message": "", "key": "python"}), FakeContext())
    (record,) = records(capsys)
    values = points(record)
    assert values[("Status4xx", ("Stage",))] == 1 and values[("Status2xx", ("Stage",))] == 0
    assert ("OutputTokens", ("Stage",)) not in values


def test_a_path_of_no_route_is_counted_under_other_not_its_path(service, capsys):
    event = http_event(GOOD)
    event["routeKey"] = "PUT /made-up/path-123"
    service.handle(event, FakeContext())
    (record,) = records(capsys)
    assert record["Route"] == "other" and record["status"] == 404


def test_a_job_delivery_counts_its_end_and_tokens(s3, bedrock, stubber, capsys):
    api = build_service(lambda _seconds: bedrock[0], s3)
    model = StreamingClient(bedrock[0])
    worker = build_worker(lambda _seconds: model, s3)
    job_id = body_of(api.handle(submit_event(GOOD), FakeContext("submit-1")))["job_id"]
    stubber.add_response("converse", converse_reply("```python\nx = 1\n```", tokens=(5, 7)))
    worker.handle({"Records": [sqs_record(job_id)]}, FakeContext("w-1", 120_000))
    submitted, delivered = records(capsys)
    assert points(submitted)[("Status2xx", ("Stage",))] == 1  # 202
    values = points(delivered)
    assert delivered["Route"] == "job" and delivered["job_id"] == job_id
    assert delivered["request_id"] == "w-1"  # the delivery's invocation: its START/REPORT
    assert values[("JobSucceeded", ("Stage",))] == 1 and values[("JobFailed", ("Stage",))] == 0
    assert values[("OutputTokens", ("Stage",))] == 7

"""What the local stage writes where AWS would: EMF lines read as metrics, the access log in
the stage's own format, Lambda's stream names."""

import json
import re

from local_stage.gateway.access_log import AccessRecord, render
from local_stage.logs.emf import metric_data
from local_stage.logs.shipper import group_of, lambda_stream_name


def test_an_emf_line_gives_one_point_per_metric_and_dimension_set():
    line = json.dumps(
        {
            "_aws": {
                "Timestamp": 1_700_000_000_000,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "N",
                        "Dimensions": [["Stage", "Route"], ["Stage"]],
                        "Metrics": [{"Name": "Tokens", "Unit": "Count"}],
                    }
                ],
            },
            "Stage": "dev",
            "Route": "PUT /x",
            "Tokens": [3, 4],
            "request_id": "r",
        }
    )
    data = metric_data(line)["N"]
    assert [(p["Value"], len(p["Dimensions"])) for p in data] == [(3, 2), (4, 2), (3, 1), (4, 1)]
    assert data[0]["Unit"] == "Count" and data[0]["Timestamp"].year == 2023


def test_lines_that_are_not_emf_or_are_broken_emf_make_no_metrics():
    assert metric_data("START RequestId: x") == {}
    assert metric_data('{"event": "code-generation"}') == {}
    assert metric_data('{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{}]}}') == {}
    broken = {"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Metrics": [
        {"Name": "Missing"}]}]}}  # fmt: skip
    assert metric_data(json.dumps(broken)) == {}


def test_the_access_log_follows_the_stages_format_with_dashes_for_what_is_missing():
    record = AccessRecord("req-1", "PUT", "/local/code-generation", "HTTP/1.1", "127.0.0.1")
    record.route_key, record.status, record.integration_latency_ms = "PUT /x", 200, 12
    template = json.dumps(
        {
            "requestId": "$context.requestId",
            "routeKey": "$context.routeKey",
            "status": "$context.status",
            "integrationLatency": "$context.integrationLatency",
            "userArn": "$context.identity.userArn",
        }
    )
    line = json.loads(render(template, record.context()))
    assert line == {
        "requestId": "req-1",
        "routeKey": "PUT /x",
        "status": "200",
        "integrationLatency": "12",
        "userArn": "-",
    }
    record.error_message = 'quote " and \\ backslash'
    assert json.loads(render('{"e": "$context.error.message"}', record.context()))["e"] == (
        'quote " and \\ backslash'
    )


def test_names_follow_lambda_and_api_gateway():
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", lambda_stream_name())
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/codegen-dev/dev"
    assert group_of(arn) == group_of(arn + ":*") == "/aws/apigateway/codegen-dev/dev"

"""`invoke status` against moto: what it reads of a stage's functions, metrics, alarms and
queues, the figures it derives (the window's counts, percentiles, cost), and when it fires."""

import time
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from deploy.status import read_status, render
from local_stage.emulator import fidelity_cloudwatch

STAGE = "dev"


@pytest.fixture
def stage(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    fidelity_cloudwatch.install()  # percentiles, as CloudWatch computes them
    with mock_aws():

        def client(service):
            return boto3.client(service, region_name="us-east-1")

        iam = client("iam")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        for name in ("codegen-dev", "codegen-dev-worker"):
            client("lambda").create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler="h.h",
                Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
            )
        sqs = client("sqs")
        queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody="{}")
        sqs.send_message(QueueUrl=dlq, MessageBody="{}")
        sqs.send_message(QueueUrl=dlq, MessageBody="{}")
        cloudwatch = client("cloudwatch")
        for name in ("codegen-dev-api-5xx", "codegen-dev-output-tokens-per-hour"):
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="CodeGen",
                MetricName="OutputTokens",
                Statistic="Sum",
                Period=3600,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanThreshold",
            )
        outputs = {
            "stage_name": STAGE,
            "function_name": "codegen-dev",
            "worker_function_name": "codegen-dev-worker",
            "jobs_queue_url": queue,
            "jobs_dead_letter_queue_url": dlq,
            "alarm_names": ["codegen-dev-api-5xx", "codegen-dev-output-tokens-per-hour"],
            "metrics_namespace": "CodeGen",
            "model_prices": {"input_per_1000": 0.001, "output_per_1000": 0.01},
        }
        yield client, outputs


def emit(client, name: str, *values: float, stage: str = STAGE, age_s: float = 60) -> None:
    client("cloudwatch").put_metric_data(
        Namespace="CodeGen",
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": "Stage", "Value": stage}],
                "Timestamp": datetime.fromtimestamp(time.time() - age_s, tz=UTC),
                "Value": value,
            }
            for value in values
        ],
    )


def test_the_last_hour_is_counted_from_the_stages_own_metrics(stage):
    client, outputs = stage
    emit(client, "Requests", 1, 1, 1, 1)
    emit(client, "Status4xx", 0, 1, 0, 0)
    emit(client, "Status5xx", 0, 0, 0, 1)
    emit(client, "InputTokens", 1000, 1000)
    emit(client, "OutputTokens", 500, 1500)
    emit(client, "Latency", *range(1, 101))
    emit(client, "Requests", 7, stage="prod")  # another stage's
    emit(client, "Requests", 9, age_s=2 * 3600)  # before the window
    status = read_status(client, outputs, "https://x/dev", alarms_evaluated=True)
    assert status.counts["Requests"] == 4
    assert (status.counts["Status4xx"], status.counts["Status5xx"]) == (1, 1)
    assert status.latency_ms == {"p50": 50, "p99": 99}
    assert status.estimated_cost_usd == pytest.approx(2 * 0.001 + 2 * 0.01)
    assert status.jobs == {"queued": 1, "running": 0, "dead letters": 2}
    assert set(status.code) == {"codegen-dev", "codegen-dev-worker"}
    screen = render(status)
    assert "4 requests, 1 4xx, 1 5xx" in screen and "p99 99 ms" in screen
    assert "0 firing of 2" in screen and "$0.0220" in screen


def test_a_firing_alarm_is_named_and_fires_the_exit(stage):
    client, outputs = stage
    client("cloudwatch").set_alarm_state(
        AlarmName="codegen-dev-api-5xx", StateValue="ALARM", StateReason="5xx share 0.5"
    )
    status = read_status(client, outputs, "https://x/dev", alarms_evaluated=True)
    assert [alarm.name for alarm in status.firing] == ["codegen-dev-api-5xx"]
    assert "ALARM codegen-dev-api-5xx: 5xx share 0.5" in render(status)


def test_where_alarms_are_not_evaluated_the_screen_says_so_and_nothing_fires(stage):
    client, outputs = stage
    client("cloudwatch").set_alarm_state(
        AlarmName="codegen-dev-api-5xx", StateValue="ALARM", StateReason="set by hand"
    )
    status = read_status(client, outputs, "http://127.0.0.1/local", alarms_evaluated=False)
    assert "not evaluated here" in render(status) and status.firing == []
    assert status.latency_ms == {"p50": None, "p99": None}
    assert "p50 -" in render(status)

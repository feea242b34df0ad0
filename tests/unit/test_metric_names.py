"""One list of the stage's own metrics (codegen.telemetry.metrics.METRICS and
DIMENSION_SETS): what the function's EMF records carry, and what the alarms, the dashboard
and `invoke status` read, each held to it. A metric renamed in one place and not the others
fails here, not as an alarm that never fires."""

import json
import re

from codegen.telemetry.metrics import DIMENSION_SETS, JOB_ROUTE, METRICS, MetricsTarget, emf_fields
from deploy import status
from deploy.paths import TERRAFORM_DIR

MONITORING = TERRAFORM_DIR / "modules" / "monitoring" / "main.tf"
TARGET = MetricsTarget("Codegen/local", "local", "anthropic.claude-haiku-5-5")
EVERY_FIELD = {
    "status": 200,
    "latency_ms": 12.5,
    "model_latency_ms": 10.0,
    "input_tokens": 7,
    "output_tokens": 9,
    "stored": True,
}


def emitted(route: str, fields: dict) -> tuple[set[str], list[list[str]], dict[str, str]]:
    """The metric names, dimension sets and units of one record's EMF directive."""
    (directive,) = emf_fields(TARGET, route, fields)["_aws"]["CloudWatchMetrics"]
    units = {metric["Name"]: metric["Unit"] for metric in directive["Metrics"]}
    return set(units), directive["Dimensions"], units


def test_the_functions_records_carry_the_listed_metrics_in_the_listed_dimension_sets():
    request_names, dimensions, units = emitted("PUT /code-generation", EVERY_FIELD)
    job_names, job_dimensions, job_units = emitted(JOB_ROUTE, {**EVERY_FIELD, "outcome": "failed"})
    assert request_names | job_names == set(METRICS)  # every listed metric is written
    assert {**units, **job_units} == {name: unit.value for name, unit in METRICS.items()}
    assert [tuple(each) for each in dimensions] == list(DIMENSION_SETS)
    assert [tuple(each) for each in job_dimensions] == list(DIMENSION_SETS)


def _alarm_rows(text: str) -> list[str]:
    """The rows of the module's alarm table (local.alarms): each alarm's settings."""
    table = text[
        text.index("alarms = merge(") : text.index('resource "aws_cloudwatch_metric_alarm"')
    ]
    return re.findall(r"=> \{(.*?)\n\s*\}|\"[\w-]+\" = \{(.*?)\n\s*\}", table, re.S)


def test_the_alarms_and_the_dashboard_read_listed_metrics_by_the_stage_alone():
    text = MONITORING.read_text(encoding="utf-8")
    rows = ["".join(row) for row in _alarm_rows(text)]
    assert len(rows) >= 8, "the alarm table was not found: did the module change shape?"
    own = [row for row in rows if re.search(r"namespace\s*=\s*var\.metrics_namespace", row)]
    assert own, "no alarm on the stage's own metrics found: did the module change shape?"
    for row in own:
        (name,) = re.findall(r'metric\s*=\s*"(\w+)"', row)
        assert name in METRICS, name
        assert re.search(r"dimensions\s*=\s*local\.stage_metric\b", row), row
    assert re.search(r"stage_metric\s*=\s*\{\s*Stage\s*=\s*var\.stage\s*\}", text)
    read = re.findall(r'\[local\.ns, "(\w+)", "(\w+)", var\.stage', text)
    assert read, "no dashboard widget on the stage's own metrics found"
    assert {dimension for _, dimension in read} == {"Stage"}
    assert {name for name, _ in read} <= set(METRICS)
    assert ("Stage",) in DIMENSION_SETS


class Recording:
    """A CloudWatch client that records what `invoke status` asks for."""

    def __init__(self) -> None:
        self.queries: list[dict] = []

    def get_metric_data(self, MetricDataQueries, **kwargs):
        self.queries.extend(MetricDataQueries)
        return {"MetricDataResults": []}


def test_invoke_status_reads_listed_metrics_by_the_stage_alone():
    cloudwatch = Recording()
    outputs = {"metrics_namespace": "Codegen/local", "stage_name": "local"}
    status._last_hour(cloudwatch, outputs, now=1_800_000_000.0)
    metrics = [query["MetricStat"]["Metric"] for query in cloudwatch.queries]
    assert metrics and {metric["MetricName"] for metric in metrics} <= set(METRICS)
    dimensions = {json.dumps(metric["Dimensions"]) for metric in metrics}
    assert dimensions == {json.dumps([{"Name": "Stage", "Value": "local"}])}

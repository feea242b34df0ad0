"""What each request and job costs, as CloudWatch metrics: its log line is an Embedded Metric
Format record (written with Powertools' EMF provider), so CloudWatch Logs makes the metrics
from the line the function prints anyway; no API call, nothing to wait for.

Metrics (namespace METRICS_NAMESPACE): `Requests` (1 per request, or per job delivery),
`Status2xx/4xx/5xx` (0 or 1: the answer's status class), `JobSucceeded/JobFailed` (a job's
end), `Latency` and `ModelLatency` (ms), `InputTokens` and `OutputTokens`, `Stored` (0 or 1,
when code was generated). Dimensions: `Stage`, `Model`, `Route` — and `Stage` alone, the set
the stage's alarms and dashboard read. Ids (request, job) are properties, never dimensions:
each value of a dimension is a metric of its own, and paid for.
"""

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

from codegen.settings import Settings

JOB_ROUTE = "job"  # the Route dimension of a job delivery's record (not an HTTP route)
OTHER_ROUTE = "other"  # a request that names none of the API's routes (never its raw path)


@dataclass(frozen=True)
class MetricsTarget:
    """Where a record's metrics go: the stage's namespace, and its dimensions."""

    namespace: str
    stage: str
    model: str


def metrics_target(settings: Settings) -> MetricsTarget:
    return MetricsTarget(settings.metrics_namespace, settings.stage, settings.model_id)


# Every metric a record may carry, and its unit: the one list the stage's alarms and dashboard
# (terraform/modules/monitoring) and `invoke status` (deploy/status.py) are held to by
# tests/unit/test_metric_names.py.
METRICS: dict[str, MetricUnit] = {
    "Requests": MetricUnit.Count,
    "Status2xx": MetricUnit.Count,
    "Status4xx": MetricUnit.Count,
    "Status5xx": MetricUnit.Count,
    "JobSucceeded": MetricUnit.Count,
    "JobFailed": MetricUnit.Count,
    "Latency": MetricUnit.Milliseconds,
    "ModelLatency": MetricUnit.Milliseconds,
    "InputTokens": MetricUnit.Count,
    "OutputTokens": MetricUnit.Count,
    "Stored": MetricUnit.Count,
}
# The dimension sets each record's metrics come in: the detailed one, and the stage's own.
DIMENSION_SETS: tuple[tuple[str, ...], ...] = (("Stage", "Model", "Route"), ("Stage",))


def emf_fields(target: MetricsTarget, route: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The `_aws` directive and metric values for a log record's `fields` (its status or job
    outcome, latency, model latency, tokens, stored): merged into the record, they make it an
    EMF record. The fields themselves stay properties of the record."""
    emf = AmazonCloudWatchEMFProvider(namespace=target.namespace)
    emf.add_dimension("Stage", target.stage)
    emf.add_dimension("Model", target.model)
    emf.add_dimension("Route", route)
    emf.add_dimensions(Stage=target.stage)

    def add(name: str, value: float) -> None:
        emf.add_metric(name, METRICS[name], value)

    add("Requests", 1)
    status = fields.get("status")
    if isinstance(status, int):
        for status_class in (2, 4, 5):
            add(f"Status{status_class}xx", int(status // 100 == status_class))
    outcome = fields.get("outcome")
    if route == JOB_ROUTE and outcome in ("succeeded", "failed", "overdue"):
        add("JobSucceeded", int(outcome == "succeeded"))
        add("JobFailed", int(outcome != "succeeded"))
    if isinstance(fields.get("latency_ms"), int | float):
        add("Latency", fields["latency_ms"])
    if isinstance(fields.get("model_latency_ms"), int | float):
        add("ModelLatency", fields["model_latency_ms"])
    for field, metric in (("input_tokens", "InputTokens"), ("output_tokens", "OutputTokens")):
        if isinstance(fields.get(field), int):
            add(metric, fields[field])
    if isinstance(fields.get("stored"), bool):
        add("Stored", int(fields["stored"]))
    return dict(emf.serialize_metric_set())

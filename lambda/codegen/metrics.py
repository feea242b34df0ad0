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


def emf_fields(target: MetricsTarget, route: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The `_aws` directive and metric values for a log record's `fields` (its status or job
    outcome, latency, model latency, tokens, stored): merged into the record, they make it an
    EMF record. The fields themselves stay properties of the record."""
    emf = AmazonCloudWatchEMFProvider(namespace=target.namespace)
    emf.add_dimension("Stage", target.stage)
    emf.add_dimension("Model", target.model)
    emf.add_dimension("Route", route)
    emf.add_dimensions(Stage=target.stage)
    count, milliseconds = MetricUnit.Count, MetricUnit.Milliseconds
    emf.add_metric("Requests", count, 1)
    status = fields.get("status")
    if isinstance(status, int):
        for status_class in (2, 4, 5):
            emf.add_metric(f"Status{status_class}xx", count, int(status // 100 == status_class))
    outcome = fields.get("outcome")
    if route == JOB_ROUTE and outcome in ("succeeded", "failed", "overdue"):
        emf.add_metric("JobSucceeded", count, int(outcome == "succeeded"))
        emf.add_metric("JobFailed", count, int(outcome != "succeeded"))
    if isinstance(fields.get("latency_ms"), int | float):
        emf.add_metric("Latency", milliseconds, fields["latency_ms"])
    if isinstance(fields.get("model_latency_ms"), int | float):
        emf.add_metric("ModelLatency", milliseconds, fields["model_latency_ms"])
    for field, metric in (("input_tokens", "InputTokens"), ("output_tokens", "OutputTokens")):
        if isinstance(fields.get(field), int):
            emf.add_metric(metric, count, fields[field])
    if isinstance(fields.get("stored"), bool):
        emf.add_metric("Stored", count, int(fields["stored"]))
    return dict(emf.serialize_metric_set())

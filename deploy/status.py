"""One screen on a deployed stage (`invoke status`): its endpoint and code, its alarms, the
last hour's requests, statuses, latency, tokens and estimated model cost (from the stage's
own metrics), its jobs queued, running and dead-lettered, and its model's lifecycle (a model
going LEGACY is the first sign of a stage that will stop answering at its end of life).

Read through CloudWatch's, Lambda's and SQS's own APIs: the same code reads AWS and the
local stage. The local emulator keeps the stage's alarms but does not evaluate them; the
screen says so rather than show their never-changing state as a verdict.
"""

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from deploy.bedrock_models import (
    STATUS_WARNING_DAYS,
    ModelNotOffered,
    lifecycle_verdict,
    resolve,
)
from deploy.usage import UsageRow, top_callers_today

WINDOW_S = 3600
_COUNTS = ("Requests", "Status4xx", "Status5xx", "InputTokens", "OutputTokens")
_PERCENTILES = ("p50", "p99")


@dataclass(frozen=True)
class Alarm:
    name: str
    state: str  # OK, ALARM, INSUFFICIENT_DATA
    reason: str = ""


@dataclass(frozen=True)
class ModelLine:
    text: str
    # True once the model is within STATUS_WARNING_DAYS of its end of life (or past it, or
    # gone): `invoke status` exits 1 then, as for a firing alarm.
    urgent: bool = False


def read_model(client: Any, model_id: str, now: float) -> ModelLine:
    """The model's lifecycle as Bedrock reports it; a refused read says so and is no verdict."""
    try:
        info = resolve(client("bedrock"), model_id)
    except ModelNotOffered as exc:
        return ModelLine(f"✗ {model_id} is not offered any more ({exc})", urgent=True)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        return ModelLine(f"? {model_id}: could not read its lifecycle ({code})")
    verdict = lifecycle_verdict(info, datetime.fromtimestamp(now, tz=UTC))
    mark = {"ok": "✓", "warn": "⚠", "fail": "✗"}[verdict.level]
    urgent = verdict.level == "fail" or (
        verdict.days_left is not None and verdict.days_left <= STATUS_WARNING_DAYS
    )
    return ModelLine(f"{mark} {info.display_name} ({model_id}): {verdict.text}", urgent)


@dataclass
class StageStatus:
    stage: str
    endpoint: str
    code: dict[str, str]  # function name -> CodeSha256
    alarms: list[Alarm]
    alarms_evaluated: bool
    counts: dict[str, float]
    latency_ms: dict[str, float | None]
    estimated_cost_usd: float
    jobs: dict[str, int] = field(default_factory=dict)
    model: ModelLine | None = None
    top_callers: list[UsageRow] = field(default_factory=list)  # the day's, from the spend table

    @property
    def firing(self) -> list[Alarm]:
        """The alarms in ALARM; none where alarms are not evaluated (a state set by hand
        there is no verdict)."""
        if not self.alarms_evaluated:
            return []
        return [alarm for alarm in self.alarms if alarm.state == "ALARM"]


def read_status(
    client: Any,
    outputs: Mapping[str, Any],
    endpoint: str,
    *,
    alarms_evaluated: bool,
    now: float | None = None,
) -> StageStatus:
    """What `client(service)` reads of the stage whose Terraform outputs are `outputs`."""
    now = time.time() if now is None else now
    lam, cloudwatch, sqs = client("lambda"), client("cloudwatch"), client("sqs")
    code = {}
    for key in ("function_name", "jobs_function_name", "worker_function_name"):
        name = outputs.get(key)
        if not name:  # a stack deployed before the job routes had a function of their own
            continue
        code[name] = lam.get_function_configuration(FunctionName=name)["CodeSha256"]
    names = list(outputs.get("alarm_names") or [])
    alarms = []
    for start in range(0, len(names), 100):  # DescribeAlarms takes 100 names at most
        answer = cloudwatch.describe_alarms(AlarmNames=names[start : start + 100])
        for item in answer.get("MetricAlarms", []) + answer.get("CompositeAlarms", []):
            alarms.append(Alarm(item["AlarmName"], item["StateValue"], item.get("StateReason", "")))
    counts, latency = _last_hour(cloudwatch, outputs, now)
    prices = outputs.get("model_prices") or {}
    cost = counts.get("InputTokens", 0) / 1000 * float(prices.get("input_per_1000", 0)) + (
        counts.get("OutputTokens", 0) / 1000 * float(prices.get("output_per_1000", 0))
    )
    jobs = {}
    for label, url_key, attribute in (
        ("queued", "jobs_queue_url", "ApproximateNumberOfMessages"),
        ("running", "jobs_queue_url", "ApproximateNumberOfMessagesNotVisible"),
        ("dead letters", "jobs_dead_letter_queue_url", "ApproximateNumberOfMessages"),
    ):
        attributes = sqs.get_queue_attributes(
            QueueUrl=outputs[url_key], AttributeNames=[attribute]
        )["Attributes"]
        jobs[label] = int(attributes.get(attribute, 0))
    model = read_model(client, str(outputs["model_id"]), now) if outputs.get("model_id") else None
    top = []
    if outputs.get("spend_table"):  # a stage deployed before spend was counted has none
        moment = datetime.fromtimestamp(now, tz=UTC)
        top = top_callers_today(client("dynamodb"), str(outputs["spend_table"]), moment)
    return StageStatus(
        str(outputs.get("stage_name", "")),
        endpoint,
        code,
        sorted(alarms, key=lambda alarm: alarm.name),
        alarms_evaluated,
        counts,
        latency,
        cost,
        jobs,
        model,
        top,
    )


def _last_hour(
    cloudwatch: Any, outputs: Mapping[str, Any], now: float
) -> tuple[dict[str, float], dict[str, float | None]]:
    """The stage's own metrics (Stage dimension) over the last hour, as one period that ends
    at the next whole minute (periods are whole minutes)."""
    end = math.ceil(now / 60) * 60
    start = end - WINDOW_S
    metric = {
        "Namespace": outputs["metrics_namespace"],
        "Dimensions": [{"Name": "Stage", "Value": str(outputs["stage_name"])}],
    }

    def query(query_id: str, name: str, stat: str) -> dict[str, Any]:
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {**metric, "MetricName": name},
                "Period": WINDOW_S,
                "Stat": stat,
            },
            "Label": stat if name == "Latency" else name,
        }

    queries = [query(f"c{index}", name, "Sum") for index, name in enumerate(_COUNTS)]
    queries += [query(f"l{index}", "Latency", p) for index, p in enumerate(_PERCENTILES)]
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=queries,
        StartTime=datetime.fromtimestamp(start, tz=UTC),
        EndTime=datetime.fromtimestamp(end, tz=UTC),
    )
    values = {result["Id"]: result.get("Values", []) for result in answer["MetricDataResults"]}
    counts = {name: float(sum(values.get(f"c{i}", []))) for i, name in enumerate(_COUNTS)}
    latency: dict[str, float | None] = {}
    for index, percentile in enumerate(_PERCENTILES):
        found = [value for value in values.get(f"l{index}", []) if value is not None]
        latency[percentile] = max(found) if found else None
    return counts, latency


def render(status: StageStatus) -> str:
    counts = status.counts
    p50, p99 = status.latency_ms.get("p50"), status.latency_ms.get("p99")
    lines = [
        f"stage {status.stage}: {status.endpoint}",
        "code: " + ", ".join(f"{name} {sha[:12]}" for name, sha in status.code.items()),
        f"last hour: {counts.get('Requests', 0):.0f} requests, "
        f"{counts.get('Status4xx', 0):.0f} 4xx, {counts.get('Status5xx', 0):.0f} 5xx; "
        f"latency p50 {_ms(p50)}, p99 {_ms(p99)}",
        f"tokens: {counts.get('InputTokens', 0):.0f} in, {counts.get('OutputTokens', 0):.0f} "
        f"out; estimated model cost ${status.estimated_cost_usd:.4f}",
        "jobs: " + ", ".join(f"{count} {label}" for label, count in status.jobs.items()),
    ]
    if status.top_callers:
        lines.append(
            "today's top callers: "
            + "; ".join(
                f"{row.arn or row.key} {row.tokens} tokens, ${row.cost_usd:.4f}"
                for row in status.top_callers
            )
        )
    if status.model is not None:
        lines.append(f"model: {status.model.text}")
    if not status.alarms_evaluated:
        lines.append(
            f"alarms: {len(status.alarms)} defined, not evaluated here (the local emulator "
            "keeps alarms but never evaluates them; their state says nothing)"
        )
    else:
        firing = status.firing
        lines.append(
            f"alarms: {len(firing)} firing of {len(status.alarms)}"
            + "".join(f"\n  ALARM {alarm.name}: {alarm.reason}" for alarm in firing)
        )
        waiting = [alarm.name for alarm in status.alarms if alarm.state == "INSUFFICIENT_DATA"]
        if waiting:
            lines.append(f"  waiting for data: {', '.join(waiting)}")
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"

"""CloudWatch Embedded Metric Format, read as CloudWatch Logs reads it: a log event whose JSON
object has an `_aws.CloudWatchMetrics` directive becomes metric data points, one per metric
and dimension set, with the values found at the object's root.

The local stage feeds these to the emulator's `PutMetricData`, so that the metrics a function
writes on AWS (by printing one line) exist offline too, under the same names and dimensions.
"""

import json
from datetime import UTC, datetime
from typing import Any

_MAX_DATA_PER_CALL = 1000  # PutMetricData's limit per request


def metric_data(message: str) -> dict[str, list[dict[str, Any]]]:
    """The data points an EMF log event holds, by namespace; {} for any other event (or an
    EMF object that CloudWatch would reject: it is then only a log line, as on AWS)."""
    if not message.startswith("{") or '"_aws"' not in message:
        return {}
    try:
        record = json.loads(message)
        meta = record["_aws"]
        stamp = datetime.fromtimestamp(int(meta["Timestamp"]) / 1000, tz=UTC)
        found: dict[str, list[dict[str, Any]]] = {}
        for directive in meta["CloudWatchMetrics"]:
            points = found.setdefault(str(directive["Namespace"]), [])
            for dimension_set in directive.get("Dimensions") or [[]]:
                dimensions = [{"Name": name, "Value": str(record[name])} for name in dimension_set]
                for metric in directive["Metrics"]:
                    value = record[metric["Name"]]
                    for one in value if isinstance(value, list) else [value]:
                        points.append(
                            {
                                "MetricName": metric["Name"],
                                "Dimensions": dimensions,
                                "Timestamp": stamp,
                                "Value": float(one),
                                "Unit": metric.get("Unit") or "None",
                            }
                        )
    except (ValueError, KeyError, TypeError, OverflowError):
        return {}
    return {namespace: points for namespace, points in found.items() if points}


def put_metric_data(cloudwatch: Any, data: dict[str, list[dict[str, Any]]]) -> None:
    """Send the points, in as few calls as PutMetricData's limits allow."""
    for namespace, points in data.items():
        for start in range(0, len(points), _MAX_DATA_PER_CALL):
            cloudwatch.put_metric_data(
                Namespace=namespace, MetricData=points[start : start + _MAX_DATA_PER_CALL]
            )

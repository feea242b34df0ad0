"""CloudWatch on the local emulator computes percentiles and matches dimensions as AWS does.

moto's statistics know Sum, Average, Minimum, Maximum and SampleCount only: a `p50` or `p99`
in GetMetricData comes back as no value. `invoke status` and the dashboard read latency as
percentiles; with this patch the same query answers offline. A percentile here is the
nearest-rank one over the period's raw values (CloudWatch's is computed over its own
histogram, so figures can differ a little on few data points).

GetMetricStatistics reads the one metric whose dimensions are exactly those asked for, as
CloudWatch does; moto's sums every metric whose dimensions include them, so an answer recorded
under [Stage] and [Stage, Language] read 80 tokens for 40 through the AWS CLI. (GetMetricData
was already exact.)

Patches the pinned moto's internals (moto.cloudwatch.models: Statistics, CloudWatchBackend).
"""

import math
import re
import threading
from typing import Any

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")
_installed = False
# The dimension set a GetMetricStatistics call on this thread asks for (None: no such call).
_asked = threading.local()


def percentile(values: list[float], rank: float) -> float | None:
    """The nearest-rank `rank`th percentile of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, math.ceil(rank / 100 * len(ordered)) - 1)
    return ordered[min(index, len(ordered) - 1)]


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.cloudwatch.models import Statistics

    statistic = Statistics.get_statistics_for_type

    def with_percentiles(self: Any, stat: str) -> Any:
        match = _PERCENTILE.match(stat)
        if match is None:
            return statistic(self, stat)
        return percentile(list(self.metric_single_values_list), float(match.group(1)))

    Statistics.get_statistics_for_type = with_percentiles  # type: ignore[method-assign]
    _match_dimensions_exactly()
    _installed = True


def _match_dimensions_exactly() -> None:
    from moto.cloudwatch.models import CloudWatchBackend

    every_metric = CloudWatchBackend.get_all_metrics
    statistics = CloudWatchBackend.get_metric_statistics

    def metrics_asked_for(self: Any) -> Any:
        metrics = every_metric(self)
        wanted = getattr(_asked, "dimensions", None)
        if wanted is None:
            return metrics
        return [m for m in metrics if {(d.name, d.value) for d in m.dimensions} == wanted]

    def exact_statistics(self: Any, *args: Any, **kwargs: Any) -> Any:
        dimensions = kwargs.get("dimensions", args[6] if len(args) > 6 else None) or []
        _asked.dimensions = {(d["Name"], d["Value"]) for d in dimensions}
        try:
            return statistics(self, *args, **kwargs)
        finally:
            _asked.dimensions = None

    CloudWatchBackend.get_all_metrics = metrics_asked_for  # type: ignore[method-assign]
    CloudWatchBackend.get_metric_statistics = exact_statistics  # type: ignore[method-assign]

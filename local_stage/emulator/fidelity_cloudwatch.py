"""CloudWatch on the local emulator computes percentiles, as AWS does.

moto's statistics know Sum, Average, Minimum, Maximum and SampleCount only: a `p50` or `p99`
in GetMetricData comes back as no value. `invoke status` and the dashboard read latency as
percentiles; with this patch the same query answers offline. A percentile here is the
nearest-rank one over the period's raw values (CloudWatch's is computed over its own
histogram, so figures can differ a little on few data points).

Patches the pinned moto's internals (moto.cloudwatch.models.Statistics).
"""

import math
import re
from typing import Any

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")
_installed = False


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
    _installed = True

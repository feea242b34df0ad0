"""Small helpers shared by the bench scripts (timing, table printing)."""

import statistics
import time
from collections.abc import Callable


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = action()
    return time.perf_counter() - start, value


def median_seconds(action: Callable[[], object], runs: int) -> float:
    return statistics.median(timed(action)[0] for _ in range(runs))


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in rows)
    print(f"\n{title}")
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")

"""Timed progress lines for the slow steps (venv, pip, zip), on stderr."""

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Reporter = Callable[[str], None]


def stderr_reporter(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def silent_reporter(line: str) -> None:
    """For callers (tests, benches) that want no output."""


@contextmanager
def step(report: Reporter, label: str) -> Iterator[None]:
    """Report `label ...` then `label: done in X s` (or `failed after X s`)."""
    report(f"  {label} ...")
    start = time.perf_counter()
    try:
        yield
    except BaseException:
        report(f"  {label}: failed after {time.perf_counter() - start:.2f} s")
        raise
    report(f"  {label}: done in {time.perf_counter() - start:.2f} s")

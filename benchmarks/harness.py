"""What the measurements share: a registry, a query counter, a stopwatch, peak memory."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from contextlib import contextmanager

from django.db import connection

from benchmarks import dataset

Figures = dict[str, object]
MEASUREMENTS: dict[str, Callable[[dataset.Dataset], Figures]] = {}


def measurement(name: str):
    def register(function: Callable[[dataset.Dataset], Figures]):
        MEASUREMENTS[name] = function
        return function

    return register


def peak_rss_mb() -> float:
    """The peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class QueryCounter:
    """Counts the statements Django sends (without keeping them, unlike CaptureQueriesContext)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def counting_queries():
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        yield counter


@contextmanager
def stopwatch():
    box = {"seconds": 0.0}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - start



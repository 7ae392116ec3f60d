"""Prometheus metrics under `arcos serve --workers N`: one exposition for all workers.

Each worker is its own process with its own counters, and a scrape reaches whichever
worker accepts it, so per-process numbers would jump about between scrapes. With several
workers the command creates a fresh directory, names it in PROMETHEUS_MULTIPROC_DIR
before the workers start (prometheus-client picks its value storage at import time), and
removes it when the server stops; every worker then keeps its values in memory-mapped
files there, and /metrics merges them all (prometheus-client's MultiProcessCollector):
counters and histograms are summed over every worker that ever ran, gauges over the live
ones (`livesum`). A gauge read from a function at scrape time cannot be merged, so in
that mode the function's value is written every GAUGE_REFRESH_SECONDS instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from arcos.metrics import METRICS

#: prometheus-client's own switch to multiprocess mode.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
#: How often a worker writes its function-read gauges (e.g. live subscriptions).
GAUGE_REFRESH_SECONDS = 1.0


def multiprocess() -> bool:
    """Whether this process is one of several workers sharing a metrics directory."""
    return bool(os.environ.get(MULTIPROC_DIR))


@contextmanager
def shared_metrics_dir() -> Iterator[Path]:
    """For the command starting the workers: a new, empty directory named in
    PROMETHEUS_MULTIPROC_DIR while they run (inherited by each), removed afterwards so
    the next start does not add up this run's counts."""
    path = Path(tempfile.mkdtemp(prefix="arcos-metrics-"))
    previous = os.environ.get(MULTIPROC_DIR)
    os.environ[MULTIPROC_DIR] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_DIR, None)
        else:
            os.environ[MULTIPROC_DIR] = previous
        shutil.rmtree(path, ignore_errors=True)


def exposition() -> bytes:
    """The text /metrics serves: this process's registry, or every worker's merged."""
    if not multiprocess():
        return generate_latest(METRICS)
    merged = CollectorRegistry(auto_describe=True)
    MultiProcessCollector(merged)
    return generate_latest(merged)


@asynccontextmanager
async def gauge_from(gauge: Gauge, read: Callable[[], float]) -> AsyncIterator[None]:
    """While the app runs, `gauge` reports `read()`: at scrape time in one process, every
    GAUGE_REFRESH_SECONDS as a worker. A worker that stops drops its live gauges."""
    if not multiprocess():
        gauge.set_function(read)
        yield
        return

    async def refresh() -> None:
        while True:
            gauge.set(read())
            await asyncio.sleep(GAUGE_REFRESH_SECONDS)

    task = asyncio.create_task(refresh(), name="metrics-gauges")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        mark_process_dead(os.getpid())

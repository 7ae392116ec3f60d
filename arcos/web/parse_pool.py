"""A bounded pool of worker processes for the CPU-heavy half of an upload (decode, parse,
summarise), so a large report costs the event loop only the hand-off.

Processes rather than threads: a parser thread holds the GIL for most of its run, and for
the whole of one `json.loads`, so the event loop answers other clients only in its gaps
(measured on a 40,000-result SARIF: /healthz worst 1.5 s with a thread, 0.27 s with a
process). What crosses back is kept small (see `arcos.intake.service.parse_artifact`):
unpickling runs on the server process too. The app owns one pool; it lives here, beside
the JSON threads, because the context that carries it must not import a domain.
Admission is bounded too: `workers` run and `queue` more may wait; beyond that an upload
is refused with RATE_LIMITED (HTTP 429, Retry-After) instead of piling up bodies in memory.

A caller may run a call it knows to be small in a thread instead (`in_thread`), under the
same admission: the process round trip (pickling both ways, two pipe hops, the worker's
wake-up) costs more than parsing a report of a few dozen KiB, and a parse that short holds
the GIL no longer than the interpreter's switch interval lets any thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import BrokenExecutor
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from arcos.problems import ArcosError, ErrorCode

if TYPE_CHECKING:  # multiprocessing is imported when the first worker starts
    from concurrent.futures import ProcessPoolExecutor

T = TypeVar("T")
#: What a refused uploader is told to wait before trying again.
RETRY_AFTER_SECONDS = 5


class ParsePoolBusy(ArcosError):
    """Every worker is busy and the waiting line is full."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, capacity: int) -> None:
        super().__init__(
            f"the server is already parsing or holding {capacity} uploads "
            "(ARCOS_PARSE_WORKERS + ARCOS_PARSE_QUEUE); retry after "
            f"{RETRY_AFTER_SECONDS} seconds",
            extensions={"retryAfterSeconds": RETRY_AFTER_SECONDS},
        )


class ParsePool:
    """Runs picklable functions in `workers` processes, admitting at most `workers + queue`
    calls at once. The processes start on first use and stop in `close()`."""

    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self.admitted = 0
        self._executor: ProcessPoolExecutor | None = None

    async def run(
        self, function: Callable[..., T], *args: Any, in_thread: bool = False, **kwargs: Any
    ) -> T:
        """`function(*args, **kwargs)` in a worker (or, `in_thread`, in the loop's default
        thread pool); ParsePoolBusy when the line is full."""
        if self.admitted >= self.capacity:
            raise ParsePoolBusy(self.capacity)
        self.admitted += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                None if in_thread else self._started(), partial(function, *args, **kwargs)
            )
        except BrokenExecutor:
            # BrokenProcessPool: a worker died (e.g. killed for memory); start afresh next
            # time. (Its base class, so the process module need not be imported to catch it.)
            self.close()
            raise
        finally:
            self.admitted -= 1

    def _started(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # Imported here: the server starts no worker before the first large upload.
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn, not fork: the server process has running threads (the store's driver)
            # whose locks a forked child would inherit mid-use.
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

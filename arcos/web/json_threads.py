"""A few threads, owned by the app, for the JSON work that grows with a request: decoding a
large body, checking a webhook signature, checking and canonically encoding a large
evidence item.

On the event loop, one 4 MB write held every other client for about a second, and a burst
of them for as long as the burst lasted. In a thread the loop keeps its turn: the GIL is
handed back between the thread's Python steps every switch interval (5 ms) and after each
C call (one `json.dumps` holds it throughout: ~80 ms for 4 MB of small objects; decoding
through `arcos.web.json_text` hands it back per object), so other requests wait for at most
one such call, not for a queue of writes.
Threads share the GIL, so more of them decode no faster; one (the default) also leaves the
loop a single rival for it. A burst of large writes waits its turn here instead of
decoding all its bodies at once. A hand-off costs ~0.1 ms, so small work runs inline
(`min_bytes`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


class JsonThreads:
    """Runs functions in `threads` threads (none: inline, for unit tests and tools)."""

    def __init__(self, threads: int, min_bytes: int) -> None:
        self.threads = threads
        self.min_bytes = min_bytes
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, function: Callable[..., T], *args: Any, size: int | None = None) -> T:
        """`function(*args)` in a thread; inline when there are no threads or when `size`
        (the bytes the work grows with, when known) is below `min_bytes`."""
        if self.threads <= 0 or (size is not None and size < self.min_bytes):
            return function(*args)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="arcos-json")
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, partial(function, *args)
        )

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


#: No threads: everything runs inline. The default where no app owns a pool.
INLINE = JsonThreads(0, 0)

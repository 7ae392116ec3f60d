"""Keep the cyclic garbage collector out of a parse.

Decoding and normalising a report allocates a container per JSON object and per result
(about 1.3 million for a 20,000-result SARIF log), and every 700 allocations start a
collection; the older generations' passes walk everything allocated so far. Measured on
that log, the collector is about half of `json.loads`'s own time and a third of the whole
parse. A decoded document and the values built from it are trees, so nothing a parse
allocates can be cyclic garbage: reference counting frees all of it, and the collector
runs again as soon as the parse returns.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block; the collector's previous state after it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()

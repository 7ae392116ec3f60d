"""Modules the server imports on first use rather than at start-up, imported in a
background thread as soon as it serves.

Some handlers need modules that cost much to import and that no start-up step needs
(jsonschema for REST body checks and plugin panels, the STIX pattern parser). Importing
them at start-up delays the first answer; importing them in the first request that needs
one holds the event loop for the whole import. So they are left out of start-up, and a
daemon thread imports them once the app is up: the loop keeps running between the GIL
switches while it does, and a request that needs one meanwhile waits only for the rest
of that import (Python's import lock), never for a second one.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterable

logger = logging.getLogger("arcos")


def import_in_background(names: Iterable[str]) -> threading.Thread:
    """Start a daemon thread importing `names` in order; returns it (tests join it)."""
    thread = threading.Thread(
        target=_import_all, args=(tuple(dict.fromkeys(names)),),
        name="arcos-deferred-imports", daemon=True,
    )
    thread.start()
    return thread


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            # The request that needs it raises the same error where it can be reported.
            logger.warning("deferred import of %s failed", name, exc_info=True)

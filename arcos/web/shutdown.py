"""Graceful shutdown: what the app does between uvicorn's SIGTERM and the store closing.

uvicorn's order on SIGTERM/SIGINT is: stop accepting, call `shutdown()` on every open
connection, wait (up to `timeout_graceful_shutdown`, ARCOS_SHUTDOWN_GRACE_SECONDS) for the
connections and their tasks to finish, and only then run the lifespan's shutdown, which
closes the store. The lifespan is too late for anything a client should see: by then
every socket is gone. So the app hears of the shutdown where uvicorn starts it, in each
connection's `shutdown()`:

- an HTTP connection (`DrainingHttpProtocol`) finishes its in-flight request as uvicorn
  does (no keep-alive after it) and tells the app's `Draining`, which ends SSE streams
  cleanly (a last comment, then the end of the chunked body) so the wait can finish;
- a websocket (arcos/web/ws_protocol.py) is closed with 1001 "going away" and a reason
  telling the client to reconnect, instead of uvicorn's 1012 without one.

The protocols reach the app's `Draining` through the lifespan state (`DRAINING_STATE`),
which uvicorn hands every connection it makes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping
from types import FrameType
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol
from websockets.frames import CloseCode

logger = logging.getLogger("arcos.shutdown")

#: The lifespan-state key of the app's `Draining`.
DRAINING_STATE = "arcos.draining"
#: The websocket close code for a server going away (RFC 6455, 7.4.1).
GOING_AWAY = CloseCode.GOING_AWAY
#: The close reason websockets get (a close frame's reason is at most 123 bytes).
GOING_AWAY_REASON = "server shutting down; reconnect (to another instance) and resubscribe"
#: The last line an SSE stream sends before it ends at shutdown.
SSE_GOODBYE = ": server shutting down; reconnect with Last-Event-ID to resume\n\n"


class Draining:
    """Set once the server has begun to shut down; long-lived responses watch it."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def begin(self) -> None:
        """The server is shutting down (idempotent: every connection reports it)."""
        if not self._event.is_set():
            logger.info("shutting down: finishing in-flight requests, closing websockets "
                        "(1001) and SSE streams")
            self._event.set()

    async def wait(self) -> None:
        await self._event.wait()


def begin_draining(app_state: Mapping[str, Any]) -> None:
    """Tell the app whose lifespan state is `app_state` that shutdown has begun (nothing
    when the app put no `Draining` there)."""
    draining = app_state.get(DRAINING_STATE)
    if isinstance(draining, Draining):
        draining.begin()


class DrainingHttpProtocol(AutoHTTPProtocol):  # type: ignore[valid-type,misc]
    """uvicorn's HTTP protocol (httptools, or h11 without it) that also tells the app when
    uvicorn asks the connection to shut down."""

    app_state: dict[str, Any]

    def shutdown(self) -> None:
        begin_draining(self.app_state)
        super().shutdown()


def exit_quietly_after_shutdown() -> None:
    """Make SIGTERM and SIGINT end `arcos serve` with status 0 once uvicorn has shut down.

    uvicorn handles both signals while it serves; when it has finished its graceful
    shutdown it restores the handlers it found and raises the signal again, so that the
    process "dies of it" (status 143 after SIGTERM, a KeyboardInterrupt traceback after
    Ctrl-C). A shutdown that went as planned is a success: the handlers found here exit
    with status 0, also for a signal that arrives just before uvicorn installs its own.
    """
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_zero)


def _exit_zero(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)

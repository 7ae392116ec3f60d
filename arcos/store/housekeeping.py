"""Scheduled sweeps (retention of webhook bodies, replay marks, outbox rows): one task per
app, so no request pays for a sweep and two apps in one process never share a schedule."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

logger = logging.getLogger("arcos.store")


@dataclass(frozen=True)
class Sweep:
    """A named job the housekeeping task runs every interval."""

    name: str
    run: Callable[[], Awaitable[object]]


class Housekeeping:
    """Runs every sweep once at start and then every `interval_seconds`, until stopped; a
    failing sweep is logged and tried again next time."""

    def __init__(self, sweeps: list[Sweep], interval_seconds: float = 60.0) -> None:
        self.sweeps = sweeps
        self.interval_seconds = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="arcos-housekeeping")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> None:
        for sweep in self.sweeps:
            try:
                await sweep.run()
            except Exception:
                logger.exception("housekeeping sweep %s failed", sweep.name)

    async def _loop(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.interval_seconds)

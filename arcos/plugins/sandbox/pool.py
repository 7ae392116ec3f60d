"""SandboxPool: the asyncio front of the zygotes; bounded concurrency, queue and BUSY.

At most `plugin_workers` calls run (one per zygote, so two children of one slot UID never
coexist and cannot signal each other); up to `plugin_queue` more wait; beyond that a
call is refused with SandboxBusy at once instead of piling up. A zygote that died is
restarted, and re-probed, by the next call that gets its slot.

Fail closed: `start()` probes every layer in every slot before accepting work, and a call
whose child could not apply a layer raises SandboxUnavailable rather than running code
with less isolation. `ARCOS_PLUGIN_SANDBOX_DROP_LAYERS` is the only way to run with fewer
layers, for development on machines without them, and it is logged at WARNING on start.

A reply larger than REPLY_INLINE_BYTES is classified in the pool's one reply thread, not
on the event loop: parsing a hostile 1 MB reply (`[[]] * 349000`) takes ~0.1 s, which
would stall every other request. One thread bounds it: replies wait their turn there, and
the loop has a single rival for the GIL (which `json.loads` holds for one call at most).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from arcos.plugins.sandbox.host import REPLY_ENVELOPE, Zygote, ZygoteGone, spawn_config
from arcos.plugins.sandbox.layers import parse_drop
from arcos.plugins.sandbox.outcome import (
    Outcome,
    OutcomeStatus,
    SandboxBusy,
    SandboxUnavailable,
)
from arcos.plugins.sandbox.protocol import encode_job
from arcos.plugins.sandbox.reply import classify
from arcos.settings import Settings, SettingsError, env_name
from arcos.web.json_threads import JsonThreads

logger = logging.getLogger(__name__)

#: How long a probe child may take (it applies the layers and answers, nothing else).
PROBE_TIMEOUT_SECONDS = 10.0
#: Replies up to this size are classified inline: a thread hand-off costs more than that.
REPLY_INLINE_BYTES = 64 * 1024


def dropped_layers(settings: Settings) -> frozenset[str]:
    """The layers `plugin_sandbox_drop_layers` names; SettingsError for unknown names."""
    try:
        return parse_drop(settings.plugin_sandbox_drop_layers)
    except ValueError as error:
        name = "plugin_sandbox_drop_layers"
        raise SettingsError(f"{env_name(name)}: {error}", name) from None


class SandboxPool:
    """Runs handler calls in sandboxed children of `plugin_workers` zygotes.

    `handlers` maps a job kind to "module:function"; the zygotes import those modules
    before sandboxing. `import_paths` (keyword, optional) are directories put first on the
    zygotes' `sys.path` and granted read-only by Landlock (tests use it for test handlers).
    """

    def __init__(
        self,
        settings: Settings,
        handlers: Mapping[str, str],
        *,
        import_paths: Sequence[str] = (),
    ) -> None:
        self._settings = settings
        self._handlers = dict(handlers)
        self._import_paths = tuple(str(path) for path in import_paths)
        self._drop = dropped_layers(settings)
        self._zygotes: list[Zygote] = []
        self._idle: asyncio.Queue[Zygote] = asyncio.Queue()
        self._waiting = 0
        self._started = False
        self._reply_thread = JsonThreads(1, REPLY_INLINE_BYTES)

    def _zygote(self, slot: int) -> Zygote:
        settings = self._settings
        return Zygote(
            slot,
            spawn_config(
                slot=slot,
                uid=settings.plugin_uid_base + slot,
                cpu_seconds=settings.plugin_cpu_seconds,
                memory_mib=settings.plugin_memory_mib,
                handlers=self._handlers,
                import_paths=self._import_paths,
                drop=sorted(self._drop),
            ),
        )

    async def start(self) -> None:
        """Spawn every zygote and probe every layer; SandboxUnavailable if one is missing."""
        if self._drop:
            logger.warning(
                "PLUGIN SANDBOX WEAKENED: layers %s are NOT applied (%s is set). "
                "Plugin code runs with less isolation; never do this in production.",
                ", ".join(sorted(self._drop)), env_name("plugin_sandbox_drop_layers"),
            )
        self._zygotes = [self._zygote(slot) for slot in range(self._settings.plugin_workers)]
        bring_ups = [asyncio.ensure_future(self._bring_up(zygote)) for zygote in self._zygotes]
        try:
            await asyncio.gather(*bring_ups)
        except BaseException:
            # Stop the other slots' start-ups first: one left waiting on a socket that
            # close() frees would read whatever next reuses that fd (the next pool's zygote).
            for bring_up in bring_ups:
                bring_up.cancel()
            await asyncio.gather(*bring_ups, return_exceptions=True)
            await self.close()
            raise
        for zygote in self._zygotes:
            self._idle.put_nowait(zygote)
        self._started = True

    async def _bring_up(self, zygote: Zygote) -> None:
        try:
            seccomp_error = await zygote.start()
            failed = await zygote.probe(PROBE_TIMEOUT_SECONDS)
        except ZygoteGone as error:
            await zygote.close()
            raise SandboxUnavailable(["zygote"], str(error), transient=True) from error
        if seccomp_error and "seccomp" not in self._drop:
            failed.setdefault("seccomp", seccomp_error)
        missing = {name: why for name, why in failed.items() if name not in self._drop}
        if missing:
            await zygote.close()
            raise SandboxUnavailable(
                sorted(missing), "; ".join(f"{name}: {why}" for name, why in missing.items()),
                transient="probe" in missing,  # the probe child died: no layer was judged
            )

    async def call(self, kind: str, payload: dict[str, Any]) -> Outcome:
        """Run handler `kind` on `payload` in a fresh sandboxed child."""
        if not self._started:
            raise RuntimeError("SandboxPool.start() must finish before call()")
        if kind not in self._handlers:
            raise ValueError(f"unknown plugin job kind {kind!r}")
        job = encode_job(kind, payload)
        if self._idle.empty() and self._waiting >= self._settings.plugin_queue:
            raise SandboxBusy(self._settings.plugin_workers, self._settings.plugin_queue)
        self._waiting += 1
        try:
            zygote = await self._idle.get()
        finally:
            self._waiting -= 1
        try:
            return await self._run(zygote, job)
        finally:
            self._idle.put_nowait(zygote)

    async def _run(self, zygote: Zygote, job: bytes) -> Outcome:
        settings = self._settings
        if not zygote.alive:
            await zygote.close()
            await self._bring_up(zygote)
        try:
            end = await zygote.run(
                job,
                seconds=settings.plugin_timeout_seconds,
                reply_limit=settings.plugin_max_result_bytes + REPLY_ENVELOPE,
            )
        except ZygoteGone as error:
            logger.warning("plugin sandbox slot %d lost its zygote (%s); restarting it on the "
                           "next call", zygote.slot, error)
            await zygote.close()
            return Outcome(OutcomeStatus.CRASHED, error=f"the sandbox process failed: {error}")
        except BaseException:
            await zygote.close()  # cancelled mid-call: the child dies with its zygote
            raise
        judge = partial(
            classify,
            timeout=settings.plugin_timeout_seconds,
            cpu_limit=settings.plugin_cpu_seconds,
            max_bytes=settings.plugin_max_result_bytes,
        )
        return await self._reply_thread.run(judge, end, size=len(end.reply))

    async def close(self) -> None:
        """Stop every zygote (their children die with them)."""
        self._started = False
        self._reply_thread.close()
        await asyncio.gather(*(zygote.close() for zygote in self._zygotes))

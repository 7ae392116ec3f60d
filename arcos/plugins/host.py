"""The plugin domain's app service: the sandbox pool and the signing key, owned by the app.

Both are expensive or sensitive enough to exist once per app, so the app starts this with
its lifespan (arcos/registry.py `ServiceFactory`) and resolvers reach it through their
context. The pool is started on the first plugin call, not at start-up: a server that never
runs a plugin (or a test of another domain) spawns no zygotes. If the machine cannot apply
a sandbox layer, that first start fails closed and every later call is refused with
SANDBOX_UNAVAILABLE naming the layer; the rest of the server keeps running. Only a missing
layer is remembered: a start that failed for a passing reason (the zygote died or timed
out) is refused too, but the next call tries again rather than plugins staying off until
a restart.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from arcos.plugins.handlers import PLUGIN_HANDLERS
from arcos.plugins.sandbox.outcome import Outcome, SandboxBusy, SandboxUnavailable
from arcos.plugins.sandbox.pool import SandboxPool
from arcos.plugins.signing import PluginSigner
from arcos.problems import ArcosError, ErrorCode
from arcos.settings import Settings, env_name

if TYPE_CHECKING:  # the GraphQL layer is the caller, never imported by the service
    from arcos.graphql.context import AppServices, ArcosContext

logger = logging.getLogger("arcos.plugins")

#: The name resolvers ask their context for (`info.context.service(HOST)`).
HOST = "plugins"


class PluginHost:
    """The app's sandbox pool and plugin signer, each made ready on first need."""

    def __init__(self, services: AppServices) -> None:
        self.services = services
        self.settings: Settings = services.settings
        self._pool: SandboxPool | None = None
        self._unavailable: SandboxUnavailable | None = None
        self._starting = asyncio.Lock()
        self._signer: PluginSigner | None = None
        #: Calls handed to the sandbox (each forks a child); tests read it to prove a
        #: refused call never reached a fork.
        self.sandbox_calls = 0
        #: Set by the trigger runner (arcos/plugins/triggers.py) when it starts.
        self.background: Any = None

    async def start(self) -> None:
        """Load the signing key, creating it on first start; a bad key file (readable by
        others, malformed) stops the start with an error naming it."""
        self._signer = PluginSigner.load_or_create(self.settings.plugin_signing_key_path)
        logger.info("plugin signing key %s in use", self._signer.key_id)
        if self.background is not None:
            await self.background.start()

    async def close(self) -> None:
        if self.background is not None:
            await self.background.close()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def signer(self) -> PluginSigner:
        """The server's plugin signing key (loaded by `start`)."""
        if self._signer is None:
            raise RuntimeError("the plugin host has not started: start the app's lifespan")
        return self._signer

    async def call(self, kind: str, payload: dict[str, Any]) -> Outcome:
        """One job in the sandbox. Raises ArcosError SANDBOX_UNAVAILABLE (naming the missing
        layers) or BUSY (pool and queue full); never runs anything in this process."""
        pool = await self._ready_pool()
        self.sandbox_calls += 1
        try:
            return await pool.call(kind, payload)
        except SandboxBusy as busy:
            raise ArcosError(
                f"{busy}; at most {env_name('plugin_workers')} calls run and "
                f"{env_name('plugin_queue')} wait", ErrorCode.BUSY,
                {"retryAfterSeconds": 1},
            ) from None
        except SandboxUnavailable as unavailable:
            raise _unavailable(unavailable) from None

    async def _ready_pool(self) -> SandboxPool:
        if self._pool is not None:
            return self._pool
        async with self._starting:
            if self._unavailable is not None:
                raise _unavailable(self._unavailable)
            if self._pool is None:
                pool = SandboxPool(self.settings, PLUGIN_HANDLERS)
                try:
                    await pool.start()
                except SandboxUnavailable as unavailable:
                    await pool.close()
                    if unavailable.transient:
                        logger.error("plugin sandbox failed to start, retrying on the next "
                                     "call: %s", unavailable)
                    else:
                        logger.error("plugins will not run: %s", unavailable)
                        self._unavailable = unavailable
                    raise _unavailable(unavailable) from None
                self._pool = pool
        return self._pool


def _unavailable(error: SandboxUnavailable) -> ArcosError:
    return ArcosError(
        str(error), ErrorCode.SANDBOX_UNAVAILABLE, {"missingLayers": list(error.missing)}
    )


def host_of(context: ArcosContext) -> PluginHost:
    """The app's plugin host, from a resolver's context."""
    host: PluginHost = context.service(HOST)
    return host

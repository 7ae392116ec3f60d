"""The cyclic garbage collector stays out of the way while the `arcos` command starts.

Importing the domains builds about 140,000 objects (strawberry types, Tortoise models,
dataclasses) that live as long as the process. With the collector on, each import
triggers young collections that walk what the previous imports built, and two full ones:
about a sixth of `arcos serve`'s start-up went to collecting nothing. So the command's
imports run with the collector paused. For the server, what they built is then frozen
(`gc.freeze`): later full collections skip it, which also shortens their pauses while it
serves. The price is the few MB of import-time garbage frozen with it, once per process.

A server that runs its app in this process (one worker, no reload) keeps the pause until
the app's lifespan has started (`end_startup_pause`): checking the store, building the
schema and the app and starting the lifespan build long-lived state too, and with the
collector back on they ran some 60 young collections (30-60 ms of CPU) before the first
answer. The lifespan then freezes everything start-up built and turns the collector on.
"""

from __future__ import annotations

import gc
from types import TracebackType

#: The pause a server holds until its app has started (`StartupPause.hold_until_serving`).
_held: StartupPause | None = None


class StartupPause:
    """`with StartupPause() as pause:` runs the block with the collector off, then puts it
    back as it was; `pause.freeze_survivors()` inside the block also freezes what is
    alive at its end, and `pause.hold_until_serving()` keeps it off after the block until
    `end_startup_pause()`."""

    def __init__(self) -> None:
        self._was_enabled = gc.isenabled()
        self._freeze = False
        self._hold = False

    def __enter__(self) -> StartupPause:
        gc.disable()
        return self

    def freeze_survivors(self) -> None:
        """Freeze what is alive when the block ends (a long-running command's imports)."""
        self._freeze = True

    def hold_until_serving(self) -> None:
        """Keep the collector off after the block, until `end_startup_pause()` (the app's
        lifespan, once started, or the server's end) freezes what is alive then and puts
        the collector back. Only for an app started in this process: nothing else would
        end the pause."""
        self._freeze = self._hold = True

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        global _held
        if self._hold and kind is None:
            _held = self
            return
        self._end(freeze=self._freeze and kind is None)

    def _end(self, freeze: bool) -> None:
        if freeze:
            gc.freeze()
        if self._was_enabled:
            gc.enable()


def end_startup_pause() -> None:
    """End the pause a server held through its start-up (nothing when none is held):
    freeze what is alive now and put the collector back as it was."""
    global _held
    held, _held = _held, None
    if held is not None:
        held._end(freeze=True)

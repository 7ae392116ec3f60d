"""The cyclic garbage collector stays out of the way while the `arcos` command imports.

Importing the domains builds about 140,000 objects (strawberry types, Tortoise models,
dataclasses) that live as long as the process. With the collector on, each import
triggers young collections that walk what the previous imports built, and two full ones:
about a sixth of `arcos serve`'s start-up went to collecting nothing. So the command's
imports run with the collector paused. For the server, what they built is then frozen
(`gc.freeze`): later full collections skip it, which also shortens their pauses while it
serves. The price is the few MB of import-time garbage frozen with it, once per process.
"""

from __future__ import annotations

import gc
from types import TracebackType


class StartupPause:
    """`with StartupPause() as pause:` runs the block with the collector off, then puts it
    back as it was; `pause.freeze_survivors()` inside the block also freezes what is
    alive at its end."""

    def __init__(self) -> None:
        self._was_enabled = gc.isenabled()
        self._freeze = False

    def __enter__(self) -> StartupPause:
        gc.disable()
        return self

    def freeze_survivors(self) -> None:
        """Freeze what is alive when the block ends (a long-running command's imports)."""
        self._freeze = True

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._freeze and kind is None:
            gc.freeze()
        if self._was_enabled:
            gc.enable()

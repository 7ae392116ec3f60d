"""What one sandboxed plugin call ended as, and the two errors that refuse a call.

Every way a call can end maps to one `OutcomeStatus`, so callers (the plugin domain, the
auto-disable counter, `pluginStats`) never parse messages. `error` is written for the
plugin author and never carries a host path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class OutcomeStatus(StrEnum):
    """How a plugin call ended."""

    SUCCEEDED = "succeeded"  # handler returned a JSON-able value
    FAILED = "failed"  # handler raised (plugin error): `error` = one-line message, no host paths
    TIMED_OUT = "timed_out"  # wall-clock deadline or RLIMIT_CPU
    CRASHED = "crashed"  # died by a signal / exited without a reply / MemoryError
    OUTPUT_TOO_LARGE = "output_too_large"
    INVALID_RESULT = "invalid_result"  # reply not JSON, NaN/Infinity, too deep


@dataclass(frozen=True)
class Outcome:
    """The result of one call: a status, the value (SUCCEEDED only) or a sentence."""

    status: OutcomeStatus
    result: Any = None  # the handler's return value (SUCCEEDED only)
    error: str | None = None  # what went wrong, a sentence a plugin author can act on
    duration_ms: float = 0.0


class SandboxUnavailable(Exception):
    """A sandbox layer cannot be applied here, so no plugin code may run (fail closed).

    `missing` names the layers (see `arcos.plugins.sandbox.layers.LAYER_NAMES`).
    `transient` marks a failure that says nothing about the machine (the zygote died or
    stopped answering while starting, the probe child ended without a report): the next
    call may try again, whereas a missing layer stays missing until the server restarts.
    """

    def __init__(
        self, missing: Iterable[str], detail: str = "", *, transient: bool = False
    ) -> None:
        self.missing: tuple[str, ...] = tuple(missing)
        self.detail = detail
        self.transient = transient
        message = (
            "plugin sandbox unavailable: cannot apply layer(s) "
            + ", ".join(self.missing)
            + (f" ({detail})" if detail else "")
            + "; run `arcos plugins doctor` to see which layers work on this machine and why"
        )
        super().__init__(message)


class SandboxBusy(Exception):
    """Every sandbox slot is running a call and the waiting queue is full."""

    def __init__(self, workers: int, queue: int) -> None:
        super().__init__(
            f"plugin sandbox busy: {workers} calls running and {queue} waiting; retry later"
        )

"""Turning what came back from a child into an Outcome, trusting none of it.

The reply bytes may come from fully escaped code, so they are parsed with bounds: the
host already stopped reading past `plugin_max_result_bytes`, `json.loads` refuses NaN and
Infinity, a RecursionError from absurd nesting is caught, and an iterative walk refuses
anything deeper than MAX_DEPTH. Signals and timeouts are decided before the reply is
looked at: a reply cut short by SIGKILL is a crash or a timeout, not an invalid result.
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from typing import Any

from arcos.plugins.sandbox.outcome import Outcome, OutcomeStatus, SandboxUnavailable

#: Deepest nesting accepted in a result (the same order as ARCOS_MAX_JSON_DEPTH).
MAX_DEPTH = 64


@dataclass(frozen=True)
class ChildEnd:
    """How a child ended, as the host saw it."""

    reply: bytes
    too_large: bool
    timed_out: bool
    exit_code: int | None  # negative: killed by that signal; None: the zygote never said
    cpu_seconds: float
    duration_ms: float


class _Refused(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not JSON")


def classify(end: ChildEnd, *, timeout: float, cpu_limit: int, max_bytes: int) -> Outcome:
    """The Outcome of one call; raises SandboxUnavailable if the child could not sandbox."""

    def outcome(status: OutcomeStatus, error: str | None = None, result: Any = None) -> Outcome:
        return Outcome(status, result=result, error=error, duration_ms=end.duration_ms)

    cpu_spent = end.cpu_seconds >= cpu_limit
    if end.timed_out:
        return outcome(
            OutcomeStatus.TIMED_OUT, f"the call ran longer than {timeout:g} s and was stopped"
        )
    if end.too_large:
        return outcome(
            OutcomeStatus.OUTPUT_TOO_LARGE,
            f"the result is larger than {max_bytes} bytes; return less data",
        )
    code = end.exit_code
    if code is not None and code < 0:
        signum = -code
        if signum == signal.SIGXCPU or (signum == signal.SIGKILL and cpu_spent):
            return outcome(
                OutcomeStatus.TIMED_OUT,
                f"the call used more than {cpu_limit} s of CPU time and was stopped",
            )
        return outcome(OutcomeStatus.CRASHED, f"the call was killed by {_signal_name(signum)}")
    if not end.reply:
        why = "without a reply" if code is None else f"with status {code} and no reply"
        return outcome(OutcomeStatus.CRASHED, f"the call ended {why}")
    try:
        message = _parse(end.reply)
    except (_Refused, ValueError, RecursionError) as error:
        return outcome(OutcomeStatus.INVALID_RESULT, f"the result is not valid JSON: {error}")
    if not isinstance(message, dict) or len(message) != 1:
        return outcome(OutcomeStatus.INVALID_RESULT, "the reply is not a single-key object")
    ((key, value),) = message.items()
    if key == "ok":
        return outcome(OutcomeStatus.SUCCEEDED, result=value)
    if key == "unavailable" and isinstance(value, dict):
        raise SandboxUnavailable(sorted(value), "; ".join(f"{k}: {v}" for k, v in value.items()))
    statuses = {
        "error": OutcomeStatus.FAILED,
        "crash": OutcomeStatus.CRASHED,
        "invalid": OutcomeStatus.INVALID_RESULT,
    }
    if key in statuses and isinstance(value, str):
        return outcome(statuses[key], value[:500])
    return outcome(OutcomeStatus.INVALID_RESULT, "the reply has an unknown shape")


def _parse(data: bytes) -> Any:
    value = json.loads(data, parse_constant=_refuse_constant)
    depth_error = _too_deep(value)
    if depth_error:
        raise _Refused(depth_error)
    return value


def _too_deep(value: Any) -> str | None:
    """Iterative depth check (the reply envelope adds one level)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH + 1:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return None


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"

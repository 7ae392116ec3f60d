"""Turning what came back from a child into an Outcome, trusting none of it.

The reply bytes may come from fully escaped code, so they are parsed with bounds: the
host already stopped reading past `plugin_max_result_bytes`, `json.loads` refuses NaN and
Infinity, a RecursionError from absurd nesting is caught, and a scan of the raw text
refuses anything deeper than MAX_DEPTH. Signals and timeouts are decided before the reply
is looked at: a reply cut short by SIGKILL is a crash or a timeout, not an invalid result.

The depth check reads the text, not the parsed value: a walk over the value pays Python
steps per container, and a 1 MB reply of `[[]] * 349000` cost 0.75 s that way. On the text
every step is a C loop over bytes (see `_too_deep`). Even so, a large reply is classified
off the event loop (pool.py): `json.loads` of 1 MB of tiny containers alone takes ~0.1 s,
and holds the GIL throughout (see `_parse`).

`{"unavailable": ...}` is honoured only from a child that never asked for its job (see
`ChildEnd.job_sent`): after the job, plugin code may have run and could fake it to turn its
call into SANDBOX_UNAVAILABLE, which records no execution and dodges auto-disable.
"""

from __future__ import annotations

import json
import re
import signal
from dataclasses import dataclass
from typing import Any

from arcos.formats.collector import collector_paused
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
    #: The child asked for its job (protocol.JOB_READY), so plugin code may have run; a
    #: child whose layers failed replies without asking.
    job_sent: bool


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
        if end.job_sent:  # only code that had the job could write this now: not our child
            return outcome(
                OutcomeStatus.CRASHED, "the call claimed the sandbox was unavailable after it "
                "had received its job",
            )
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
    # Keep the cyclic GC out of this one C call holding the GIL: the 340,000 containers
    # of a hostile 1 MB reply triggered collections that each walked the server's whole
    # heap, ~1 s of GIL instead of ~0.1 s. Only the pool's one reply thread pauses it here.
    with collector_paused():
        value = json.loads(data, parse_constant=_refuse_constant)
    if _too_deep(data):
        raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
    return value


#: A JSON string (valid JSON only: `_too_deep` runs after `json.loads` accepted the text).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
#: bytes.translate arguments: map `{}` to `[]`, delete every byte that is not a bracket.
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def _too_deep(data: bytes) -> bool:
    """Whether valid JSON `data` nests more than MAX_DEPTH levels inside the reply envelope.

    Strings are cut out (they may hold brackets), every other byte but the brackets is
    deleted, and then each pass removes every innermost pair `[]`, which lowers every
    subtree by one level. After MAX_DEPTH + 1 passes (the envelope is one level) only a
    deeper document leaves anything. Each step is one C call over the bytes, and the
    passes stop as soon as nothing is left (`[[]] * 349000`: 3 passes).
    """
    brackets = _STRING.sub(b"", data).translate(_BRACKETS, _NOT_BRACKETS)
    for _ in range(MAX_DEPTH + 1):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"

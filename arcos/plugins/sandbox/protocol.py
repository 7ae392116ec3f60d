"""Byte formats between host, zygote and child; stdlib only, since the zygote imports it.

- Control (host <-> zygote, a UNIX socketpair): one JSON object per line. A `run` or
  `probe` line carries the child's two pipe ends as SCM_RIGHTS, so the zygote never opens
  anything for a call and the host owns the other ends. The zygote forwards them, again
  as SCM_RIGHTS, to the already-sandboxed spare child that runs the call (child.py).
- Job (host -> child, fd 3): 4-byte big-endian length, then JSON `{"kind", "payload"}`.
  The length lets the child stop reading without waiting for EOF. The host writes it only
  after the child asked for it with the JOB_READY byte on the reply pipe, which a child
  whose layers failed never writes: so the host knows whether plugin code could have run.
- Reply (child -> host, fd 4): JOB_READY (sandboxed children only), then one JSON
  object, read until EOF. `{"ok": value}`,
  `{"error": msg}` (handler raised), `{"crash": msg}` (MemoryError), `{"invalid": msg}`
  (value not JSON-able), `{"unavailable": {layer: why}}` (a layer failed; nothing ran) or
  `{"probe": {layer: why}}`. The host trusts none of it: an escaped child can write
  anything here, so the host parses it with bounds (see reply.py).
"""

from __future__ import annotations

import json
import struct
from typing import Any

JOB_HEADER = struct.Struct(">I")
#: Written by a sandboxed child before its reply to ask for the job; never starts JSON.
JOB_READY = b"\x06"
#: Largest job a child accepts; the host's payloads are far smaller.
MAX_JOB_BYTES = 64 * 1024 * 1024


def control_line(message: dict[str, Any]) -> bytes:
    """One control message as a line."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def encode_job(kind: str, payload: Any) -> bytes:
    """A job for the child pipe; ValueError when the payload is not strict JSON."""
    body = json.dumps({"kind": kind, "payload": payload}, allow_nan=False).encode()
    return JOB_HEADER.pack(len(body)) + body


class LineBuffer:
    """Splits a byte stream into lines; `pop()` returns one complete line or None."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, data: bytes) -> None:
        self._data += data

    def pop(self) -> dict[str, Any] | None:
        end = self._data.find(b"\n")
        if end < 0:
            return None
        line = bytes(self._data[:end])
        del self._data[: end + 1]
        message: dict[str, Any] = json.loads(line)
        return message

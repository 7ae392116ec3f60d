"""Parse untrusted JSON text into Python without a traceback for any input.

`json.loads` fails in four ways a client can trigger: malformed text, bytes that are not
UTF-8, nesting deep enough to hit the recursion limit, and integer literals past Python's
digit limit. Each becomes `UnreadableJson` with a reason a client can act on; the GraphQL
endpoint answers it with HTTP 400 and the websocket transport with close code 4400.

Decoding also leaves the GIL to other threads as it goes. One `json.loads` is one C call
that holds the GIL throughout: ~130 ms for a 4 MB body of 40,000 small objects, during
which the event loop (and the store's thread) cannot take a step, even when the decode
runs in a JSON thread. Given a Python-level hook, the decoder calls back into the
interpreter for every object it builds, and the interpreter hands the GIL over at each call
when another thread has asked for it. That costs ~25% more decode time and shortened the
worst /healthz answer during a burst of eight 4 MB writes from ~1.3 s to ~0.6 s
(tests/benchmarks/bench_gil_hold.py measures the hold itself). A text shorter than
`STEPPED_FROM` decodes in one C call: it holds the GIL for well under the interpreter's
5 ms switch interval (~0.1 ms for a webhook's 7 KB), so stepping would only add its 25 %.
"""

from __future__ import annotations

import json
from typing import Any

#: The length (characters or bytes) from which decoding leaves the GIL as it goes.
STEPPED_FROM = 64 * 1024


class UnreadableJson(ValueError):
    """`str(error)` says what is wrong with the text, without echoing it."""


def parse_json(data: str | bytes) -> object:
    try:
        if len(data) < STEPPED_FROM:
            return json.loads(data)
        return json.loads(data, object_pairs_hook=_object_yielding_the_gil)
    except RecursionError:
        raise UnreadableJson("JSON is nested too deeply") from None
    except UnicodeDecodeError:
        raise UnreadableJson("JSON is not valid UTF-8") from None
    except json.JSONDecodeError as error:
        raise UnreadableJson(
            f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except ValueError:  # an integer literal past Python's digit limit
        raise UnreadableJson("JSON has a number with too many digits") from None


def parse_json_buffer(buffer: bytearray) -> object:
    """`parse_json` for a body read into `buffer`, in two steps that never hold the body
    three times: the bytes are decoded to text (as `json.loads` would decode them) and the
    buffer is emptied at once, then the text is parsed and dropped when this returns. At any
    moment the bytes and the text, or the text and the value, are held; not all three."""
    try:
        text = buffer.decode(json.detect_encoding(buffer), "surrogatepass")
    except UnicodeDecodeError:
        raise UnreadableJson("JSON is not valid UTF-8") from None
    finally:
        buffer.clear()
    return parse_json(text)


def _object_yielding_the_gil(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The object `json.loads` would build (the last of duplicate keys wins, as there).
    Being Python code is the point: see the module docstring."""
    return dict(pairs)


def parse_json_object(data: str | bytes) -> dict[str, Any]:
    """`parse_json` for bodies that must be one JSON object (REST writes, webhooks)."""
    value = parse_json(data)
    if not isinstance(value, dict):
        raise UnreadableJson("the JSON must be an object like {...}")
    return value

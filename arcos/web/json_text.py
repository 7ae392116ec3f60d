"""Parse untrusted JSON text into Python without a traceback for any input.

`json.loads` fails in four ways a client can trigger: malformed text, bytes that are not
UTF-8, nesting deep enough to hit the recursion limit, and integer literals past Python's
digit limit. Each becomes `UnreadableJson` with a reason a client can act on; the GraphQL
endpoint answers it with HTTP 400 and the websocket transport with close code 4400.
"""

from __future__ import annotations

import json
from typing import Any


class UnreadableJson(ValueError):
    """`str(error)` says what is wrong with the text, without echoing it."""


def parse_json(data: str | bytes) -> object:
    try:
        return json.loads(data)
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


def parse_json_object(data: str | bytes) -> dict[str, Any]:
    """`parse_json` for bodies that must be one JSON object (REST writes, webhooks)."""
    value = parse_json(data)
    if not isinstance(value, dict):
        raise UnreadableJson("the JSON must be an object like {...}")
    return value

"""Check one client message on a GraphQL websocket before a protocol handler reads it.

strawberry's handlers index into messages (`message["payload"]["query"]`) and trust the
types they find, so a list, a number for `id` or a string for `payload` used to end the
socket with 1006 and an "Exception in ASGI application" traceback. Both protocols share
these checks; a message that fails them closes the socket with 4400 and the reason.
"""

from __future__ import annotations

from typing import Any

from arcos.web.json_text import UnreadableJson, parse_json

#: Message types that name an operation by `id` (graphql-transport-ws, then legacy graphql-ws).
WITH_ID = frozenset({"subscribe", "complete", "start", "stop"})
#: Message types whose payload is a GraphQL request.
WITH_OPERATION = frozenset({"subscribe", "start"})
#: Optional fields of a GraphQL request payload and the JSON type each must have.
OPERATION_FIELDS: dict[str, type] = {
    "variables": dict, "operationName": str, "extensions": dict,
}


class BadMessage(Exception):
    """`reason` says what is wrong, short enough for a close frame once truncated."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_message(text: str) -> dict[str, Any]:
    """The message in `text` as a dict whose fields have the types the handlers assume."""
    try:
        message = parse_json(text)
    except UnreadableJson as error:
        raise BadMessage(str(error)) from None
    if not isinstance(message, dict):
        raise BadMessage('a message must be a JSON object like {"type": "..."}')
    kind = message.get("type")
    if not isinstance(kind, str):
        raise BadMessage("`type` must be a string")
    if ("id" in message or kind in WITH_ID) and not isinstance(message.get("id"), str):
        raise BadMessage(f"`id` must be a string in a {kind!r} message")
    payload = message.get("payload")
    if kind in WITH_OPERATION:
        _check_operation(kind, payload)
    elif kind == "connection_init" and payload is not None and not isinstance(payload, dict):
        raise BadMessage("the connection_init `payload` must be an object")
    return message


def _check_operation(kind: str, payload: object) -> None:
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        raise BadMessage(f'a {kind!r} message needs a payload like {{"query": "..."}}')
    for name, expected in OPERATION_FIELDS.items():
        value = payload.get(name)
        if value is not None and not isinstance(value, expected):
            raise BadMessage(f"`payload.{name}` has the wrong type in a {kind!r} message")

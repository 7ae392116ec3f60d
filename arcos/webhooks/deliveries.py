"""What every provider extracts from a delivery before it becomes a GraphQL operation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from arcos.web.json_text import UnreadableJson, parse_json_object
from arcos.webhooks.refusals import MalformedDelivery


@dataclass(frozen=True)
class IncomingDelivery:
    provider: str
    event: str
    action: str | None
    dedupe_key: str
    body: str  # the JSON document, as text
    #: `body` parsed (its one parse), handed on so the service does not parse it again.
    #: Required: a default (say, an empty dict) would be taken for the parsed body.
    payload: dict[str, Any] = field(repr=False, compare=False)


def json_object_text(raw: bytes) -> tuple[str, dict[str, Any]]:
    """The body as text and as a parsed JSON object; 400 when it is neither."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedDelivery("the body is not UTF-8") from None
    try:
        return text, parse_json_object(text)
    except UnreadableJson as error:
        raise MalformedDelivery(f"the body: {error}") from None


def body_digest(raw: bytes) -> str:
    """A dedupe key of last resort, for deliveries that carry no id."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def action_of(payload: dict[str, Any]) -> str | None:
    action = payload.get("action")
    return action[:128] if isinstance(action, str) else None


def bounded(value: str, limit: int = 255) -> str:
    return value[:limit]

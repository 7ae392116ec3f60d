"""What every provider extracts from a delivery before it becomes a GraphQL operation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from arcos.evidence.canonical import sha256_hex
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
    #: The hex SHA-256 of `body` when identifying the delivery took it (its dedupe key of
    #: last resort), handed on so the service does not hash the body again.
    body_sha256: str | None = field(default=None, repr=False, compare=False)


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


def dedupe_key(text: str, *candidates: str | None) -> tuple[str, str | None]:
    """The first of `candidates` present, else (for deliveries that carry no id) the
    body's digest; with the body's hex SHA-256 when it was taken, to be handed on."""
    for candidate in candidates:
        if candidate:
            return candidate, None
    digest = body_sha256(text)
    return "sha256:" + digest, digest


def body_sha256(text: str) -> str:
    """Hex SHA-256 of a delivery body's UTF-8 bytes: its replay mark and last-resort key."""
    return sha256_hex(text.encode("utf-8"))


def action_of(payload: dict[str, Any]) -> str | None:
    action = payload.get("action")
    return action[:128] if isinstance(action, str) else None


def bounded(value: str, limit: int = 255) -> str:
    return value[:limit]

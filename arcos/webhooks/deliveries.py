"""What every provider extracts from a delivery before it becomes a GraphQL operation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from arcos.rest.refusal import RestRefusal


@dataclass(frozen=True)
class IncomingDelivery:
    provider: str
    event: str
    action: str | None
    dedupe_key: str
    body: str  # the JSON document, as text


def malformed(message: str) -> RestRefusal:
    return RestRefusal(400, message, "BAD_REQUEST")


def json_object_text(raw: bytes) -> tuple[str, dict[str, Any]]:
    """The body as text and as a parsed JSON object; 400 when it is neither."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(text)
    except UnicodeDecodeError:
        raise malformed("the body is not UTF-8") from None
    except RecursionError:
        raise malformed("the JSON body is nested too deeply") from None
    except ValueError as error:
        raise malformed(f"the body is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise malformed("the body must be a JSON object")
    return text, value


def body_digest(raw: bytes) -> str:
    """A dedupe key of last resort, for deliveries that carry no id."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def action_of(payload: dict[str, Any]) -> str | None:
    action = payload.get("action")
    return action[:128] if isinstance(action, str) else None


def bounded(value: str, limit: int = 255) -> str:
    return value[:limit]

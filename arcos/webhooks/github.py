"""GitHub deliveries: `X-Hub-Signature-256` over the raw body; JSON or form-encoded.

The signature covers the body only: X-GitHub-Event, X-GitHub-Delivery and X-GitHub-Hook-ID
are unsigned, and the body does not name its event. A captured body re-sent with a fresh
delivery id is therefore a new delivery, unless ARCOS_WEBHOOK_REPLAY_WINDOW_SECONDS is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs

from arcos.webhooks.deliveries import (
    IncomingDelivery,
    action_of,
    bounded,
    json_object_text,
)
from arcos.webhooks.refusals import MalformedDelivery, UnsupportedDeliveryType
from arcos.webhooks.signatures import verify_hub_signature

NAME = "github"
AUTHENTICATION = "X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>"
SECRET_SETTINGS = ("github_webhook_secret",)
SIGNATURE_HEADER = "x-hub-signature-256"
#: Headers whose presence means the body is signed (and must be read to be verified).
SIGNED_BODY_HEADERS = (SIGNATURE_HEADER,)


def verify(
    headers: Mapping[str, str], body: bytes, secrets: dict[str, list[str]], now: float
) -> None:
    verify_hub_signature(headers, body, SIGNATURE_HEADER, secrets["github_webhook_secret"])


def identify(headers: Mapping[str, str], body: bytes) -> IncomingDelivery:
    """Event, action and dedupe key `(X-GitHub-Hook-ID, X-GitHub-Delivery)`."""
    event = headers.get("x-github-event")
    delivery = headers.get("x-github-delivery")
    if not event or not delivery:
        raise MalformedDelivery("X-GitHub-Event and X-GitHub-Delivery headers are required")
    text, payload = json_object_text(_json_bytes(headers, body))
    hook = headers.get("x-github-hook-id", "")
    return IncomingDelivery(
        provider=NAME, event=bounded(event, 128), action=action_of(payload),
        dedupe_key=bounded(f"{hook}:{delivery}"), body=text, payload=payload,
    )


def _json_bytes(headers: Mapping[str, str], body: bytes) -> bytes:
    """The JSON document: the body itself, or the `payload` field of a form body."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return body
    if content_type == "application/x-www-form-urlencoded":
        try:
            fields = parse_qs(body.decode("utf-8"), strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise MalformedDelivery("the form body is malformed") from None
        payload = fields.get("payload")
        if not payload or len(payload) != 1:
            raise MalformedDelivery("a form-encoded delivery needs exactly one `payload` field")
        return payload[0].encode("utf-8")
    raise UnsupportedDeliveryType(
        "GitHub deliveries must be application/json or application/x-www-form-urlencoded"
    )

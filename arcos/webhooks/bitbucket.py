"""Bitbucket Cloud and Data Center deliveries: `X-Hub-Signature: sha256=<hex>`.

The two are told apart by their delivery header: Cloud sends X-Request-UUID, Data Center
X-Request-Id. The signature covers the body only, so those ids and X-Event-Key are
unsigned: Data Center repeats the event key in the body (`eventKey`), and a header that
contradicts it is refused; a captured body re-sent with a fresh request id is a new
delivery unless ARCOS_WEBHOOK_REPLAY_WINDOW_SECONDS is set.
"""

from __future__ import annotations

from collections.abc import Mapping

from arcos.webhooks.deliveries import (
    IncomingDelivery,
    bounded,
    dedupe_key,
    json_object_text,
)
from arcos.webhooks.refusals import MalformedDelivery
from arcos.webhooks.signatures import verify_hub_signature

NAME = "bitbucket"
AUTHENTICATION = "X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)> (Cloud and DC)"
SECRET_SETTINGS = ("bitbucket_webhook_secret",)
#: Headers whose presence means the body is signed (and must be read to be verified).
SIGNED_BODY_HEADERS = ("x-hub-signature",)


def verify(
    headers: Mapping[str, str], body: bytes, secrets: dict[str, list[str]], now: float
) -> None:
    verify_hub_signature(headers, body, "x-hub-signature", secrets["bitbucket_webhook_secret"])


def flavor(headers: Mapping[str, str]) -> str:
    return "cloud" if headers.get("x-request-uuid") or headers.get("x-hook-uuid") else "server"


def identify(headers: Mapping[str, str], body: bytes) -> IncomingDelivery:
    event = headers.get("x-event-key")
    if not event:
        raise MalformedDelivery("the X-Event-Key header is required")
    text, payload = json_object_text(body)
    signed_key = payload.get("eventKey")
    if isinstance(signed_key, str) and signed_key != event:
        raise MalformedDelivery(
            f"X-Event-Key {event[:64]!r} does not match the signed body's eventKey "
            f"{signed_key[:64]!r}: the header is not signed and was altered"
        )
    key, digest = dedupe_key(text, headers.get("x-request-uuid"), headers.get("x-request-id"))
    return IncomingDelivery(
        provider=NAME, event=bounded(event, 128), action=flavor(headers),
        dedupe_key=bounded(key), body=text, payload=payload, body_sha256=digest,
    )

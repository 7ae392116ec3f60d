"""GitLab deliveries: `X-Gitlab-Token`, or signing tokens in the Standard Webhooks form."""

from __future__ import annotations

from collections.abc import Mapping

from arcos.webhooks.deliveries import (
    IncomingDelivery,
    body_digest,
    bounded,
    json_object_text,
    malformed,
)
from arcos.webhooks.signatures import refuse, verify_shared_token, verify_standard_webhook

NAME = "gitlab"
AUTHENTICATION = (
    "X-Gitlab-Token: <secret token>, or webhook-signature: v1,<base64 HMAC-SHA256(signing key, "
    "id.timestamp.body)> (±5 min)"
)
SECRET_SETTINGS = ("gitlab_webhook_token", "gitlab_webhook_signing_key")
#: Headers whose presence means the body is signed; X-Gitlab-Token is checked without it.
SIGNED_BODY_HEADERS = ("webhook-signature",)


def verify(
    headers: Mapping[str, str], body: bytes, secrets: dict[str, list[str]], now: float
) -> None:
    """A signed delivery is checked against the signing key; otherwise the token."""
    if headers.get("webhook-signature"):
        keys = secrets["gitlab_webhook_signing_key"]
        if not keys:
            raise refuse("the delivery is signed but ARCOS_GITLAB_WEBHOOK_SIGNING_KEY is not set")
        verify_standard_webhook(headers, body, keys, now)
        return
    tokens = secrets["gitlab_webhook_token"]
    if not tokens:
        raise refuse("the delivery has no webhook-signature and ARCOS_GITLAB_WEBHOOK_TOKEN is "
                     "not set")
    verify_shared_token(headers.get("x-gitlab-token"), tokens, "X-Gitlab-Token")


def identify(headers: Mapping[str, str], body: bytes) -> IncomingDelivery:
    """Event from `X-Gitlab-Event`; dedupe on Idempotency-Key, else X-Gitlab-Event-UUID."""
    event = headers.get("x-gitlab-event")
    if not event:
        raise malformed("the X-Gitlab-Event header is required")
    text, payload = json_object_text(body)
    attributes = payload.get("object_attributes")
    action = attributes.get("action") if isinstance(attributes, dict) else None
    key = (
        headers.get("idempotency-key")
        or headers.get("x-gitlab-event-uuid")
        or headers.get("webhook-id")
        or body_digest(body)
    )
    return IncomingDelivery(
        provider=NAME, event=bounded(event, 128),
        action=action[:128] if isinstance(action, str) else None,
        dedupe_key=bounded(key), body=text,
    )

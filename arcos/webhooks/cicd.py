"""Generic CI/CD deliveries (e.g. Jenkins' notification plugin), which can only send a
token: `Authorization: Bearer` with ARCOS_CICD_WEBHOOK_TOKEN or an API token that has the
`webhooks:deliver` scope."""

from __future__ import annotations

from collections.abc import Mapping

from arcos.auth.token_format import bearer_token
from arcos.webhooks.deliveries import IncomingDelivery, bounded, dedupe_key, json_object_text
from arcos.webhooks.mapping import cicd as mapping
from arcos.webhooks.signatures import matches_any

NAME = "cicd"
AUTHENTICATION = (
    "Authorization: Bearer <ARCOS_CICD_WEBHOOK_TOKEN>, or an API token with webhooks:deliver"
)
SECRET_SETTINGS = ("cicd_webhook_token",)


def shared_token_matches(headers: Mapping[str, str], secrets: dict[str, list[str]]) -> bool:
    """Whether the bearer token is the configured shared CI/CD token (constant time)."""
    presented = bearer_token(headers.get("authorization"))
    tokens = secrets["cicd_webhook_token"]
    if presented is None or not tokens:
        return False
    return matches_any((token.encode() for token in tokens), presented.encode())


def identify(headers: Mapping[str, str], body: bytes) -> IncomingDelivery:
    text, payload = json_object_text(body)
    key, digest = dedupe_key(
        text, mapping.dedupe_key(payload), headers.get("idempotency-key"),
        headers.get("x-request-id"),
    )
    return IncomingDelivery(
        provider=NAME, event="build", action=None, dedupe_key=bounded(key), body=text,
        payload=payload, body_sha256=digest,
    )

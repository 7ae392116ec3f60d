"""GitLab deliveries: `X-Gitlab-Token`, or signing tokens in the Standard Webhooks form.

A signed delivery (`webhook-signature`) is trusted only for what the signature covers:
`webhook-id`, `webhook-timestamp` and the body. Its dedupe key is therefore `webhook-id`
(never the unsigned Idempotency-Key or X-Gitlab-Event-UUID, which a replayer can change
freely), and its unsigned `X-Gitlab-Event` header must agree with the body's signed
`object_kind` before any mapping reads it. A token delivery carries no signature at all:
whoever holds the token can send anything, so its headers are taken as they come.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arcos.webhooks.deliveries import (
    IncomingDelivery,
    bounded,
    dedupe_key,
    json_object_text,
)
from arcos.webhooks.mapping import gitlab as mapping
from arcos.webhooks.refusals import MalformedDelivery, NotVerified
from arcos.webhooks.signatures import verify_shared_token, verify_standard_webhook

NAME = "gitlab"
AUTHENTICATION = (
    "X-Gitlab-Token: <secret token>, or webhook-signature: v1,<base64 HMAC-SHA256(signing key, "
    "id.timestamp.body)> (±5 min; deduplicated on webhook-id)"
)
SECRET_SETTINGS = ("gitlab_webhook_token", "gitlab_webhook_signing_key")
#: Headers whose presence means the body is signed; X-Gitlab-Token is checked without it.
SIGNED_BODY_HEADERS = ("webhook-signature",)

SYSTEM_HOOK = "System Hook"
#: The body's `object_kind` → the X-Gitlab-Event headers GitLab sends with it
#: (docs.gitlab.com webhook_events; a Job Hook's kind is `build`).
KIND_EVENTS: dict[str, frozenset[str]] = {
    "push": frozenset({"Push Hook"}),
    "tag_push": frozenset({"Tag Push Hook"}),
    "merge_request": frozenset({"Merge Request Hook"}),
    "pipeline": frozenset({"Pipeline Hook"}),
    "build": frozenset({"Job Hook"}),
    "deployment": frozenset({"Deployment Hook"}),
    "release": frozenset({"Release Hook"}),
    "vulnerability": frozenset({"Vulnerability Hook"}),
    "issue": frozenset({"Issue Hook", "Confidential Issue Hook"}),
    "work_item": frozenset({"Issue Hook", "Confidential Issue Hook"}),
    "note": frozenset({"Note Hook", "Confidential Note Hook"}),
    "wiki_page": frozenset({"Wiki Page Hook"}),
    "feature_flag": frozenset({"Feature Flag Hook"}),
    "emoji": frozenset({"Emoji Hook"}),
    "milestone": frozenset({"Milestone Hook"}),
    "access_token": frozenset({"Resource Access Token Hook"}),
}


def is_signed(headers: Mapping[str, str]) -> bool:
    return bool(headers.get("webhook-signature"))


def verify(
    headers: Mapping[str, str], body: bytes, secrets: dict[str, list[str]], now: float
) -> None:
    """A signed delivery is checked against the signing key; otherwise the token."""
    if is_signed(headers):
        keys = secrets["gitlab_webhook_signing_key"]
        if not keys:
            raise NotVerified(
                "the delivery is signed but ARCOS_GITLAB_WEBHOOK_SIGNING_KEY is not set"
            )
        verify_standard_webhook(headers, body, keys, now)
        return
    tokens = secrets["gitlab_webhook_token"]
    if not tokens:
        raise NotVerified("the delivery has no webhook-signature and ARCOS_GITLAB_WEBHOOK_TOKEN "
                          "is not set")
    verify_shared_token(headers.get("x-gitlab-token"), tokens, "X-Gitlab-Token")


def identify(headers: Mapping[str, str], body: bytes) -> IncomingDelivery:
    """Event from `X-Gitlab-Event` (checked against the signed body when signed); dedupe on
    webhook-id when signed, else Idempotency-Key, else X-Gitlab-Event-UUID."""
    event = headers.get("x-gitlab-event")
    if not event:
        raise MalformedDelivery("the X-Gitlab-Event header is required")
    text, payload = json_object_text(body)
    attributes = payload.get("object_attributes")
    action = attributes.get("action") if isinstance(attributes, dict) else None
    if is_signed(headers):
        check_event_matches_body(event, payload)
        key, digest = dedupe_key(text, headers.get("webhook-id"))
    else:
        key, digest = dedupe_key(
            text, headers.get("idempotency-key"), headers.get("x-gitlab-event-uuid")
        )
    return IncomingDelivery(
        provider=NAME, event=bounded(event, 128),
        action=action[:128] if isinstance(action, str) else None,
        dedupe_key=bounded(key), body=text, payload=payload, body_sha256=digest,
    )


def check_event_matches_body(event: str, payload: dict[str, Any]) -> None:
    """Refuse an X-Gitlab-Event that the signed body contradicts.

    A system hook routes on the body's own kind, so it fits any body. An event ARCOS maps
    must come with its own `object_kind`; other events are only recorded, whatever they say.
    """
    if event == SYSTEM_HOOK:
        return
    kind = payload.get("object_kind")
    expected = KIND_EVENTS.get(kind) if isinstance(kind, str) else None
    if expected is not None and event in expected:
        return
    if expected is None and event not in mapping.EVENTS:
        return
    raise MalformedDelivery(
        f"X-Gitlab-Event {event[:64]!r} does not match the signed body's object_kind "
        f"{str(kind)[:64]!r}: the header is not signed and was altered"
    )

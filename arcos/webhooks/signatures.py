"""Signature checks shared by the providers: HMAC-SHA256 over the raw body, compared in
constant time against every configured secret (current and previous, for rotation)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping

from arcos.webhooks.refusals import NotVerified

HEX_DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")
UNIX_TIME = re.compile(r"[0-9]{1,12}")
#: Standard Webhooks (GitLab signing tokens): allowed clock difference, seconds.
TIMESTAMP_TOLERANCE = 300


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def matches_any(candidates: Iterable[bytes], presented: bytes) -> bool:
    """Constant-time comparison against every candidate, without stopping at a match."""
    found = False
    for candidate in candidates:
        found |= hmac.compare_digest(candidate, presented)
    return found


def verify_hub_signature(
    headers: Mapping[str, str], body: bytes, header: str, secrets: list[str]
) -> None:
    """`<header>: sha256=<hex HMAC-SHA256(secret, raw body)>` (GitHub and Bitbucket)."""
    presented = headers.get(header)
    if not presented:
        raise NotVerified(f"{header} is missing: the delivery is not signed; set the webhook's "
                     "secret to the one ARCOS has")
    scheme, _, digest = presented.strip().partition("=")
    if scheme.lower() != "sha256" or not HEX_DIGEST.match(digest):
        raise NotVerified(f"{header} must be sha256=<64 hex digits>; other algorithms are refused")
    expected = (hmac_sha256(secret.encode(), body).hex().encode() for secret in secrets)
    if not matches_any(expected, digest.lower().encode()):
        raise NotVerified(f"{header} does not match: the webhook's secret differs from ARCOS's")


def verify_shared_token(presented: str | None, tokens: list[str], header: str) -> None:
    """A plaintext token header (GitLab's X-Gitlab-Token), compared in constant time."""
    if not presented:
        raise NotVerified(f"{header} is missing: set the webhook's secret token")
    if not matches_any((token.encode() for token in tokens), presented.encode()):
        raise NotVerified(f"{header} does not match the token ARCOS has")


def verify_standard_webhook(
    headers: Mapping[str, str], body: bytes, keys: list[str], now: float
) -> None:
    """Standard Webhooks: `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`, ±5 minutes."""
    message_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not message_id or not UNIX_TIME.fullmatch(timestamp):
        raise NotVerified("webhook-id and a numeric webhook-timestamp are required with "
                     "webhook-signature")
    if abs(now - int(timestamp)) > TIMESTAMP_TOLERANCE:
        raise NotVerified("webhook-timestamp is more than 5 minutes from the server's clock; "
                     "check both clocks")
    signed = f"{message_id}.{timestamp}.".encode() + body
    presented = [
        value.removeprefix("v1,").encode()
        for value in signatures.split()
        if value.startswith("v1,")
    ]
    if not presented:
        raise NotVerified("webhook-signature has no v1 signature")
    expected = []
    for key in keys:
        try:
            secret = base64.b64decode(key.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            continue  # a malformed configured key matches nothing
        expected.append(base64.b64encode(hmac_sha256(secret, signed)))
    if not any(matches_any(expected, value) for value in presented):
        raise NotVerified("webhook-signature does not match the signing key ARCOS has")

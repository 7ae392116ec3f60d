"""Token strings: how they are made, recognised and hashed.

Format: `arcos_` + 43 URL-safe base64 characters (32 random bytes). The fixed prefix lets
secret scanners find leaked tokens. Look-up hashes the presented token and finds the row
by that hash, then compares the hashes in constant time: an attacker cannot steer which
rows a guess touches, so no prefix-match timing oracle exists.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_PREFIX = "arcos_"  # noqa: S105 - the public prefix, not a secret
TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"^arcos_[A-Za-z0-9_-]{43}$")
DISPLAY_LENGTH = 10


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(value: str) -> bool:
    return bool(TOKEN_PATTERN.match(value))


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_hash(expected_hex: str, actual_hex: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return hmac.compare_digest(expected_hex.encode(), actual_hex.encode())


def display_prefix(token: str) -> str:
    return token[:DISPLAY_LENGTH]


def bearer_token(header_value: str | None) -> str | None:
    """The token from an `Authorization: Bearer …` value; None when absent or not Bearer."""
    if not header_value:
        return None
    scheme, _, credentials = header_value.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()

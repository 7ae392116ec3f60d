"""Token lifecycle and authentication; the CLI, GraphQL and every transport call these."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from arcos.auth.caller import Caller
from arcos.auth.models import ApiToken, Principal, PrincipalKind
from arcos.auth.scopes import ADMIN, Scope
from arcos.auth.token_format import (
    display_prefix,
    looks_like_token,
    new_token,
    same_hash,
    token_sha256,
)
from arcos.database_id import is_database_id

logger = logging.getLogger("arcos.auth")

#: Names start with a letter, so a name can never be mistaken for a numeric token id.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._@\-]{0,99}$")
#: last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)
BOOTSTRAP_PRINCIPAL = "admin"
BOOTSTRAP_TOKEN_NAME = "initial-admin"  # noqa: S105 - a name, not a secret


class TokenError(ValueError):
    """A token operation that cannot be done as asked; the message says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class AuthenticationFailed(Exception):
    """A presented credential is not valid. The message is safe to show the caller."""


@dataclass
class IssuedToken:
    token: ApiToken
    principal: Principal
    secret: str


def _now() -> datetime:
    return datetime.now(UTC)


def check_name(value: str, field: str) -> str:
    if not NAME.match(value or ""):
        raise TokenError(
            f"{field} must be 1-100 letters, digits, '.', '_', '@' or '-', starting with a "
            f"letter (got {value!r:.60})",
            field,
        )
    return value


async def create_token(
    name: str,
    scopes: frozenset[Scope],
    principal_name: str | None = None,
    principal_kind: PrincipalKind = PrincipalKind.CI,
    expires_in: timedelta | None = None,
) -> IssuedToken:
    """Issue a token for `principal_name` (created if new; default: the token's name)."""
    check_name(name, "name")
    principal_name = check_name(principal_name or name, "principal")
    secret = new_token()
    try:
        async with in_transaction() as connection:
            principal = await Principal.get_or_none(name=principal_name).using_db(connection)
            if principal is None:
                principal = await Principal.create(
                    name=principal_name, kind=principal_kind, using_db=connection
                )
            token = await ApiToken.create(
                principal=principal,
                name=name,
                secret_sha256=token_sha256(secret),
                display_prefix=display_prefix(secret),
                scopes=sorted(scope.value for scope in scopes),
                expires_at=_now() + expires_in if expires_in else None,
                using_db=connection,
            )
    except IntegrityError:
        raise TokenError(f"a token named {name!r} already exists; pick another name",
                         "name") from None
    return IssuedToken(token=token, principal=principal, secret=secret)


async def list_tokens() -> list[ApiToken]:
    return await ApiToken.all().prefetch_related("principal").order_by("id")


async def revoke_token(id_or_name: str) -> ApiToken:
    """Revoke by numeric id or by name. Revoking twice keeps the first revocation time."""
    lookup = (
        {"id": int(id_or_name)} if is_database_id(id_or_name) else {"name": id_or_name}
    )
    token = await ApiToken.get_or_none(**lookup).prefetch_related("principal")
    if token is None:
        raise TokenError(f"no token with id or name {id_or_name!r}", "token")
    if token.revoked_at is None:
        token.revoked_at = _now()
        await token.save(update_fields=["revoked_at"])
    return token


async def authenticate(secret: str) -> Caller:
    """The caller a bearer token stands for; AuthenticationFailed when it is not valid.

    The reason is logged for operators without any part of the token.
    """
    if not looks_like_token(secret):
        _refuse("malformed token")
    digest = token_sha256(secret)
    token = await ApiToken.get_or_none(secret_sha256=digest).prefetch_related("principal")
    if token is None or not same_hash(token.secret_sha256, digest):
        _refuse("unknown token")
    assert token is not None
    now = _now()
    if token.revoked_at is not None:
        _refuse(f"revoked token {token.name!r}")
    if token.expires_at is not None and token.expires_at <= now:
        _refuse(f"expired token {token.name!r}")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        await ApiToken.filter(id=token.id).update(last_used_at=now)
    return Caller(
        name=token.principal.name,
        kind=token.principal.kind.value,
        # As stored: a name this server no longer knows grants nothing, and the viewer
        # lists only the app's known scopes (ScopeCatalogue.held_by).
        scopes=frozenset(token.scopes),
        authenticated=True,
        token_id=token.id,
        token_name=token.name,
    )


def _refuse(reason: str) -> None:
    logger.warning("authentication failed: %s", reason)
    raise AuthenticationFailed(
        "the bearer token is not valid (unknown, revoked, expired or malformed); "
        "create a new one with `arcos token create`"
    )


async def token_still_valid(token_id: int) -> bool:
    """Whether a token authenticated earlier may still be used (long-lived websockets)."""
    token = await ApiToken.get_or_none(id=token_id)
    if token is None or token.revoked_at is not None:
        return False
    return token.expires_at is None or token.expires_at > _now()


async def bootstrap_admin_token() -> IssuedToken | None:
    """On an empty store, issue the first admin token; None when any principal exists."""
    if await Principal.exists():
        return None
    try:
        return await create_token(
            BOOTSTRAP_TOKEN_NAME,
            frozenset({ADMIN}),
            BOOTSTRAP_PRINCIPAL,
            PrincipalKind.PERSON,
        )
    except TokenError:
        return None  # another worker issued it first

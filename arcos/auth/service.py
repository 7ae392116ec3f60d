"""Token lifecycle and authentication; the CLI, GraphQL and every transport call these."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

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
from arcos.store.outbox import Message
from arcos.store.unit_of_work import UnitOfWork, Writer

if TYPE_CHECKING:
    from arcos.auth.principal_cache import PrincipalCache

logger = logging.getLogger("arcos.auth")

#: Names start with a letter, so a name can never be mistaken for a numeric token id.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._@\-]{0,99}$")
#: last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)
BOOTSTRAP_PRINCIPAL = "admin"
BOOTSTRAP_TOKEN_NAME = "initial-admin"  # noqa: S105 - a name, not a secret
#: Published (through the outbox) when a token is revoked, so whatever caches principals
#: can forget it: {"token_id", "token_name", "principal"}; key: the token id.
TOKEN_REVOKED = "auth.token_revoked"  # noqa: S105 - a topic, not a secret
#: The shared epoch every token revocation changes when instances share a Redis
#: (arcos/shared_state/epoch.py; checked by arcos/auth/principal_cache.py).
REVOCATION_EPOCH = "auth.revocations"
#: The topics this domain publishes (its `Domain.topics`).
TOPICS = (TOKEN_REVOKED,)


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
    writer: Writer,
    principal_name: str | None = None,
    principal_kind: PrincipalKind = PrincipalKind.CI,
    expires_in: timedelta | None = None,
) -> IssuedToken:
    """Issue a token for `principal_name` (created if new; default: the token's name).

    One unit of work: a principal created concurrently by another request makes the
    first attempt roll back and the retry find it; a token name already taken (the
    unique index refuses it again on the retry) is a TokenError.
    """
    check_name(name, "name")
    principal_name = check_name(principal_name or name, "principal")
    secret = new_token()

    async def work(unit: UnitOfWork) -> IssuedToken:
        principal = await Principal.get_or_none(name=principal_name).using_db(unit.connection)
        if principal is None:
            principal = await Principal.create(
                name=principal_name, kind=principal_kind, using_db=unit.connection
            )
        token = await ApiToken.create(
            principal=principal,
            name=name,
            secret_sha256=token_sha256(secret),
            display_prefix=display_prefix(secret),
            scopes=sorted(scope.value for scope in scopes),
            expires_at=unit.now + expires_in if expires_in else None,
            using_db=unit.connection,
        )
        return IssuedToken(token=token, principal=principal, secret=secret)

    async def name_taken(_: Exception) -> IssuedToken:
        raise TokenError(f"a token named {name!r} already exists; pick another name", "name")

    return await writer.run(work, on_conflict=name_taken)


async def list_tokens() -> list[ApiToken]:
    return await ApiToken.all().prefetch_related("principal").order_by("id")


async def revoke_token(id_or_name: str, writer: Writer) -> ApiToken:
    """Revoke by numeric id or by name. Revoking twice keeps the first revocation time.

    The revocation publishes TOKEN_REVOKED in the same unit of work, once: of several
    concurrent revocations only the one whose UPDATE finds the token still unrevoked
    writes the time and the event.
    """
    lookup = (
        {"id": int(id_or_name)} if is_database_id(id_or_name) else {"name": id_or_name}
    )

    async def work(unit: UnitOfWork) -> ApiToken:
        token = await ApiToken.get_or_none(**lookup).using_db(unit.connection).prefetch_related(
            "principal"
        )
        if token is None:
            raise TokenError(f"no token with id or name {id_or_name!r}", "token")
        if token.revoked_at is not None:
            return token
        revoked = await ApiToken.filter(id=token.id, revoked_at__isnull=True).using_db(
            unit.connection
        ).update(revoked_at=unit.now)
        if not revoked:  # another revocation committed since the read: keep its time
            await token.refresh_from_db(fields=["revoked_at"], using_db=unit.connection)
            return token
        token.revoked_at = unit.now
        unit.publish(Message(
            TOKEN_REVOKED,
            {"token_id": token.id, "token_name": token.name,
             "principal": token.principal.name},
            key=str(token.id),
        ))
        return token

    return await writer.run(work)


async def authenticate(secret: str, cache: PrincipalCache | None = None) -> Caller:
    """The caller a bearer token stands for; AuthenticationFailed when it is not valid.

    With `cache` (the app's), a token authenticated moments ago is not read again; its
    expiry is still checked (see arcos/auth/principal_cache.py). The reason is logged for
    operators without any part of the token.
    """
    if not looks_like_token(secret):
        _refuse("malformed token")
    digest = token_sha256(secret)
    if cache is not None and cache.enabled:
        lookup = await cache.lookup(digest)
        cached = lookup.entry
        if cached is not None:
            now = _now()
            if cached.expires_at is not None and cached.expires_at <= now:
                cache.forget(digest)
                _refuse(f"expired token {cached.caller.token_name!r}")
            if cached.last_used_at is None or now - cached.last_used_at > LAST_USED_RESOLUTION:
                cached.last_used_at = now
                await ApiToken.filter(id=cached.token_id).update(last_used_at=now)
            return cached.caller
    token = await ApiToken.get_or_none(secret_sha256=digest).prefetch_related("principal")
    if token is None or not same_hash(token.secret_sha256, digest):
        _refuse("unknown token")
    assert token is not None
    now = _now()
    if token.revoked_at is not None:
        _refuse(f"revoked token {token.name!r}")
    if token.expires_at is not None and token.expires_at <= now:
        _refuse(f"expired token {token.name!r}")
    last_used_at = token.last_used_at
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        # Not a unit of work, on purpose: last_used_at is bookkeeping that publishes no
        # event and guards no invariant, and one UPDATE of one column is atomic by itself
        # (never a read-modify-write save that could undo a concurrent revocation). Taking
        # the write path (and, on PostgreSQL, the outbox lock) for it on a request's read
        # path would serialise reads behind writes for nothing.
        last_used_at = now
        await ApiToken.filter(id=token.id).update(last_used_at=now)
    caller = Caller(
        name=token.principal.name,
        kind=token.principal.kind.value,
        # As stored: a name this server no longer knows grants nothing, and the viewer
        # lists only the app's known scopes (ScopeCatalogue.held_by).
        scopes=frozenset(token.scopes),
        authenticated=True,
        token_id=token.id,
        token_name=token.name,
    )
    if cache is not None and cache.enabled:
        cache.put(digest, caller, token.expires_at, last_used_at, lookup.generation,
                  lookup.epoch)
    return caller


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


async def bootstrap_admin_token(writer: Writer) -> IssuedToken | None:
    """On an empty store, issue the first admin token; None when any principal exists."""
    if await Principal.exists():
        return None
    try:
        return await create_token(
            BOOTSTRAP_TOKEN_NAME,
            frozenset({ADMIN}),
            writer,
            BOOTSTRAP_PRINCIPAL,
            PrincipalKind.PERSON,
        )
    except TokenError:
        return None  # another worker issued it first

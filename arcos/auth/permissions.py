"""Strawberry permission classes: every root field declares one, and a test enforces it.

A refusal raises an ArcosError so the client gets `extensions.code` UNAUTHENTICATED (no
valid token), FORBIDDEN (token lacks the scope) or RATE_LIMITED (with retryAfterSeconds).
"""

from __future__ import annotations

import math
import time
from functools import cache
from typing import Any

from starlette.websockets import WebSocket
from strawberry.permission import BasePermission
from strawberry.types import Info

from arcos.auth.caller import Caller
from arcos.auth.live import recheck_token
from arcos.auth.permission_memo import remember, remembered
from arcos.auth.scopes import Scope
from arcos.graphql.errors import ArcosError, ErrorCode


class ScopePermission(BasePermission):
    """Allows callers whose scopes grant `scope`; write scopes also spend rate allowance."""

    scope: Scope

    @classmethod
    def check_caller(cls, caller: Caller) -> None:
        """The scope part of the check, with no I/O: REST and webhook routes run it before
        they read a body, so a refused caller costs no upload."""
        check_scope(caller, cls.scope)

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        context = info.context
        caller = context.caller
        key = _memo_key(self, info)
        if key is not None and remembered(key):
            return True
        await _still_valid(context)
        self.check_caller(caller)
        if not self.scope.counts_as_write:
            if key is not None:
                remember(key)
        elif caller.token_id is not None:
            # Rate limits apply to API tokens; signature-verified webhook deliveries have
            # their providers' own limits and must not be refused with 429.
            retry_after = await context.rate_limiter.acquire(caller.name)
            if retry_after is not None:
                seconds = max(1, math.ceil(retry_after))
                raise ArcosError(
                    f"{caller.name!r} is writing faster than ARCOS_WRITE_RATE_PER_MINUTE "
                    f"allows; retry in {seconds} s",
                    ErrorCode.RATE_LIMITED,
                    {"retryAfterSeconds": seconds},
                )
        return True


def check_scope(caller: Caller, scope: Scope) -> None:
    """UNAUTHENTICATED without a token, FORBIDDEN without the scope."""
    if not caller.may(scope):
        raise _refusal(caller, repr(scope.value))


class AnyScopePermission(BasePermission):
    """Allows callers holding any of `scopes`: a read a writer may make of what it wrote
    (the resolver narrows what it sees). A read spends no write allowance."""

    scopes: tuple[Scope, ...]

    @classmethod
    def check_caller(cls, caller: Caller) -> None:
        """Like ScopePermission.check_caller, for any of `scopes`."""
        if not any(caller.may(scope) for scope in cls.scopes):
            raise _refusal(caller, " or ".join(repr(scope.value) for scope in cls.scopes))

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        key = _memo_key(self, info)
        if key is not None and remembered(key):
            return True
        await _still_valid(info.context)
        self.check_caller(info.context.caller)
        if key is not None and not any(scope.counts_as_write for scope in self.scopes):
            remember(key)
        return True


def _memo_key(permission: Any, info: Info) -> tuple[Any, ...] | None:
    """What a passed check is remembered under for the rest of the operation (see
    arcos/auth/permission_memo.py): the permission, the parent type and the caller; None
    over a websocket, whose checks also re-check its token now and then, and for checks
    made outside a field (the REST adapter checks root permissions before a body is read)."""
    context = info.context
    path = getattr(info, "path", None)
    if path is None or isinstance(context.request, WebSocket):
        return None
    return (type(permission), path.typename, id(context.caller))


def _refusal(caller: Caller, needed: str) -> ArcosError:
    if not caller.authenticated:
        return ArcosError(
            f"this needs a token with the {needed} scope: send "
            "'Authorization: Bearer <token>' (websockets: put it in connection_init)",
            ErrorCode.UNAUTHENTICATED,
        )
    return ArcosError(f"the token {caller.token_name!r} lacks the {needed} scope",
                      ErrorCode.FORBIDDEN)


async def _still_valid(context: Any) -> None:
    """A websocket authenticates once, then may live for days: re-check its token at most
    every ARCOS_AUTH_RECHECK_SECONDS so a revoked token stops working on open sockets too."""
    caller = context.caller
    if caller.token_id is None or not isinstance(context.request, WebSocket):
        return
    now = time.monotonic()
    if now - context.auth_checked_at < context.settings.auth_recheck_seconds:
        return
    await recheck_token(caller)
    context.auth_checked_at = now


@cache
def requires(scope: Scope) -> type[ScopePermission]:
    """The permission class for one scope (one class per scope, shared by every field)."""
    return type(f"Requires_{scope.name}", (ScopePermission,), {"scope": scope})


@cache
def requires_any(*scopes: Scope) -> type[AnyScopePermission]:
    """The permission class for "any of these scopes" (one class per combination)."""
    name = "_or_".join(scope.name for scope in scopes)
    return type(f"RequiresAny_{name}", (AnyScopePermission,), {"scopes": scopes})


class Public(BasePermission):
    """Declares a field open to anyone, so the schema walk knows it was a decision."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return True

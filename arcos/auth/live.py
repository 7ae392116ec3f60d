"""Keep long-lived subscriptions honest: a token revoked or expired mid-stream ends them.

Checking the store on every event would cost a query per subscriber per event, so the
token is re-checked every ARCOS_AUTH_RECHECK_SECONDS instead, and at once when the app's
principal cache hears of a revocation (arcos/auth/principal_cache.py): through GraphQL at
once, by another process within ARCOS_AUTH_REVOCATION_POLL_SECONDS. The re-check interval
bounds the rest (a token that expires, a cache turned off).

Each next event is awaited in a task of its own (so a revocation can interrupt the wait),
and that task's context is where the broker sets the event's request id
(arcos/request_id.py): the event is yielded under it, so the subscriber's work logs under
the request that wrote it.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import AsyncIterator
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

from arcos.auth.caller import Caller
from arcos.auth.service import token_still_valid
from arcos.problems import ArcosError, ErrorCode
from arcos.request_id import CURRENT, serving

if TYPE_CHECKING:
    from arcos.auth.principal_cache import PrincipalCache

T = TypeVar("T")


async def recheck_token(caller: Caller) -> None:
    """Raise UNAUTHENTICATED when the token `caller` authenticated with was revoked or
    has expired since; callers without a token pass. The one re-check every long-lived
    connection (websocket operations, subscription streams) runs."""
    if caller.token_id is not None and not await token_still_valid(caller.token_id):
        raise ArcosError(
            f"the token {caller.token_name!r} was revoked or has expired; reconnect with a "
            "valid token",
            ErrorCode.UNAUTHENTICATED,
        )


async def while_token_valid(
    events: AsyncIterator[T], caller: Caller, recheck_seconds: float,
    principals: PrincipalCache | None = None,
) -> AsyncIterator[T]:
    """Yield from `events` until they end or the caller's token stops being valid.

    With the app's principal cache, a revocation it hears of (from this process at once,
    from others within its poll) makes the token be re-checked right away."""
    if caller.token_id is None:
        async for event in events:
            yield event
        return
    with principals.watch(caller.token_id) if principals is not None else nullcontext() as told:
        async for event in _until_invalid(events, caller, recheck_seconds, told):
            yield event


async def _until_invalid(
    events: AsyncIterator[T], caller: Caller, recheck_seconds: float,
    told: asyncio.Event | None,
) -> AsyncIterator[T]:
    iterator = aiter(events)
    pending: asyncio.Future[T] | None = None
    step = contextvars.copy_context()  # the context `pending` runs in
    revoked: asyncio.Future[bool] | None = None
    next_check = time.monotonic() + recheck_seconds
    try:
        while True:
            if pending is None:
                step = contextvars.copy_context()
                pending = asyncio.get_running_loop().create_task(
                    _next(iterator), context=step)
            waiting: set[asyncio.Future[Any]] = {pending}
            if told is not None:
                if revoked is None:
                    revoked = asyncio.ensure_future(told.wait())
                waiting.add(revoked)
            await asyncio.wait(waiting, timeout=max(0.0, next_check - time.monotonic()),
                               return_when=asyncio.FIRST_COMPLETED)
            if revoked is not None and revoked.done():
                assert told is not None
                told.clear()
                revoked = None
                next_check = 0.0  # re-check now
            if time.monotonic() >= next_check:
                await recheck_token(caller)
                next_check = time.monotonic() + recheck_seconds
            if pending.done():
                try:
                    event = pending.result()
                except StopAsyncIteration:
                    return
                pending = None
                with serving(step.get(CURRENT)):  # the event's (see the module doc)
                    yield event
    finally:
        for waiter in (pending, revoked):
            if waiter is not None and not waiter.done():
                waiter.cancel()


async def _next(iterator: AsyncIterator[T]) -> T:
    return await anext(iterator)

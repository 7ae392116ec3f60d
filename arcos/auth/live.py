"""Keep long-lived subscriptions honest: a token revoked or expired mid-stream ends them.

Checking the store on every event would cost a query per subscriber per event, so the
token is re-checked every ARCOS_AUTH_RECHECK_SECONDS instead; that interval is the bound
on how long a revoked token keeps receiving.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TypeVar

from arcos.auth.caller import Caller
from arcos.auth.service import token_still_valid
from arcos.problems import ArcosError, ErrorCode

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
    events: AsyncIterator[T], caller: Caller, recheck_seconds: float
) -> AsyncIterator[T]:
    """Yield from `events` until they end or the caller's token stops being valid."""
    if caller.token_id is None:
        async for event in events:
            yield event
        return
    iterator = aiter(events)
    pending: asyncio.Future[T] | None = None
    next_check = time.monotonic() + recheck_seconds
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            await asyncio.wait({pending}, timeout=max(0.0, next_check - time.monotonic()))
            if time.monotonic() >= next_check:
                await recheck_token(caller)
                next_check = time.monotonic() + recheck_seconds
            if pending.done():
                try:
                    event = pending.result()
                except StopAsyncIteration:
                    return
                pending = None
                yield event
    finally:
        if pending is not None and not pending.done():
            pending.cancel()

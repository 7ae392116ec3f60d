"""The events of one subscription, taken while it holds a place in its principal's count.

Every subscription resolver (and so every websocket operation and SSE stream) reads its
topic through `live_events`, which claims a place in ARCOS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL's
count for as long as the broker subscription lives (given back when the client completes
it, the socket closes or the subscriber is cut off), stops at a revoked token, and turns an
overflowed queue into a coded SUBSCRIBER_TOO_SLOW error and a shared broker that cannot
carry events (refused at the start, or lost while it runs) into BROKER_UNAVAILABLE.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from arcos.auth.live import while_token_valid
from arcos.auth.principal_cache import PRINCIPAL_CACHE
from arcos.broker import BrokerUnavailable, Event, SubscriberTooSlow
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import ArcosError, ErrorCode
from arcos.settings import env_name
from arcos.web.connection_limits import Claim, ConnectionRefused

SETTING = env_name("max_subscriptions_per_principal")


@asynccontextmanager
async def live_events(context: ArcosContext, topic: str) -> AsyncIterator[AsyncIterator[Event]]:
    """The events published on `topic` for `context`'s caller; raises a TOO_MANY_OPERATIONS
    `ArcosError` naming the setting when the caller holds as many subscriptions as allowed."""
    claim = claim_place(context)
    try:
        with coded_broker_failures():
            async with context.broker.subscribe(topic) as events:
                yield while_token_valid(
                    events, context.caller, context.settings.auth_recheck_seconds,
                    context.domain_services.get(PRINCIPAL_CACHE),
                )
    finally:
        if claim is not None:
            claim.release()


@contextmanager
def coded_broker_failures() -> Iterator[None]:
    """Raise the broker's own failures inside the block as the coded errors clients read:
    SUBSCRIBER_TOO_SLOW for an overflowed queue, BROKER_UNAVAILABLE when the shared broker
    cannot carry events."""
    try:
        yield
    except SubscriberTooSlow as slow:
        raise ArcosError(str(slow), ErrorCode.SUBSCRIBER_TOO_SLOW) from slow
    except BrokerUnavailable as unavailable:
        raise ArcosError(str(unavailable), ErrorCode.BROKER_UNAVAILABLE) from unavailable


def claim_place(context: ArcosContext) -> Claim | None:
    """A place in the caller's subscription count (None when the context counts
    nothing); raises the coded TOO_MANY_OPERATIONS `ArcosError` when there is none."""
    limits = context.connection_limits
    if limits is None:
        return None
    client = getattr(context.request, "client", None)
    try:
        return limits.claim_subscription(context.caller, client.host if client else "unknown")
    except ConnectionRefused as refused:
        limit = context.settings.max_subscriptions_per_principal
        raise ArcosError(
            f"{refused.reason} or raise {SETTING}: each subscription gets its own copy of "
            "every event",
            ErrorCode.TOO_MANY_OPERATIONS, {"setting": SETTING, "limit": limit},
        ) from None

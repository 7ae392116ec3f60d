"""The optional replay window on body hashes (ARCOS_WEBHOOK_REPLAY_WINDOW_SECONDS).

GitHub and Bitbucket sign only the body, so whoever captures a delivery can re-send it with
a fresh delivery id and it is new evidence. With a window set, a body a signed provider
already delivered within the window answers as that first delivery instead. The unique
(provider, body_sha256) index of `webhook_replay_mark`, not a look-up, decides which of
several concurrent copies is first, so it holds across instances sharing a store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from arcos.webhooks.models import WebhookDelivery, WebhookReplayMark


async def recent_delivery(
    provider: str, body_sha256: str, window: timedelta,
    connection: BaseDBAsyncClient | None = None,
) -> WebhookDelivery | None:
    """The delivery that brought this body within the window, if any (read through
    `connection`, a transaction's, when given)."""
    if not window:
        return None
    mark = await WebhookReplayMark.filter(
        provider=provider, body_sha256=body_sha256, seen_at__gte=datetime.now(UTC) - window
    ).using_db(connection).first()
    if mark is None:
        return None
    return await WebhookDelivery.filter(id=mark.delivery_id).using_db(connection).first()


async def claim(
    provider: str, body_sha256: str, delivery_id: int, window: timedelta,
    connection: BaseDBAsyncClient,
) -> None:
    """Mark this body as delivered by `delivery_id`, inside the delivery's transaction.

    A mark older than the window is taken over by a conditional update (only one of two
    concurrent takers matches it); otherwise the insert raises IntegrityError when another
    delivery holds the body, which rolls the caller's transaction back.
    """
    if not window:
        return
    now = datetime.now(UTC)
    taken_over = await WebhookReplayMark.filter(
        provider=provider, body_sha256=body_sha256, seen_at__lt=now - window
    ).using_db(connection).update(seen_at=now, delivery_id=delivery_id)
    if not taken_over:
        await WebhookReplayMark.create(
            provider=provider, body_sha256=body_sha256, delivery_id=delivery_id, seen_at=now,
            using_db=connection,
        )


async def forget_stale(window: timedelta) -> None:
    """Drop marks past the window (all of them once the window is turned off)."""
    await WebhookReplayMark.filter(seen_at__lt=datetime.now(UTC) - window).delete()

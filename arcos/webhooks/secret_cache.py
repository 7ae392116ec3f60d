"""The webhook secrets an admin set at run time, remembered so a delivery does not read
them; a change is obeyed at once, not after some lifetime.

The overrides (`webhook_secret` rows, usually none or a few) are read in one query the
first time a delivery needs them and kept until a change is seen. What keeps it honest:

- `setWebhookSecret` publishes `webhooks.secret_set` (the secret's name, never its value)
  in its unit of work; a change committed by this process clears the cache before the
  mutation returns (`Writer.on_commit`).
- With a shared Redis (ARCOS_BROKER_URL), a change made through any instance is obeyed by
  every other from its next delivery on: the changing instance changes the deployment's
  webhook-secret epoch (arcos/shared_state/epoch.py) before its mutation returns, and the
  cached overrides are used only while the epoch is the one read before they were (one
  Redis round trip per delivery). When Redis cannot be read they are read from the store
  (the principal cache's rule too: arcos/shared_state/epoch_gate.py).
- A change committed by another process (another worker on the same store) is also read
  from the outbox every ARCOS_WEBHOOK_SECRET_POLL_SECONDS (with Redis: the backstop).
  Before that, a delivery signed with the new secret is not refused: a refusal made with
  cached secrets is decided again with secrets read from the store (`WebhookReceiver`).
  What the interval bounds is how long an old secret dropped by another process
  (keepPrevious: false) is still accepted.
- A read that started before a change does not store what it read.
- What is read is kept at most ARCOS_AUTH_CACHE_SECONDS (as API tokens are), so an edit
  of the store that no `setWebhookSecret` announced (a restored backup, an operator's
  SQL) is obeyed within that time, not only after a restart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from arcos.settings import Settings
from arcos.shared_state.epoch import SharedEpoch
from arcos.shared_state.epoch_gate import EpochGate
from arcos.store.outbox import Message, StoredEvent
from arcos.store.outbox_follower import OutboxFollower
from arcos.webhooks.credentials import SECRET_SET, secret_overrides, secrets_in_force
from arcos.webhooks.models import WebhookSecret
from arcos.webhooks.providers import SECRET_NAMES

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from arcos.graphql.context import AppServices

logger = logging.getLogger("arcos.webhooks")

#: The webhooks domain's app service name (`ArcosContext.service`, `AppServices`).
WEBHOOK_SECRETS = "webhooks.secrets"
#: The shared epoch every `setWebhookSecret` changes (arcos/shared_state/epoch.py).
SECRETS_EPOCH = "webhooks.secrets"


class SecretCache:
    """The run-time overrides of every webhook secret, read once and kept until changed."""

    def __init__(
        self, settings: Settings, names: Sequence[str], poll_seconds: float,
        epoch: SharedEpoch | None = None,
    ) -> None:
        self.settings = settings
        #: Trusts the cached overrides only under the deployment's webhook-secret epoch
        #: they were read under, when instances share a Redis.
        self.gate = EpochGate(epoch)
        #: The epoch read before the cached overrides were.
        self._epoch_seen: str | None = None
        self.names = tuple(names)
        self._overrides: dict[str, WebhookSecret] | None = None
        #: When the cached overrides were read (time.monotonic()).
        self._read_at = 0.0
        #: How long they are trusted without hearing of a change (0: read every time).
        self.max_age = settings.auth_cache_seconds
        #: Counts changes seen; a read stores its result only if none came since it began.
        self.generation = 0
        #: Reads changes other processes commit.
        self.follower = OutboxFollower(
            SECRET_SET, self._read_changes, poll_seconds=poll_seconds,
            name="webhook-secrets", on_failure=self.clear,
        )

    @property
    def cached(self) -> bool:
        return self._overrides is not None and not self._expired()

    def _expired(self) -> bool:
        return time.monotonic() - self._read_at >= self.max_age

    async def overrides(self) -> Mapping[str, WebhookSecret]:
        """Every override, from the cache when it holds them, they are not too old and (with
        a shared epoch) no instance changed a secret since they were read."""
        epoch = await self.gate.read()
        if (self._overrides is not None and not self._expired()
                and self.gate.trusts(self._epoch_seen, epoch)):
            return self._overrides
        generation = self.generation
        read_at = time.monotonic()
        rows = await secret_overrides(self.names)
        if generation == self.generation and self.gate.may_keep(epoch):
            self._overrides, self._read_at, self._epoch_seen = rows, read_at, epoch
        return rows

    async def secrets(self, names: tuple[str, ...], fresh: bool = False) -> dict[str, list[str]]:
        """`secrets_in_force` for `names`; read from the store first when `fresh`."""
        if fresh:
            self.clear()
        return secrets_in_force(names, self.settings, await self.overrides())

    def clear(self) -> None:
        self.generation += 1
        self._overrides = None

    def committed(self, messages: Sequence[Message]) -> Awaitable[None] | None:
        """`Writer.on_commit` listener: this process changed a secret. With a shared epoch,
        the returned change of it is awaited before the mutation returns."""
        self.clear()
        return self.gate.announce()

    async def _read_changes(self, events: list[StoredEvent]) -> None:
        self.clear()

    async def start(self) -> None:
        """Follow changes committed from now on (nothing older is cached yet)."""
        await self.follower.start()

    async def close(self) -> None:
        await self.follower.close()
        self.clear()


def secret_cache(services: AppServices) -> SecretCache:
    """The webhooks domain's app service, told of this process's changes by the writer."""
    shared = services.shared_redis
    cache = SecretCache(
        services.settings, SECRET_NAMES, services.settings.webhook_secret_poll_seconds,
        SharedEpoch(shared, SECRETS_EPOCH) if shared is not None else None,
    )
    services.writer.on_commit(SECRET_SET, cache.committed)
    return cache

"""Who a token stands for, remembered for ARCOS_AUTH_CACHE_SECONDS so a request does not
read its token again; revocation is obeyed at once, not after that time.

The cache is one of the app's services (the auth domain's `Domain.services`), so each app
has its own and nothing lives at module level. What keeps it honest:

- Only successful authentications are stored, keyed by the token's SHA-256: an unknown,
  revoked, expired or malformed token is never remembered, so guessing fills nothing. At
  most ARCOS_AUTH_CACHE_SIZE tokens are kept; the least recently used goes first.
- A hit still checks the token's expiry against the clock, and still writes last_used_at
  at its usual resolution.
- A revocation committed by this process evicts the token before the revoking mutation
  returns (`Writer.on_commit`): the broker's delivery may lag behind the response.
- With a shared Redis (ARCOS_BROKER_URL), every instance refuses a token revoked through
  any other at its next request: the revoking instance changes the deployment's revocation
  epoch (arcos/shared_state/epoch.py) before its mutation returns, and a hit is trusted only
  while the epoch is the one read before its entry was read from the store (one Redis
  round trip per authenticated request). When Redis cannot be read, nothing cached is
  trusted: the token is read from the store (fail closed). The rule is the one the webhook
  secret cache follows too (arcos/shared_state/epoch_gate.py).
- A revocation committed by another process (`arcos token revoke`, another worker) is also
  read from the outbox every ARCOS_AUTH_REVOCATION_POLL_SECONDS: without Redis that
  interval, not the cache's lifetime, bounds how long such a token is still honoured; with
  it, it is the backstop for a change Redis could not announce.
- A subscription open with a revoked token is told at the same moment and re-checks its
  token then (arcos/auth/live.py), instead of at its next ARCOS_AUTH_RECHECK_SECONDS.
- A look-up that started before an eviction does not store what it read (the token may
  have been read just before its revocation committed).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from arcos.auth.caller import Caller
from arcos.auth.service import REVOCATION_EPOCH, TOKEN_REVOKED
from arcos.shared_state.epoch import SharedEpoch
from arcos.shared_state.epoch_gate import EpochGate
from arcos.store.outbox import StoredEvent
from arcos.store.outbox_follower import OutboxFollower

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from arcos.graphql.context import AppServices
    from arcos.store.outbox import Message

logger = logging.getLogger("arcos.auth")

#: The auth domain's app service name (`ArcosContext.service`, `AppServices`).
PRINCIPAL_CACHE = "auth.principal_cache"
_PAGE = 200


@dataclass
class CachedPrincipal:
    """One authenticated token: the caller it stands for and what a hit must still check."""

    caller: Caller
    token_id: int
    expires_at: datetime | None
    #: The last_used_at this process wrote or read, so a hit knows when to write it again.
    last_used_at: datetime | None
    #: When it was stored (monotonic seconds).
    stored_at: float
    #: The shared revocation epoch read before the token was (None without Redis).
    epoch: str | None = None


@dataclass(frozen=True)
class Lookup:
    """What `PrincipalCache.lookup` found, and what storing a fresh read must present."""

    entry: CachedPrincipal | None
    generation: int
    #: The shared revocation epoch, read before the store would be (None without Redis, or
    #: when Redis could not say).
    epoch: str | None


class PrincipalCache:
    """An LRU of authenticated principals by token digest, with a time to live."""

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = 10_000,
        poll_seconds: float = 0.25,
        topic: str = TOKEN_REVOKED,
        clock: Callable[[], float] = time.monotonic,
        epoch: SharedEpoch | None = None,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        #: Trusts an entry only under the deployment's revocation epoch it was read under,
        #: when instances share a Redis.
        self.gate = EpochGate(epoch)
        self.max_entries = max_entries
        self.topic = topic
        self._clock = clock
        self._entries: OrderedDict[str, CachedPrincipal] = OrderedDict()
        self._digest_of: dict[int, str] = {}
        #: Counts revocations seen; a look-up stores its result only if none came since
        #: it began.
        self.generation = 0
        #: Reads revocations other processes commit.
        self.follower = OutboxFollower(
            topic, self._read_revocations, poll_seconds=poll_seconds,
            name="auth-revocations", on_failure=self.clear, page=_PAGE,
        )
        #: Open subscriptions by token id, each told to re-check its token at once.
        self._watchers: dict[int, set[asyncio.Event]] = {}

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str) -> CachedPrincipal | None:
        """The principal stored for `digest` while it is younger than the time to live."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if self._clock() - entry.stored_at >= self.ttl_seconds:
            self._drop(digest)
            return None
        self._entries.move_to_end(digest)
        return entry

    async def lookup(self, digest: str) -> Lookup:
        """The entry for `digest` if it may be trusted now, with what a fresh read must
        present to `put`. With a shared epoch this is its one Redis read per request: an
        entry read from the store under another epoch is not trusted (a revocation
        happened somewhere since), nor is any entry when Redis cannot say."""
        epoch = await self.gate.read()
        generation = self.generation
        entry = self.get(digest)
        if entry is not None and not self.gate.trusts(entry.epoch, epoch):
            self._drop(digest)
            entry = None
        return Lookup(entry, generation, epoch)

    def put(
        self, digest: str, caller: Caller, expires_at: datetime | None,
        last_used_at: datetime | None, generation: int, epoch: str | None = None,
    ) -> None:
        """Remember a successful authentication, unless a revocation was seen since
        `generation` (the value of `self.generation` when the look-up began). With a shared
        epoch, `epoch` is the one read before the store was; None (Redis could not say)
        stores nothing, since such an entry could never be trusted."""
        if not self.enabled or generation != self.generation or caller.token_id is None:
            return
        if not self.gate.may_keep(epoch):
            return
        self._drop(digest)
        self._entries[digest] = CachedPrincipal(
            caller, caller.token_id, expires_at, last_used_at, self._clock(), epoch
        )
        self._digest_of[caller.token_id] = digest
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))

    def forget(self, digest: str) -> None:
        """Drop one entry (an expired token found on a hit)."""
        self._drop(digest)

    def revoked(self, token_id: int) -> None:
        """The token was revoked: forget it, and make look-ups in flight forget it too."""
        self.generation += 1
        digest = self._digest_of.get(token_id)
        if digest is not None:
            self._drop(digest)
        for signal in self._watchers.get(token_id, ()):
            signal.set()

    @contextmanager
    def watch(self, token_id: int) -> Iterator[asyncio.Event]:
        """An event set when `token_id` may have been revoked, for a subscription to
        re-check its token at once instead of at its next ARCOS_AUTH_RECHECK_SECONDS."""
        signal = asyncio.Event()
        watchers = self._watchers.setdefault(token_id, set())
        watchers.add(signal)
        try:
            yield signal
        finally:
            watchers.discard(signal)
            if not watchers and self._watchers.get(token_id) is watchers:
                del self._watchers[token_id]

    def committed_revocations(self, messages: Sequence[Message]) -> Awaitable[None] | None:
        """`Writer.on_commit` listener: this process revoked tokens. With a shared epoch,
        the returned change of it is awaited before the revoking write returns, so every
        other instance refuses the token from its next request on."""
        for message in messages:
            self._revoked_by(message.event)
        return self.gate.announce()

    def _revoked_by(self, event: object) -> None:
        """`event` is a revocation as committed here, or an outbox row's record, which may
        be any JSON value (written by another version, or by hand)."""
        token_id = event.get("token_id") if isinstance(event, dict) else None
        if isinstance(token_id, int):
            self.revoked(token_id)
        else:  # an event we cannot read: forget everything rather than honour a revoked token
            self.clear()

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._digest_of.clear()
        for watchers in self._watchers.values():
            for signal in watchers:
                signal.set()

    def _drop(self, digest: str) -> None:
        entry = self._entries.pop(digest, None)
        if entry is not None and self._digest_of.get(entry.token_id) == digest:
            del self._digest_of[entry.token_id]

    # -- following revocations committed by other processes

    async def start(self) -> None:
        """Follow revocations committed from now on (older ones were never cached here)."""
        if self.enabled:
            await self.follower.start()

    async def close(self) -> None:
        await self.follower.close()
        self.clear()

    async def _read_revocations(self, events: list[StoredEvent]) -> None:
        for event in events:
            self._revoked_by(event.record)


def principal_cache(services: AppServices) -> PrincipalCache:
    """The auth domain's app service: built from the settings, told of this process's
    revocations by the app's writer as they commit."""
    settings = services.settings
    shared = services.shared_redis
    cache = PrincipalCache(
        settings.auth_cache_seconds, settings.auth_cache_size,
        settings.auth_revocation_poll_seconds,
        epoch=SharedEpoch(shared, REVOCATION_EPOCH) if shared is not None else None,
    )
    services.writer.on_commit(cache.topic, cache.committed_revocations)
    return cache

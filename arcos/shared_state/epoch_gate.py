"""When a cache may trust what it holds, by the shared epoch (epoch.py) it was read under.

The principal cache (arcos/auth/principal_cache.py) and the webhook secret cache
(arcos/webhooks/secret_cache.py) keep different things in different shapes, but decide
alike whether a hit may be served, and that decision is security-relevant (a revoked token,
a dropped secret), so it is made here once:

- before reading the store for an entry, read the epoch and keep it with the entry
  (`read`, then `may_keep`);
- a hit is trusted only while the epoch read now is the one kept with it (`trusts`);
- when Redis cannot say (the epoch reads None), nothing cached is trusted and nothing
  read is kept: every use reads the store (fail closed), since an entry kept without an
  epoch could never be checked against a change;
- a change committed here is announced by changing the epoch (`announce`).

Without a shared Redis (one instance, or instances told of changes only by the outbox)
the gate is open: every entry is trusted and kept, and there is nothing to announce.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from arcos.shared_state.epoch import SharedEpoch


class EpochGate:
    """The trust rule of a cache whose entries are stamped with the shared epoch they were
    read under; an open gate when `epoch` is None (no shared Redis)."""

    def __init__(self, epoch: SharedEpoch | None) -> None:
        self.epoch = epoch

    async def read(self) -> str | None:
        """The epoch to stamp a fresh read with and to check hits against: one Redis round
        trip. None without a shared epoch, or when Redis cannot say."""
        return await self.epoch.read() if self.epoch is not None else None

    def trusts(self, stamp: str | None, now: str | None) -> bool:
        """Whether an entry stamped `stamp` may be served when `read` answered `now`."""
        return self.epoch is None or (now is not None and stamp == now)

    def may_keep(self, now: str | None) -> bool:
        """Whether a value read from the store after `read` answered `now` may be kept:
        not when Redis could not say, since no later hit could be checked against it."""
        return self.epoch is None or now is not None

    def announce(self) -> Awaitable[None] | None:
        """A change committed here, for every instance to see at its next `read`: the
        awaitable to await before the change's response leaves (None without Redis)."""
        return self.epoch.change() if self.epoch is not None else None

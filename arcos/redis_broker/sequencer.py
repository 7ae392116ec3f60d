"""Putting the shared broker's events back in commit order before any subscriber sees them.

Each instance's relay publishes its own commits in order, but instances race each other:
B may publish position 6 after A published 7. A subscriber drops whatever is at or below
the last position it saw (arcos/store/resume.py), so 6 arriving after 7 would be lost to
it. The sequencer therefore delivers positions strictly in order, holding a position until
the one before it is delivered. A hold that lasts `gap_seconds` asks the outbox which
positions in between committed (once a later position committed, that answer is final:
see arcos/store/outbox.py):

- none: they rolled back, a gap that never fills; the held events go out;
- some, but on topics nobody here subscribes to (`wanted` says no): nobody can see them
  out of order, so they are passed at once, as if rolled back;
- some that have not arrived: they are late (their instance has not published them yet)
  or lost (it died between its commit and its publish, Redis dropped them, or a process
  without the shared broker wrote them: an `arcos` command). They get until
  `lost_seconds` after the hold began; then the sequencer reports them lost, with their
  topics (its owner ends the subscriptions to those topics, so their clients catch up
  from the store), and moves on.

A store that cannot answer (or takes longer than `lost_seconds`) counts as the last case:
after `lost_seconds` of holding, what is missing is reported lost, its topics unknown
(None).

The outbox is asked about the held position itself too: one it does not hold was never
committed by any instance (a garbled or forged message on the channel) and is dropped;
delivering it would move `last` past every real position below it, and those would then
be dropped as repeats. A long gap is read a page at a time (GAP_PAGE positions).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

logger = logging.getLogger("arcos.broker")

T = TypeVar("T")

#: The committed positions strictly between two positions, with their topics, oldest
#: first and at most the third argument of them (the outbox's answer).
CommittedBetween = Callable[[int, int, int], Awaitable[dict[int, str]]]
#: Told of positions that committed but never arrived, with their topics (None: unknown).
LostHandler = Callable[[dict[int, str | None]], None]

#: At most this many positions are named when a store that cannot answer makes a whole
#: gap count as lost.
MAX_NAMED_LOST = 1000
#: At most this many committed positions are read per question about a gap.
GAP_PAGE = 1000


class Sequencer(Generic[T]):
    """Delivers items offered by position in position order, each at most once."""

    def __init__(
        self,
        deliver: Callable[[int, T], None],
        committed_between: CommittedBetween,
        lost: LostHandler,
        *,
        wanted: Callable[[str], bool] = lambda topic: True,
        gap_seconds: float = 0.05,
        lost_seconds: float = 2.0,
    ) -> None:
        self._deliver = deliver
        self._committed_between = committed_between
        self._lost = lost
        self._wanted = wanted
        self.gap_seconds = gap_seconds
        self.lost_seconds = lost_seconds
        #: The last position delivered (or skipped); None until `start`.
        self.last: int | None = None
        self._held: dict[int, T] = {}
        self._watch: asyncio.Task[None] | None = None
        self._progress = asyncio.Event()

    @property
    def held(self) -> int:
        """Positions waiting for an earlier one (for tests and health)."""
        return len(self._held)

    def start(self, position: int) -> None:
        """Deliver what comes after `position` from now on, forgetting anything held (the
        owner's connection was re-established: `position` is the outbox's newest)."""
        self.stop()
        self._held.clear()
        self.last = position

    def stop(self) -> None:
        """Stop watching gaps (the owner is closing or reconnecting)."""
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None

    def offer(self, position: int, item: T) -> None:
        """`item` arrived at `position`: deliver it, and whatever it unblocks, when its
        turn comes; a position already delivered or held is a repeat and is dropped."""
        if self.last is None or position <= self.last or position in self._held:
            return
        self._held[position] = item
        self._progress.set()
        self._drain()
        if self._held and self._watch is None:
            self._watch = asyncio.create_task(self._watch_gaps(), name="broker-sequencer")

    def _drain(self) -> None:
        assert self.last is not None
        while self.last + 1 in self._held:
            self.last += 1
            self._hand_over(self.last, self._held.pop(self.last))

    def _skip_to(self, position: int) -> None:
        """Move past every position up to `position`: the held ones are delivered in order,
        the others will never be (rolled back, or lost and reported)."""
        for held in sorted(p for p in self._held if p <= position):
            self.last = held
            self._hand_over(held, self._held.pop(held))
        assert self.last is not None
        self.last = max(self.last, position)
        self._progress.set()
        self._drain()

    def _hand_over(self, position: int, item: T) -> None:
        try:
            self._deliver(position, item)
        except Exception:  # one bad delivery must not stop the stream
            logger.exception("delivering broker position %s failed", position)

    async def _watch_gaps(self) -> None:
        loop = asyncio.get_running_loop()
        stalled_at, stalled_since = self.last, loop.time()
        try:
            while self._held:
                if self.last != stalled_at:  # moved on: a new hold begins now
                    stalled_at, stalled_since = self.last, loop.time()
                await asyncio.sleep(self.gap_seconds)
                if self.last == stalled_at and self._held:
                    await self._settle_gap(stalled_since)
        finally:
            if self._watch is asyncio.current_task():
                self._watch = None

    async def _settle_gap(self, stalled_since: float) -> None:
        """Resolve the gap before the lowest held position (see the module docstring)."""
        loop = asyncio.get_running_loop()
        gap_start = self.last
        assert gap_start is not None
        lowest = min(self._held)
        try:
            committed = await asyncio.wait_for(
                self._committed_between(gap_start, lowest + 1, GAP_PAGE), self.lost_seconds)
        except Exception:  # a failing or hanging store alike
            logger.warning("the outbox could not say which positions between %s and %s "
                           "committed", gap_start, lowest, exc_info=True)
            if loop.time() - stalled_since >= self.lost_seconds and self.last == gap_start:
                unknown = itertools.islice(
                    (p for p in range(gap_start + 1, lowest) if p not in self._held),
                    MAX_NAMED_LOST)
                self._report_lost(dict.fromkeys(unknown), lowest - 1)
            return
        if self.last != gap_start:
            return  # the gap filled while the store answered
        if len(committed) >= GAP_PAGE:
            # One page of a longer gap: settle it up to its last position, then go on.
            through = max(committed)
        elif lowest in committed:
            through = lowest - 1
        else:
            if self._held.pop(lowest, None) is not None:
                logger.warning("dropped broker position %s: no instance committed it (a "
                               "garbled or forged message on the channel)", lowest)
            return
        awaited = {p for p, topic in committed.items()
                   if gap_start < p <= through and p not in self._held and self._wanted(topic)}
        if not awaited:
            self._skip_to(through)  # rolled back, or of no interest here
            return
        deadline = stalled_since + self.lost_seconds
        while True:
            awaited = {p for p in awaited if p > self.last and p not in self._held}
            remaining = deadline - loop.time()
            if not awaited or remaining <= 0:
                break
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), remaining)
            except TimeoutError:
                pass
        if awaited:
            self._report_lost({p: committed[p] for p in sorted(awaited)}, max(awaited))

    def _report_lost(self, missing: dict[int, str | None], through: int) -> None:
        logger.warning("broker positions committed but never received: %s",
                       list(missing)[:20])
        try:
            self._lost(missing)
        except Exception:
            logger.exception("reporting lost broker positions failed")
        self._skip_to(through)

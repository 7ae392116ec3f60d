"""The shared broker's sequencer: positions from racing instances come out in commit order,
gaps left by rolled-back transactions are passed, and positions that committed but never
arrived are reported lost (so subscribers end and catch up from the store) instead of
holding the stream forever or being skipped silently.

The outbox is played by a set of committed positions; timeouts are short so the tests are
quick, and nothing asserts how long anything took.
"""

from __future__ import annotations

import asyncio

from arcos.redis_broker.sequencer import Sequencer

#: Guards against a hang only.
GUARD_SECONDS = 10.0


class Harness:
    """A sequencer over a fake outbox, recording what it delivers and reports lost."""

    def __init__(self, committed: set[int], *, lost_seconds: float = 0.3,
                 store_fails: bool = False, store_hangs: bool = False,
                 wanted: set[str] | None = None) -> None:
        self.committed = committed
        self.store_fails = store_fails
        self.store_hangs = store_hangs
        self.delivered: list[int] = []
        self.lost: list[dict[int, str | None]] = []
        self.queries = 0
        self.changed = asyncio.Event()
        self.sequencer: Sequencer[str] = Sequencer(
            self._deliver, self._committed_between, self._lost,
            wanted=lambda topic: wanted is None or topic in wanted,
            gap_seconds=0.01, lost_seconds=lost_seconds,
        )

    def _deliver(self, position: int, item: str) -> None:
        assert item == f"event {position}"
        self.delivered.append(position)
        self.changed.set()

    def _lost(self, missing: dict[int, str | None]) -> None:
        self.lost.append(missing)
        self.changed.set()

    async def _committed_between(self, after: int, before: int, limit: int) -> dict[int, str]:
        self.queries += 1
        if self.store_fails:
            raise OSError("the store is down")
        if self.store_hangs:
            await asyncio.sleep(GUARD_SECONDS * 10)
        between = [p for p in sorted(self.committed) if after < p < before][:limit]
        return {p: f"topic{p % 2}" for p in between}

    def offer(self, *positions: int) -> None:
        for position in positions:
            self.sequencer.offer(position, f"event {position}")

    async def until_delivered(self, last: int) -> None:
        async def wait() -> None:
            while not self.delivered or self.delivered[-1] < last:
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(wait(), GUARD_SECONDS)


async def test_in_order_positions_go_out_at_once_and_repeats_are_dropped() -> None:
    harness = Harness({1, 2, 3})
    harness.sequencer.start(0)
    harness.offer(1, 2, 2, 1, 3)
    assert harness.delivered == [1, 2, 3]
    assert harness.queries == 0


async def test_positions_at_or_before_the_start_are_dropped() -> None:
    harness = Harness({1, 2, 3, 4, 5, 6})
    harness.offer(1)  # not started yet: nothing is delivered
    harness.sequencer.start(4)
    harness.offer(3, 4, 5, 6)
    assert harness.delivered == [5, 6]


async def test_a_position_arriving_before_its_predecessor_waits_for_it() -> None:
    harness = Harness({6, 7, 8})
    harness.sequencer.start(5)
    harness.offer(8, 7)
    assert harness.delivered == []
    harness.offer(6)
    assert harness.delivered == [6, 7, 8]
    assert harness.lost == []


async def test_a_gap_left_by_a_rollback_is_passed_after_asking_the_outbox() -> None:
    harness = Harness({1, 3, 4})  # 2 rolled back
    harness.sequencer.start(0)
    harness.offer(1, 3, 4)
    assert harness.delivered == [1]
    await harness.until_delivered(4)
    assert harness.delivered == [1, 3, 4]
    assert harness.lost == []
    assert harness.queries >= 1


async def test_a_late_position_is_waited_for_and_delivered_in_order() -> None:
    harness = Harness({1, 2, 3}, lost_seconds=GUARD_SECONDS)
    harness.sequencer.start(0)
    harness.offer(1, 3)
    while harness.queries == 0:  # the outbox said 2 committed: it is late, not lost
        await asyncio.sleep(0.01)
    harness.offer(2)
    assert harness.delivered == [1, 2, 3]
    assert harness.lost == []


async def test_a_committed_position_that_never_arrives_is_reported_lost_then_passed() -> None:
    harness = Harness({1, 2, 3, 4, 5})  # 2 and 3 committed, never published
    harness.sequencer.start(0)
    harness.offer(1, 4, 5)
    await harness.until_delivered(5)
    assert harness.lost == [{2: "topic0", 3: "topic1"}]
    assert harness.delivered == [1, 4, 5]
    harness.offer(2, 6)  # a straggler after the report is a repeat; the stream goes on
    assert harness.delivered == [1, 4, 5, 6]


async def test_lost_and_rolled_back_positions_in_one_gap() -> None:
    harness = Harness({1, 3, 5})  # 2 and 4 rolled back, 3 lost
    harness.sequencer.start(0)
    harness.offer(1, 5)
    await harness.until_delivered(5)
    assert harness.lost == [{3: "topic1"}]
    assert harness.delivered == [1, 5]


async def test_missing_positions_nobody_here_subscribes_to_are_passed_unreported() -> None:
    # 2 and 4 committed on "topic0", never published; only "topic1" has subscribers here.
    harness = Harness({1, 2, 3, 4, 5}, lost_seconds=GUARD_SECONDS, wanted={"topic1"})
    harness.sequencer.start(0)
    harness.offer(1, 3, 5)
    await harness.until_delivered(5)
    assert harness.delivered == [1, 3, 5]
    assert harness.lost == []


async def test_a_store_that_cannot_answer_ends_the_hold_as_lost() -> None:
    harness = Harness({1, 2, 3}, store_fails=True)
    harness.sequencer.start(0)
    harness.offer(1, 3)
    await harness.until_delivered(3)
    assert harness.lost == [{2: None}]  # which topic it was is unknown
    assert harness.delivered == [1, 3]


async def test_start_forgets_what_was_held() -> None:
    harness = Harness({1, 2, 3, 10, 11}, lost_seconds=GUARD_SECONDS)
    harness.sequencer.start(0)
    harness.offer(3)
    harness.sequencer.start(9)  # reconnected: the outbox's newest is 9
    harness.offer(2, 10, 11)
    assert harness.delivered == [10, 11]
    assert harness.sequencer.held == 0
    harness.sequencer.stop()


async def test_a_position_nobody_committed_is_dropped_and_real_ones_still_flow() -> None:
    """A forged (or garbled) far-ahead position must not move the stream past real ones."""
    harness = Harness({1, 2, 3, 4}, lost_seconds=GUARD_SECONDS)
    harness.sequencer.start(0)
    harness.offer(10**15, 1, 2)
    while harness.sequencer.held:  # the outbox holds no 10**15: dropped
        await asyncio.sleep(0.01)
    harness.offer(3, 4)
    assert harness.delivered == [1, 2, 3, 4]
    assert harness.lost == []


async def test_a_long_gap_is_read_a_page_at_a_time(monkeypatch) -> None:
    """Unwanted positions filling a first page must not hide a wanted one further on."""
    from arcos.redis_broker import sequencer

    monkeypatch.setattr(sequencer, "GAP_PAGE", 4)
    # 2..9 committed, never published: even ones on topic0 (unwanted), odd ones on topic1.
    harness = Harness(set(range(1, 11)), wanted={"topic1"})
    harness.committed -= {3, 5, 7}  # rolled back: only 9 is wanted and missing
    harness.sequencer.start(0)
    harness.offer(1, 10)
    await harness.until_delivered(10)
    assert harness.lost == [{9: "topic1"}]
    assert harness.delivered == [1, 10]


async def test_a_store_that_hangs_ends_the_hold_as_lost() -> None:
    harness = Harness({1, 2, 3}, store_hangs=True)
    harness.sequencer.start(0)
    harness.offer(1, 3)
    await harness.until_delivered(3)
    assert harness.lost == [{2: None}]
    assert harness.delivered == [1, 3]

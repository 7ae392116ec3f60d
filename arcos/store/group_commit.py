"""Group commit: concurrent writes of one kind share a transaction, each acknowledged only
after that transaction commits.

A small write (a webhook delivery: a few rows) costs mostly what every transaction costs,
not what it writes: BEGIN, the outbox append, COMMIT and its fsync, the hops to the
database thread. Writes that arrive while one transaction is in progress wait for it
to end and are then written together, in one unit of work, by the domain's
`write_group` (which may use multi-row statements). At low load a write is alone in its
group and waits for nothing; under load each transaction carries as many writes as
arrived during the one before it (up to `max_items`).

What each writer still gets:

- its own answer, only after the commit (its future is resolved after `Writer.run`
  returned, so after the relay handed its events to the broker);
- its own failure only: `write_group` returns an exception in an item's place for a
  problem of that item alone (a refusal), and when the group as a whole fails (a unique
  index refused a row another transaction committed first, or any error) every item is
  written again in a group of its own, where the domain's `on_conflict` decides a
  conflict as it does for a single write;
- the outbox's guarantees unchanged: one unit of work appends the group's events in
  order and the relay publishes them after the commit, exactly once; a crash between
  the commit and the publication is recovered from the outbox as for any write;
- its request id on its events (arcos/request_id.py) when its group holds only its own
  request's writes; the events of a group that mixes requests carry none, since the
  domain's `write_group` does not say which event is whose.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from tortoise.exceptions import IntegrityError

from arcos.request_id import current_request_id, serving
from arcos.store.unit_of_work import UnitOfWork, Writer

logger = logging.getLogger("arcos.store")

I = TypeVar("I")  # noqa: E741 - an item, as R is a result
R = TypeVar("R")

#: Writes `items` in `unit`; returns one result per item, in order, or an exception in the
#: place of an item refused on its own (nothing of that item may have been written).
WriteGroup = Callable[[UnitOfWork, Sequence[I]], Awaitable[Sequence[R | Exception]]]
#: What a write alone in its group answers when a unique index refused its rows.
ItemConflict = Callable[[I, IntegrityError], Awaitable[R]]
#: A submitted item, its writer's future and its writer's request id.
Entry = tuple[I, asyncio.Future[R], str | None]


class _GroupFailed(Exception):
    """A group of several items failed as a whole; its items are written one by one."""


class GroupCommit(Generic[I, R]):
    """Writes submitted items in groups, one unit of work per group."""

    def __init__(
        self,
        writer: Writer,
        write_group: WriteGroup[I, R],
        *,
        on_conflict: ItemConflict[I, R] | None = None,
        max_items: int = 128,
        name: str = "group-commit",
    ) -> None:
        self.writer = writer
        self.write_group = write_group
        self.on_conflict = on_conflict
        self.max_items = max_items
        self.name = name
        self._pending: list[Entry[I, R]] = []
        self._task: asyncio.Task[None] | None = None
        #: Sizes of the groups committed so far (for tests and the benchmark).
        self.groups = 0
        self.items = 0
        #: Groups that failed as a whole and were written again item by item.
        self.fallbacks = 0

    async def submit(self, item: I) -> R:
        """Write `item` with whatever else is waiting; returns once its group committed.

        A caller that stops waiting (a client gone) does not take its item out of a group
        being written: the write goes ahead, as a single write past its last await would.
        """
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future, current_request_id()))
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name=self.name)
        return await future

    async def start(self) -> None:
        """Nothing to start: the first submission starts the writing task (an app service)."""

    async def close(self) -> None:
        """Let the groups in progress and waiting finish."""
        while self._task is not None:
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        group: list[Entry[I, R]] = []
        try:
            while self._pending:
                group = self._pending[: self.max_items]
                del self._pending[: self.max_items]
                await self._commit(group)
        finally:
            self._task = None
            # Only a drain that was stopped (cancelled) leaves items behind, in the group
            # it was writing and waiting: their writers must hear that nothing will write
            # them (the futures already answered are left as they are).
            stranded, self._pending = [*group, *self._pending], []
            for _, future, _ in stranded:
                _settle(future, error=RuntimeError(f"{self.name} stopped before writing"))

    async def _commit(self, group: list[Entry[I, R]]) -> None:
        items = [item for item, _, _ in group]
        request_ids = {request_id for _, _, request_id in group}
        try:
            with serving(request_ids.pop() if len(request_ids) == 1 else None):
                results = await self._run(items)
        except _GroupFailed:
            self.fallbacks += 1
            for entry in group:  # each alone: one item's failure is its own
                await self._commit([entry])
            return
        except BaseException as error:  # a group of one: its own failure
            _settle(group[0][1], error=error)
            if not isinstance(error, Exception):
                raise
            return
        self.groups += 1
        self.items += len(group)
        for (_, future, _), result in zip(group, results, strict=True):
            if isinstance(result, Exception):
                _settle(future, error=result)
            else:
                _settle(future, result=result)

    async def _run(self, items: list[I]) -> Sequence[R | Exception]:
        async def work(unit: UnitOfWork) -> Sequence[R | Exception]:
            results = await self.write_group(unit, items)
            if len(results) != len(items):
                raise RuntimeError(f"{self.name}: write_group answered {len(results)} of "
                                   f"{len(items)} items")
            return results

        if len(items) == 1:  # a write of its own, decided as one
            on_conflict = self.on_conflict
            item_conflict = None if on_conflict is None else (
                lambda error: _one(on_conflict(items[0], error))
            )
            return await self.writer.run(work, retries=0, on_conflict=item_conflict)

        async def group_conflict(error: IntegrityError) -> Sequence[R | Exception]:
            raise _GroupFailed from error

        try:
            return await self.writer.run(work, retries=0, on_conflict=group_conflict)
        except _GroupFailed:
            raise
        except Exception as error:
            logger.info("%s: a group of %d failed (%r); writing its items one by one",
                        self.name, len(items), error)
            raise _GroupFailed from error


async def _one(result: Awaitable[R]) -> Sequence[R | Exception]:
    return [await result]


def _settle(
    future: asyncio.Future[R], *, result: R | None = None, error: BaseException | None = None
) -> None:
    """Resolve a waiter's future unless it stopped waiting (cancelled)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]

"""One evaluation per (case, event) for every `assuranceCaseUpdated` subscriber of a case.

Subscribers of one case used to evaluate it each on every event its rules could be changed
by: ten dashboards on a case cost ten evaluations per test report. Now the first subscriber
of a case in this process starts a *watcher* for it (the idea of arcos/graphql/cohorts.py,
for one case rather than one document): it holds the broker subscriptions of the case's
projects, asks the rule index whether an event can change the case, evaluates it once and
hands the resulting update to every member. Members differ in documents, principals and
scopes — the update is the same case status for all of them; what each may see of it is
decided by its own resolver and scope check, as before.

Each member keeps its own bounded queue: one that falls more than
ARCOS_SUBSCRIBER_QUEUE_SIZE updates behind is cut off (`SubscriberTooSlow`) while the
others go on, and the watcher never waits for a member. The last member to leave stops the
watcher and gives back its broker subscriptions. A watcher that fails (its own broker queue
overflowed, the store failed) ends every member with that error; the next subscriber
starts a new one.

The request id of the event behind an evaluation (arcos/request_id.py) goes with it: the
watcher evaluates under it, and each member reads the resulting update under it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arcos.assurance import service
from arcos.assurance.affected import Change, RuleIndex
from arcos.assurance.events import case_channel
from arcos.assurance.rules import EvidenceRule, parse_rule
from arcos.assurance.service import CaseView
from arcos.assurance.status import CaseStatus, ElementState, case_status
from arcos.broker import Broker, Event, SubscriberTooSlow, channel
from arcos.community.gsn import NodeType
from arcos.evidence.events import EVIDENCE_ADDED
from arcos.intake.metrics import METRICS_UPDATED
from arcos.problems import Problem
from arcos.request_id import current_request_id, serving

#: The app-service name the watchers are registered under (arcos/registry.py).
CASE_WATCHERS = "assurance.case_watchers"

#: A case naming more projects than this in its rules listens to every project's events.
MAX_PROJECT_CHANNELS = 4


@dataclass(frozen=True)
class CaseUpdate:
    view: CaseView
    status: CaseStatus
    changed: tuple[ElementState, ...]


def case_rules(view: CaseView) -> dict[str, EvidenceRule]:
    rules = {}
    for node in view.document.elements:
        if node.type == NodeType.SOLUTION and node.rule is not None:
            problems: list[Problem] = []
            rule = parse_rule(dict(node.rule), "arcos", problems)
            if rule is not None:
                rules[node.id] = rule
    return rules


def topics(view: CaseView, rules: dict[str, EvidenceRule]) -> list[tuple[str, str]]:
    """(kind, topic) pairs: evidence and metric channels of every project the rules read."""
    projects = sorted({rule.project or view.case.project for rule in rules.values()}
                      | {view.case.project})
    if len(projects) > MAX_PROJECT_CHANNELS:
        return [("evidence", EVIDENCE_ADDED), ("metric", METRICS_UPDATED)]
    return [pair for project in projects for pair in (
        ("evidence", channel(EVIDENCE_ADDED, project=project)),
        ("metric", channel(METRICS_UPDATED, project=project)))]


async def merged(streams: Sequence[tuple[str, AsyncIterator[Event]]]
                 ) -> AsyncIterator[tuple[str, Event]]:
    """The events of several streams as they come. The hand-over holds one event, so a
    subscriber that does not keep up still overflows its broker queue (and is told). Each
    event is yielded under its request's id, which the broker set in its pump's task."""
    handover: asyncio.Queue[
        tuple[str, Event | None, BaseException | None, str | None]] = asyncio.Queue(1)

    async def pump(kind: str, stream: AsyncIterator[Event]) -> None:
        try:
            async for event in stream:
                await handover.put((kind, event, None, current_request_id()))
        except Exception as error:  # ends the subscription with the stream's own error
            await handover.put((kind, None, error, None))

    tasks = [asyncio.create_task(pump(kind, stream)) for kind, stream in streams]
    try:
        while True:
            kind, event, error, request_id = await handover.get()
            if error is not None:
                raise error
            if event is not None:
                with serving(request_id):
                    yield kind, event
    finally:
        for task in tasks:
            task.cancel()


def changes(before: CaseStatus, after: CaseStatus) -> tuple[ElementState, ...]:
    seen = {state.id: (state.status, state.evidence_ids) for state in before.elements}
    return tuple(state for state in after.elements
                 if seen.get(state.id) != (state.status, state.evidence_ids))


class _Ended:
    """The watcher stopped: the case was deleted (no error) or it failed (`error`)."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class Member:
    """One subscriber's bounded queue of updates; overflow cuts it off, not the others."""

    def __init__(self, topic: str, queue_size: int) -> None:
        self.topic = topic
        self.queue_size = queue_size
        #: Each item with the request id it was offered under (the event's).
        self.queue: asyncio.Queue[tuple[CaseUpdate | _Ended, str | None]] = asyncio.Queue(
            queue_size + 1)
        self.cut_off = False

    def offer(self, item: CaseUpdate | _Ended) -> None:
        if self.cut_off:
            return
        if isinstance(item, CaseUpdate) and self.queue.qsize() >= self.queue_size:
            self.cut_off = True
            item = _Ended(SubscriberTooSlow(self.topic, self.queue_size))
        self.queue.put_nowait((item, current_request_id()))

    async def updates(self) -> AsyncIterator[CaseUpdate]:
        while True:
            item, request_id = await self.queue.get()
            if isinstance(item, _Ended):
                if item.error is not None:
                    raise item.error
                return
            with serving(request_id):
                yield item


class CaseWatcher:
    """One case's broker subscriptions and evaluations, shared by its members."""

    def __init__(self, view: CaseView, broker: Broker, clock: Callable[[], datetime]) -> None:
        self.key = str(view.case.uid)
        self.view = view
        self.broker = broker
        self.clock = clock
        self.members: set[Member] = set()
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self._run(), name=f"case-watcher-{self.key}")

    async def _run(self) -> None:
        # The task was created inside the first member's request and copied its context:
        # without this it would log (and stamp updates) under that request's id for good.
        with serving(None):
            try:
                await self._watch()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # every member ends with the watcher's own error
                if not self.ready.done():
                    self.ready.set_exception(error)
                self._send(_Ended(error))
            else:
                self._send(_Ended())

    def _send(self, item: CaseUpdate | _Ended) -> None:
        for member in list(self.members):
            member.offer(item)

    async def _watch(self) -> None:
        """Evaluate the case on every event its rules can be changed by and on every edit;
        an edit whose rules read other projects resubscribes to theirs."""
        view = self.view
        index = RuleIndex()
        last: CaseStatus | None = None
        #: The request whose edit made the watcher resubscribe (its evaluation is its own).
        editing_request: str | None = None
        while True:
            rules = case_rules(view)
            index.set_case(self.key, view.case.project, rules)
            wanted = topics(view, rules)
            async with AsyncExitStack() as stack:
                streams = [
                    (kind, await stack.enter_async_context(self.broker.subscribe(topic)))
                    for kind, topic in [*wanted, ("edit", case_channel(self.key))]
                ]
                # Subscribed first, evaluated second: an event committed in between is
                # queued and evaluated below, not lost between the two.
                with serving(editing_request):
                    status = await case_status(view, at=None, now=self.clock())
                    if last is not None:
                        self._publish(view, last, status)
                last = status
                if not self.ready.done():
                    self.ready.set_result(None)
                events = await stack.enter_async_context(contextlib.aclosing(merged(streams)))
                async for kind, event in events:
                    if kind != "edit" and self.key not in index.affected(
                            Change.of_evidence_event(event) if kind == "evidence"
                            else Change.of_metric_event(event)):
                        continue
                    current = await service.find_case(self.key)
                    if current is None:
                        return
                    if current.version.number != view.version.number:
                        view = current
                        if topics(view, case_rules(view)) != wanted:
                            editing_request = current_request_id()
                            break  # resubscribe, then evaluate the new version
                        index.set_case(self.key, view.case.project, case_rules(view))
                    status = await self.evaluate(current)
                    self._publish(current, last, status)
                    last = status
                else:
                    return

    def _publish(self, view: CaseView, before: CaseStatus, after: CaseStatus) -> None:
        changed = changes(before, after)
        if changed:
            self._send(CaseUpdate(view, after, changed))

    async def evaluate(self, view: CaseView) -> CaseStatus:
        """The case's status now: the one evaluation an event costs, whatever the number
        of members."""
        return await case_status(view, at=None, now=self.clock())

    async def stop(self) -> None:
        """Cancel the watcher; members still reading (the app is closing) end rather than
        wait for updates that will not come."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self._send(_Ended())


class CaseWatchers:
    """The app's watchers by case id (an app service: see `case_watchers`)."""

    def __init__(self, broker: Broker, clock: Callable[[], datetime], queue_size: int) -> None:
        self.broker = broker
        self.clock = clock
        self.queue_size = queue_size
        self.watching: dict[str, CaseWatcher] = {}

    async def start(self) -> None:
        """Nothing to start: watchers start with their first member."""

    async def close(self) -> None:
        watchers, self.watching = list(self.watching.values()), {}
        for watcher in watchers:
            await watcher.stop()

    @asynccontextmanager
    async def join(self, view: CaseView) -> AsyncIterator[AsyncIterator[CaseUpdate]]:
        """The case's updates from the moment its broker subscriptions are in place."""
        key = str(view.case.uid)
        watcher = self.watching.get(key)
        if watcher is None or watcher.task.done():
            watcher = self.watching[key] = CaseWatcher(view, self.broker, self.clock)
        member = Member(f"assuranceCaseUpdated({key})", self.queue_size)
        watcher.members.add(member)
        try:
            await asyncio.shield(watcher.ready)
            yield member.updates()
        finally:
            watcher.members.discard(member)
            if not watcher.members and self.watching.get(key) is watcher:
                del self.watching[key]
                await watcher.stop()


def case_watchers(services: Any) -> CaseWatchers:
    """The assurance domain's app service, on the app's broker and writer clock (read at
    each evaluation, so a clock the writer is given later is the one used)."""
    writer = services.writer
    return CaseWatchers(services.broker, lambda: writer.clock(),
                        services.settings.subscriber_queue_size)

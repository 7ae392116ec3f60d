"""`assuranceCaseUpdated`: a case's changed elements pushed as evidence and metrics arrive.

The subscription listens to its case's projects' `evidence.added` and `metrics.updated`
channels (so other projects' events never reach it), asks the case's rule index
(arcos/assurance/affected.py) whether an event can change one of its Solutions, and only
then evaluates the case again, sending the elements whose status or deciding evidence
changed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

from arcos.assurance import service
from arcos.assurance.affected import Change, RuleIndex
from arcos.assurance.rules import EvidenceRule, parse_rule
from arcos.assurance.service import CaseView
from arcos.assurance.status import CaseStatus, ElementState, case_status
from arcos.broker import Event, channel
from arcos.community.gsn import NodeType
from arcos.evidence.events import EVIDENCE_ADDED
from arcos.graphql.context import ArcosContext
from arcos.graphql.live_events import live_events
from arcos.intake.metrics import METRICS_UPDATED
from arcos.problems import Problem

#: A case naming more projects than this in its rules listens to every project's events.
MAX_PROJECT_CHANNELS = 4


@dataclass(frozen=True)
class CaseUpdate:
    view: CaseView
    status: CaseStatus
    changed: tuple[ElementState, ...]


def _rules(view: CaseView) -> dict[str, EvidenceRule]:
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
    subscriber that does not keep up still overflows its broker queue (and is told)."""
    handover: asyncio.Queue[tuple[str, Event | None, BaseException | None]] = asyncio.Queue(1)

    async def pump(kind: str, stream: AsyncIterator[Event]) -> None:
        try:
            async for event in stream:
                await handover.put((kind, event, None))
        except Exception as error:  # ends the subscription with the stream's own error
            await handover.put((kind, None, error))

    tasks = [asyncio.create_task(pump(kind, stream)) for kind, stream in streams]
    try:
        while True:
            kind, event, error = await handover.get()
            if error is not None:
                raise error
            if event is not None:
                yield kind, event
    finally:
        for task in tasks:
            task.cancel()


def _changes(before: CaseStatus, after: CaseStatus) -> tuple[ElementState, ...]:
    seen = {state.id: (state.status, state.evidence_ids) for state in before.elements}
    return tuple(state for state in after.elements
                 if seen.get(state.id) != (state.status, state.evidence_ids))


async def case_updates(context: ArcosContext, view: CaseView) -> AsyncIterator[CaseUpdate]:
    """Each change of the case's status that an arriving event causes."""
    case_key = str(view.case.uid)
    rules = _rules(view)
    index = RuleIndex()
    index.set_case(case_key, view.case.project, rules)
    last = await case_status(view, at=None, now=context.writer.clock())
    async with AsyncExitStack() as stack:
        streams = [(kind, await stack.enter_async_context(live_events(context, topic)))
                   for kind, topic in topics(view, rules)]
        async for kind, event in merged(streams):
            change = (Change.of_evidence_event(event) if kind == "evidence"
                      else Change.of_metric_event(event))
            if case_key not in index.affected(change):
                continue
            context.next_event()
            current = await service.find_case(case_key)
            if current is None:
                return
            if current.version.number != view.version.number:
                view = current
                index.set_case(case_key, view.case.project, _rules(view))
            status = await case_status(current, at=None, now=context.writer.clock())
            changed = _changes(last, status)
            last = status
            if changed:
                yield CaseUpdate(current, status, changed)



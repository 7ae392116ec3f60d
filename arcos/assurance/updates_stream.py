"""`assuranceCaseUpdated`: a case's changed elements pushed as evidence and metrics arrive.

Each subscriber joins its case's watcher (arcos/assurance/case_watchers.py, one per case
for all its subscribers in this process), which listens to the case's projects'
`evidence.added` and `metrics.updated` channels (so other projects' events never reach
it), asks the case's rule index (arcos/assurance/affected.py) whether an event can change
one of its Solutions, and only then evaluates the case again, once, sending every member
the elements whose status or deciding evidence changed."""

from __future__ import annotations

from collections.abc import AsyncIterator

from arcos.assurance.case_watchers import CASE_WATCHERS, CaseUpdate, CaseWatchers
from arcos.assurance.service import CaseView
from arcos.auth.live import while_token_valid
from arcos.auth.principal_cache import PRINCIPAL_CACHE
from arcos.graphql.context import ArcosContext
from arcos.graphql.live_events import claim_place, coded_broker_failures


async def case_updates(context: ArcosContext, view: CaseView) -> AsyncIterator[CaseUpdate]:
    """Each change of the case's status that an arriving event causes, from the case's
    shared watcher. The subscriber keeps what is its own: a place in its principal's
    subscription count, the end of its stream when its token is revoked, its queue."""
    watchers: CaseWatchers = context.service(CASE_WATCHERS)
    claim = claim_place(context)
    try:
        with coded_broker_failures():
            async with watchers.join(view) as updates:
                async for update in while_token_valid(
                        updates, context.caller, context.settings.auth_recheck_seconds,
                        context.domain_services.get(PRINCIPAL_CACHE)):
                    context.next_event()
                    yield update
    finally:
        if claim is not None:
            claim.release()

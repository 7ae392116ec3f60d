"""Threat intelligence root fields: share and list threats, import and export STIX 2.1
bundles, and hear when a threat meets a project's SBOM."""

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AsyncExitStack
from typing import Annotated, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info
from tortoise.models import Model
from tortoise.queryset import QuerySet

from arcos.auth.permissions import requires
from arcos.broker import Event, channel
from arcos.community.scopes import COMMUNITY_READ, COMMUNITY_WRITE
from arcos.community.sharing_types import ItemId, parse_item_id
from arcos.community.stix_export import MAX_EXPORT_OBJECTS, export_bundle
from arcos.community.stix_import import import_bundle
from arcos.community.threat_matching import Match, threats_matching_sbom
from arcos.community.threat_sharing import ThreatDraft, share_threat, update_threat
from arcos.community.threats_access import (
    bodies_for,
    may_read_intel,
    readable_intel,
    readable_stix_objects,
)
from arcos.community.threats_events import SHARE, threat_channel
from arcos.community.threats_input import ThreatFields
from arcos.community.threats_models import Severity, StixObject, Threat, ThreatKind
from arcos.community.threats_tlp import Tlp
from arcos.community.threats_types import (
    ImportStixBundlePayload,
    ShareThreatPayload,
    StixObjectConnection,
    StixObjectEdge,
    StixObjectType,
    ThreatConnection,
    ThreatEdge,
    ThreatMatchedEvent,
    ThreatMatchType,
    ThreatType,
    UpdateThreatPayload,
)
from arcos.evidence.drafts import MAX_SLUG_LENGTH
from arcos.evidence.events import EVIDENCE_ADDED
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import user_errors
from arcos.graphql.live_events import live_events
from arcos.graphql.metadata import MAX_LENGTH
from arcos.graphql.pagination import PageRequest
from arcos.problems import ArcosError, ErrorCode, Refused

READ = [requires(COMMUNITY_READ)]
WRITE = [requires(COMMUNITY_WRITE)]
CURSOR = "threat"
STIX_CURSOR = "stix-object"


@strawberry.input(description="An affected package and range (see AffectedComponent).")
class AffectedComponentInput:
    package: str = strawberry.field(metadata={MAX_LENGTH: 512})
    versions: str = strawberry.field(default="*", metadata={MAX_LENGTH: 300})


@strawberry.input(description="A threat to share. TLP decides who reads it.")
class ShareThreatInput:
    title: str = strawberry.field(metadata={MAX_LENGTH: 200})
    kind: ThreatKind
    severity: Severity
    description: str = strawberry.field(default="", metadata={MAX_LENGTH: 20_000})
    indicators: list[str] = strawberry.field(default_factory=list, description="STIX 2.1 "
                                             "patterns, e.g. [file:hashes.'SHA-256' = '…'].")
    mitigations: list[str] = strawberry.field(default_factory=list)
    affected_components: list[AffectedComponentInput] = strawberry.field(default_factory=list)
    tlp: Tlp = Tlp.AMBER
    recipients: list[str] = strawberry.field(default_factory=list, description="Principal "
                                             "names an AMBER or RED threat is shared with.")
    anonymize: bool = False

    def to_draft(self) -> ThreatDraft:
        return ThreatDraft(kind=self.kind, fields=_fields(self), anonymize=self.anonymize)


@strawberry.input(description="Changes to a threat you shared; fields left out stay. Its "
                  "kind stays too: it is the STIX type its id carries (withdraw it and share "
                  "it again to change it), and so does whether it is anonymised.")
class UpdateThreatInput:
    title: str | None = strawberry.field(default=None, metadata={MAX_LENGTH: 200})
    severity: Severity | None = None
    description: str | None = strawberry.field(default=None, metadata={MAX_LENGTH: 20_000})
    indicators: list[str] | None = strawberry.field(default=None, description="STIX 2.1 "
                                                    "patterns; replaces them all.")
    mitigations: list[str] | None = strawberry.field(default=None, description="Replaces "
                                                     "them all.")
    affected_components: list[AffectedComponentInput] | None = strawberry.field(
        default=None, description="Replaces them all; matching follows at once.")
    tlp: Tlp | None = strawberry.field(default=None, description="Readers who lose "
                                       "clearance stop seeing it at once. A level that names "
                                       "nobody (CLEAR, GREEN, AMBER_STRICT) drops the named "
                                       "recipients.")
    recipients: list[str] | None = strawberry.field(default=None, description="Replaces "
                                                    "the principal names it is shared with "
                                                    "(AMBER and RED only).")


def _fields(given: ShareThreatInput | UpdateThreatInput) -> ThreatFields:
    """The fields an input sets (None where an update leaves one out)."""

    def copied(values: list[str] | None) -> list[str] | None:
        return None if values is None else list(values)

    components = given.affected_components
    return ThreatFields(
        title=given.title, severity=given.severity, description=given.description,
        tlp=given.tlp, indicators=copied(given.indicators),
        mitigations=copied(given.mitigations), recipients=copied(given.recipients),
        components=None if components is None
        else [(c.package, c.versions) for c in components])


Row = TypeVar("Row", bound=Model)


async def _newest_first(query: QuerySet[Row], request: PageRequest) -> tuple[int, list[Row]]:
    """How many rows `query` holds, and the page's rows newest first (one more than asked,
    to tell whether another page follows)."""
    page = query.filter(id__lt=request.position) if request.position is not None else query
    return await query.count(), list(await page.order_by("-id").limit(request.first + 1))


@strawberry.type
class ThreatQueries:
    @strawberry.field(description="Threats you may read (TLP clearance), newest first.",
                      permission_classes=READ)
    async def threats(
        self, info: Info[ArcosContext, None], kind: ThreatKind | None = None,
        severity: Severity | None = None, tlp: Tlp | None = None, first: int = 50,
        after: str | None = None,
    ) -> ThreatConnection:
        request = PageRequest.of(CURSOR, first, after, info.context.settings.max_page_size)
        query = Threat.filter(readable_intel(info.context.caller))
        for name, value in (("kind", kind), ("severity", severity), ("tlp", tlp)):
            if value is not None:
                query = query.filter(**{name: value})
        total, rows = await _newest_first(query, request)
        page = request.by_key(rows[:first], len(rows) > first)
        return ThreatConnection(edges=page.edges(ThreatEdge, ThreatType.from_model),
                                page_info=page.info, total_count=total)

    @strawberry.field(description="Imported STIX objects you may read (relationships only "
                      "when you may read both ends), newest first.", permission_classes=READ)
    async def stix_objects(
        self, info: Info[ArcosContext, None],
        type: Annotated[str | None, strawberry.argument(metadata={MAX_LENGTH: 250})] = None,
        tlp: Tlp | None = None, first: int = 50, after: str | None = None,
    ) -> StixObjectConnection:
        request = PageRequest.of(STIX_CURSOR, first, after, info.context.settings.max_page_size)
        caller = info.context.caller
        query = StixObject.filter(readable_stix_objects(caller))
        if type is not None:
            query = query.filter(stix_type=type)
        if tlp is not None:
            query = query.filter(tlp=tlp)
        total, rows = await _newest_first(query, request)
        page = request.by_key(rows[:first], len(rows) > first)
        bodies = dict(zip([row.id for row in page.rows], await bodies_for(page.rows, caller),
                          strict=True))

        def node(row: StixObject) -> StixObjectType:
            return StixObjectType.from_model(row, bodies[row.id])

        return StixObjectConnection(edges=page.edges(StixObjectEdge, node), page_info=page.info,
                                    total_count=total)

    @strawberry.field(description="A STIX 2.1 bundle of what you may read: the TLP 2.0 "
                      "marking definitions, shared threats, imported objects, and the "
                      "relationships whose both ends you may read.", permission_classes=READ)
    async def stix_bundle(self, info: Info[ArcosContext, None],
                          first: int = MAX_EXPORT_OBJECTS) -> JSON:
        if not 1 <= first <= MAX_EXPORT_OBJECTS:
            raise ArcosError(f"first must be 1-{MAX_EXPORT_OBJECTS}", ErrorCode.BAD_USER_INPUT)
        return await export_bundle(info.context.caller, first)


@strawberry.type
class ThreatMutations:
    @strawberry.mutation(description="Share a threat; its TLP level decides who reads it.",
                         permission_classes=WRITE)
    async def share_threat(self, info: Info[ArcosContext, None], input: ShareThreatInput
                           ) -> ShareThreatPayload:
        context = info.context
        try:
            row = await share_threat(input.to_draft(), context.caller, context.write_context())
        except Refused as refused:
            return ShareThreatPayload(threat=None, errors=user_errors(refused))
        return ShareThreatPayload(threat=ThreatType.from_model(row), errors=[])

    @strawberry.mutation(description="Edit a threat you shared (admins: any); fields left "
                         "out stay. Exports carry it as a newer STIX version.",
                         permission_classes=WRITE)
    async def update_threat(self, info: Info[ArcosContext, None], id: ItemId,
                            input: UpdateThreatInput) -> UpdateThreatPayload:
        context = info.context
        try:
            row = await update_threat(parse_item_id(id, "Threat"), _fields(input),
                                      context.caller, context.write_context())
        except Refused as refused:
            return UpdateThreatPayload(threat=None, errors=user_errors(refused))
        return UpdateThreatPayload(threat=ThreatType.from_model(row), errors=[])

    @strawberry.mutation(description="Import a STIX 2.1 bundle: every object kept (unknown "
                         "types and custom properties too), each version once.",
                         permission_classes=WRITE)
    async def import_stix_bundle(
        self, info: Info[ArcosContext, None], bundle: JSON,
        recipients: list[str] | None = None,
    ) -> ImportStixBundlePayload:
        context = info.context
        try:
            done = await import_bundle(bundle, list(recipients or []), context.caller,
                                       context.write_context())
        except Refused as refused:
            return ImportStixBundlePayload(import_id=None, total=0, imported=0, known=0,
                                           errors=user_errors(refused))
        return ImportStixBundlePayload(import_id=str(done.record.uid), total=done.total,
                                       imported=done.new, known=done.known, errors=[])


def _matched(threat: Threat, matches: list[Match], cause: str) -> ThreatMatchedEvent:
    return ThreatMatchedEvent(threat=ThreatType.from_model(threat),
                              matches=[ThreatMatchType.of(m) for m in matches], cause=cause)


async def _merged(*sources: AsyncIterator[Event]) -> AsyncIterator[tuple[int, Event]]:
    """Events of several subscriptions as they come, tagged with their source's index."""
    queue: asyncio.Queue[tuple[int, Event] | BaseException] = asyncio.Queue(maxsize=1)

    async def pump(index: int, source: AsyncIterator[Event]) -> None:
        try:
            async for event in source:
                await queue.put((index, event))
        except BaseException as error:  # an ended or failed source ends the merge
            await queue.put(error)
            return
        await queue.put(StopAsyncIteration())

    tasks = [asyncio.create_task(pump(i, s)) for i, s in enumerate(sources)]
    try:
        while True:
            item = await queue.get()
            if isinstance(item, StopAsyncIteration):
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        for task in tasks:
            task.cancel()


@strawberry.type
class ThreatSubscriptions:
    @strawberry.subscription(description="A threat you may read meets the project's latest "
                             "SBOM: when it is shared or edited, or when a new SBOM of the "
                             "project lists an affected component. Needs evidence:read too.",
                             permission_classes=READ)
    async def threat_matched(
        self, info: Info[ArcosContext, None],
        project: Annotated[str, strawberry.argument(metadata={MAX_LENGTH: MAX_SLUG_LENGTH})],
    ) -> AsyncGenerator[ThreatMatchedEvent, None]:
        context = info.context
        caller = context.caller
        if not caller.may(EVIDENCE_READ):
            raise ArcosError("threatMatched reads a project's SBOM: it needs evidence:read "
                             "besides community:read", ErrorCode.FORBIDDEN)
        slug = project.strip().lower()
        async with AsyncExitStack() as stack:
            # Only threats meeting this project's SBOM arrive here, with their matches
            # (found once, by the writer); the threat is loaded to check the caller may
            # read it, as it is now.
            threats = await stack.enter_async_context(live_events(context, threat_channel(slug)))
            sboms = await stack.enter_async_context(live_events(
                context, channel(EVIDENCE_ADDED, project=slug, type="sbom")))
            async for index, event in _merged(threats, sboms):
                context.next_event()
                if index == 0:
                    found_here = event.get("matches", {}).get(slug, ())
                    matches = [Match(slug, *match) for match in found_here]
                    if not matches:
                        continue
                    threat = await Threat.get_or_none(uid=uuid.UUID(event["uid"]))
                    if threat is None or not await may_read_intel(threat, caller):
                        continue
                    yield _matched(threat, matches, event.get("cause", SHARE))
                    continue
                found = await threats_matching_sbom(uuid.UUID(event["uid"]), caller)
                for threat, matches in found:
                    yield _matched(threat, matches, "sbom")


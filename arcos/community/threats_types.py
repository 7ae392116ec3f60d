"""GraphQL shapes of threat intelligence: a shared threat (a relay node whose lookups read
through the reader's TLP clearance), its affected components and matched projects."""

import uuid
from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from arcos.community import sharing_types  # noqa: F401 - registers CommunityVisibility
from arcos.community.sharing import Visibility, may_change
from arcos.community.sharing_types import CommunityAuthor, author_of
from arcos.community.threat_matching import Match, affected_projects
from arcos.community.threats_access import bodies_for, readable_intel, readable_stix_objects
from arcos.community.threats_models import (
    Severity,
    StixObject,
    Threat,
    ThreatKind,
    ThreatRecipient,
)
from arcos.community.threats_tlp import Tlp
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import UserError

strawberry.enum(Tlp, name="Tlp", description="A TLP 2.0 level. CLEAR: public; GREEN: the "
                "community (authenticated members); AMBER, AMBER_STRICT, RED: the sharer and "
                "admins, and for AMBER and RED the recipients the sharer names.")
strawberry.enum(ThreatKind, name="ThreatKind", description="The STIX domain object a threat "
                "exports as.")
strawberry.enum(Severity, name="ThreatSeverity")


@strawberry.type(name="AffectedComponent", description="A package (purl without version, "
                 "or CPE 2.3 name) and the versions affected (`*`, or comparisons such as "
                 "`>=2.0,<2.31.0`).")
class AffectedComponentType:
    package: str
    versions: str


@strawberry.type(name="ThreatMatch", description="A project whose latest SBOM lists an "
                 "affected component at a version in range.")
class ThreatMatchType:
    project: str
    package: str = strawberry.field(description="The threat's affected package.")
    component: str = strawberry.field(description="The SBOM component's name.")
    version: str | None

    @classmethod
    def of(cls, match: Match) -> "ThreatMatchType":
        return cls(project=match.project, package=match.package, component=match.component,
                   version=match.version)


@strawberry.type(name="Threat", description="Threat intelligence shared through ARCOS, "
                 "visible as its TLP level allows.")
class ThreatType(relay.Node):
    uid: relay.NodeID[str]
    title: str
    kind: ThreatKind
    severity: Severity
    description: str
    indicators: list[str] = strawberry.field(description="STIX 2.1 patterns.")
    mitigations: list[str]
    affected_components: list[AffectedComponentType]
    tlp: Tlp
    visibility: Visibility
    anonymized: bool
    hidden: bool
    stix_id: str = strawberry.field(description="The id of its STIX domain object in "
                                    "exported bundles.")
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[Threat]

    @classmethod
    def from_model(cls, row: Threat) -> "ThreatType":
        return cls(
            uid=str(row.uid), title=row.title, kind=ThreatKind(row.kind),
            severity=Severity(row.severity), description=row.description,
            indicators=list(row.indicators), mitigations=list(row.mitigations),
            affected_components=[AffectedComponentType(package=c["package"],
                                                       versions=c["versions"])
                                 for c in row.affected_components],
            tlp=Tlp(row.tlp), visibility=Visibility(row.visibility), anonymized=row.anonymized,
            hidden=row.hidden, stix_id=row.stix_id,
            created_at=row.created_at, updated_at=row.updated_at, row=row,
        )

    @strawberry.field(description="The sharer's principal name; null when it was shared "
                      "anonymised (admins still see it).")
    async def author(self, info: Info[ArcosContext, None]) -> CommunityAuthor | None:
        return await author_of(self.row, info)

    @strawberry.field(description="The principals an AMBER or RED threat is shared with by "
                      "name; shown to its sharer and admins only (empty for others).")
    async def recipients(self, info: Info[ArcosContext, None]) -> list[str]:
        if not may_change(self.row, info.context.caller):
            return []
        return sorted(await ThreatRecipient.filter(grant=self.row.grant)
                      .values_list("principal", flat=True))

    @strawberry.field(description="Projects whose latest SBOM lists an affected component at "
                      "a version in range; empty unless you may also read evidence "
                      "(evidence:read).")
    async def affected_projects(self, info: Info[ArcosContext, None]) -> list[ThreatMatchType]:
        if not info.context.caller.may(EVIDENCE_READ):
            return []
        return [ThreatMatchType.of(match) for match in await affected_projects(self.row)]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> "list[ThreatType | None]":
        ids = list(node_ids)
        wanted = [i for i in ids if _is_uuid(i)]
        rows = {str(row.uid): row for row in await Threat.filter(
            readable_intel(info.context.caller), uid__in=wanted)} if wanted else {}
        return [cls.from_model(rows[i]) if i in rows else None for i in ids]


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@strawberry.type(name="ThreatEdge")
class ThreatEdge:
    cursor: str
    node: ThreatType


@strawberry.type(name="ThreatConnection", description="One page of threats you may read.")
class ThreatConnection:
    edges: list[ThreatEdge]
    page_info: relay.PageInfo
    total_count: int = strawberry.field(description="Threats you may read matching the "
                                        "filters, across all pages.")

    @strawberry.field
    def nodes(self) -> list[ThreatType]:
        return [edge.node for edge in self.edges]


@strawberry.type
class ShareThreatPayload:
    threat: ThreatType | None
    errors: list[UserError]


@strawberry.type(description="The edited threat, or why nothing was changed.")
class UpdateThreatPayload(ShareThreatPayload):
    pass


@strawberry.type
class ImportStixBundlePayload:
    import_id: str | None = strawberry.field(description="The import's id.")
    total: int = strawberry.field(description="Objects in the bundle (TLP marking "
                                  "definitions aside: ARCOS exports the official ones).")
    imported: int = strawberry.field(description="Object versions stored by this import.")
    known: int = strawberry.field(description="Object versions already stored (a re-import "
                                  "adds nothing).")
    errors: list[UserError]


@strawberry.type(name="ThreatMatched", description="A threat and a project it affects, as a "
                 "new threat or a new SBOM made them meet.")
class ThreatMatchedEvent:
    threat: ThreatType
    matches: list[ThreatMatchType]
    cause: str = strawberry.field(description="`threat` (a new threat), `edit` (a threat "
                                  "edited) or `sbom` (a new SBOM).")


@strawberry.type(name="StixObject", description="One version of an imported STIX object, "
                 "kept exactly as sent; visible as its TLP marking allows (unmarked: AMBER).")
class StixObjectType(relay.Node):
    uid: relay.NodeID[str]
    stix_id: str
    type: str
    modified: str = strawberry.field(description="Its `modified` (or `created`; empty for "
                                     "objects with neither).")
    tlp: Tlp
    visibility: Visibility
    hidden: bool
    body: JSON = strawberry.field(description="The object as imported, less any reference "
                                 "to an object above your clearance.")
    created_at: datetime
    row: strawberry.Private[StixObject]

    @classmethod
    def from_model(cls, row: StixObject, body: dict[str, object]) -> "StixObjectType":
        """`body` is the row's body as the reader may see it (`bodies_for`)."""
        return cls(uid=str(row.uid), stix_id=row.stix_id, type=row.stix_type,
                   modified=row.modified, tlp=Tlp(row.tlp),
                   visibility=Visibility(row.visibility), hidden=row.hidden, body=body,
                   created_at=row.created_at, row=row)

    @strawberry.field(description="Who imported it.")
    async def author(self, info: Info[ArcosContext, None]) -> CommunityAuthor | None:
        return await author_of(self.row, info)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> "list[StixObjectType | None]":
        ids = list(node_ids)
        wanted = [i for i in ids if _is_uuid(i)]
        caller = info.context.caller
        found = await StixObject.filter(readable_stix_objects(caller), uid__in=wanted) \
            if wanted else []
        bodies = await bodies_for(found, caller)
        rows = {str(row.uid): cls.from_model(row, body) for row, body in zip(found, bodies,
                                                                              strict=True)}
        return [rows.get(i) for i in ids]


@strawberry.type(name="StixObjectEdge")
class StixObjectEdge:
    cursor: str
    node: StixObjectType


@strawberry.type(name="StixObjectConnection", description="One page of imported STIX "
                 "objects you may read.")
class StixObjectConnection:
    edges: list[StixObjectEdge]
    page_info: relay.PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[StixObjectType]:
        return [edge.node for edge in self.edges]


NODES = (ThreatType, StixObjectType)

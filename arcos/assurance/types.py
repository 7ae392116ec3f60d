"""GraphQL types of assurance cases: the case, its elements, versions, violations and
exports."""

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from arcos.assurance import service
from arcos.assurance.case_snapshots import StoredSnapshot
from arcos.assurance.case_watchers import CaseUpdate
from arcos.assurance.document import to_json, to_yaml
from arcos.assurance.dot import to_dot
from arcos.assurance.evaluation import ElementStatus
from arcos.assurance.models import AssuranceCaseVersion
from arcos.assurance.service import CaseView, Validation, Wellformedness
from arcos.assurance.status import CaseStatus, case_status
from arcos.assurance.svg import to_svg
from arcos.auth.permissions import requires
from arcos.community.gsn import Node, NodeType, Severity, Violation
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import UserError
from arcos.web.preencoded import dumps

#: A case's elements, status, exports and history, and a snapshot's body, show evidence
#: (deciding ids, predicate reasons naming data values) and other callers' arguments: a token
#: with evidence:write alone gets the case's id, version and validation from a mutation's
#: payload, like submitEvidence's writers who may not read the evidence back.
READ = [requires(EVIDENCE_READ)]

strawberry.enum(Wellformedness, name="CaseWellformedness",
                description="WELL_FORMED; INCOMPLETE (unsupported or undeveloped goals or "
                "strategies: open items); ILL_FORMED (breaks a hard rule: never stored).")
strawberry.enum(Severity, name="GsnSeverity", description="ERROR refuses a case, INCOMPLETE "
                "leaves it open, WARNING is advice.")


strawberry.enum(ElementStatus, name="AssuranceStatus", description="SUPPORTED (the evidence "
                "meets the rule), FAILING (it does not), MISSING (no evidence), STALE (older "
                "than the rule's max_age_days), OPEN (a goal or strategy with missing, stale, "
                "open or undeveloped support).")


class CaseFormat(StrEnum):
    JSON = "json"
    YAML = "yaml"
    DOT = "dot"
    SVG = "svg"


strawberry.enum(CaseFormat, name="CaseFormat", description="JSON (the case's JSON form), "
                "YAML (gsn2x), DOT (Graphviz) or SVG (a diagram with GSN shapes).")
MEDIA_TYPES = {CaseFormat.JSON: "application/json", CaseFormat.YAML: "application/yaml",
               CaseFormat.DOT: "text/vnd.graphviz", CaseFormat.SVG: "image/svg+xml"}


@strawberry.type(name="GsnViolation", description="One broken well-formedness rule, like a "
                 "compiler error: the rule, how much it weighs, the elements at fault.")
class ViolationType:
    rule: int = strawberry.field(description="1 one root goal, 2 reachable, 3 acyclic, 4 "
                                 "allowed relations, 5 developed, 6 references resolve, 8 "
                                 "advice.")
    severity: Severity
    elements: list[str]
    field: str
    message: str
    text: str = strawberry.field(description="The whole violation on one line.")

    @classmethod
    def of(cls, violation: Violation) -> "ViolationType":
        return cls(rule=violation.rule, severity=violation.severity,
                   elements=list(violation.elements), field=violation.problem.field or "",
                   message=violation.problem.message, text=violation.text)


@strawberry.type(name="CaseValidation", description="What checking a case found.")
class CaseValidationType:
    wellformedness: Wellformedness
    violations: list[ViolationType]
    open_items: list[str] = strawberry.field(description="Undeveloped goals and strategies.")

    @classmethod
    def of(cls, validation: Validation) -> "CaseValidationType":
        return cls(wellformedness=validation.wellformedness,
                   violations=[ViolationType.of(v) for v in validation.checked.violations],
                   open_items=list(validation.checked.open_items))


@strawberry.type(name="AssuranceCaseElement", description="One GSN element of a case.")
class ElementType:
    id: str
    kind: NodeType
    text: str
    supported_by: list[str]
    in_context_of: list[str]
    undeveloped: bool
    public: bool = strawberry.field(description="A goal other cases may refer to as an away "
                                    "goal.")
    module: str | None = strawberry.field(description="For away goals: the case it is "
                                          "developed in.")
    rule: JSON | None = strawberry.field(description="For solutions: the evidence rule (the "
                                         "arcos: block).")

    @classmethod
    def of(cls, node: Node) -> "ElementType":
        return cls(id=node.id, kind=node.type, text=node.text,
                   supported_by=list(node.supported_by), in_context_of=list(node.in_context_of),
                   undeveloped=node.undeveloped, public=node.public, module=node.module,
                   rule=dict(node.rule) if node.rule is not None else None)


@strawberry.type(name="AssuranceCaseVersion", description="One stored version of a case.")
class VersionType:
    number: int
    title: str
    wellformedness: Wellformedness
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, row: AssuranceCaseVersion) -> "VersionType":
        return cls(number=row.number, title=row.title,
                   wellformedness=Wellformedness(row.wellformedness),
                   created_by=row.created_by, created_at=row.created_at)


@strawberry.type(name="AssuranceCaseExport", description="A case in one interchange form.")
class ExportType:
    format: CaseFormat
    media_type: str
    content: str


def export(view: CaseView, chosen: CaseFormat, plain: bool,
           statuses: dict[str, str] | None = None) -> ExportType:
    """The case (this version) as JSON, gsn2x YAML, DOT or SVG (the diagrams filled in
    `statuses`' colours)."""
    document = view.document
    if chosen == CaseFormat.JSON:
        content = dumps(to_json(document, plain))
    elif chosen == CaseFormat.YAML:
        content = to_yaml(document, plain, brief=f"ARCOS assurance case {view.case.uid} "
                          f"version {view.version.number}")
    elif chosen == CaseFormat.DOT:
        content = to_dot(document, statuses)
    else:
        content = to_svg(document, statuses)
    return ExportType(format=chosen, media_type=MEDIA_TYPES[chosen], content=content)


@strawberry.type(name="AssuranceElementStatus", description="One element's live status and "
                 "the evidence that decided it.")
class ElementStatusType:
    id: str
    kind: NodeType
    status: ElementStatus
    evidence_ids: list[str] = strawberry.field(description="The evidence items (uuids) that "
                                               "decided it.")
    reason: str


@strawberry.type(name="AssuranceStatusCount")
class StatusCountType:
    status: ElementStatus
    count: int


@strawberry.type(name="AssuranceCaseStatus", description="A case's live status: every "
                 "goal, strategy, solution and away goal (contextual elements carry none).")
class CaseStatusType:
    status: ElementStatus = strawberry.field(description="The root goal's status.")
    version: int = strawberry.field(description="The case version evaluated (0: the case "
                                    "did not exist at that moment).")
    at: datetime = strawberry.field(description="The moment evaluated.")
    counts: list[StatusCountType]
    open_items: list[str] = strawberry.field(description="Elements not SUPPORTED, in order.")
    elements: list[ElementStatusType]

    @classmethod
    def of(cls, status: CaseStatus, at: datetime) -> "CaseStatusType":
        return cls(status=status.status, version=status.version, at=at,
                   counts=[StatusCountType(status=s, count=status.counts.get(s, 0))
                           for s in ElementStatus],
                   open_items=list(status.open_items),
                   elements=[ElementStatusType(id=e.id, kind=e.kind, status=e.status,
                                               evidence_ids=[str(i) for i in e.evidence_ids],
                                               reason=e.reason) for e in status.elements])


async def status_of(view: CaseView, at: datetime | None, now: datetime) -> CaseStatusType:
    """The case's status now, or as it was at `at`."""
    return CaseStatusType.of(await case_status(view, at=at, now=now), at or now)


@strawberry.type(name="AssuranceCase", description="A GSN argument about a project whose "
                 "solutions bind to evidence by rules; every edit is a new version.")
class CaseType(relay.Node):
    uid: relay.NodeID[str]
    case_id: str = strawberry.field(description="The case id REST paths and away goals "
                                    "(module:) use.")
    project: str
    title: str
    version: int = strawberry.field(description="The number of the version shown.")
    latest_version: int
    wellformedness: Wellformedness
    created_by: str
    created_at: datetime
    updated_at: datetime
    elements: list[ElementType] = strawberry.field(
        permission_classes=READ, description="The elements of this version (evidence:read).")
    validation: CaseValidationType
    view: strawberry.Private[CaseView]

    @classmethod
    def of(cls, view: CaseView) -> "CaseType":
        case = view.case
        return cls(uid=str(case.uid), case_id=str(case.uid), project=case.project,
                   title=view.version.title,
                   version=view.version.number, latest_version=case.version,
                   wellformedness=view.validation.wellformedness, created_by=case.created_by,
                   created_at=case.created_at, updated_at=case.updated_at,
                   elements=[ElementType.of(node) for node in view.document.elements],
                   validation=CaseValidationType.of(view.validation), view=view)

    @strawberry.field(description="The live status: each solution's evidence rule evaluated "
                      "now, goals and strategies aggregated (evidence:read).",
                      permission_classes=READ)
    async def status(self, info: Info[ArcosContext, None]) -> CaseStatusType:
        return await status_of(self.view, None, info.context.writer.clock())

    @strawberry.field(description="Every version, oldest first (evidence:read).",
                      permission_classes=READ)
    async def versions(self) -> list[VersionType]:
        return [VersionType.of(row) for row in await service.versions_of(self.view.case)]

    @strawberry.field(description="This version as JSON, gsn2x YAML (plain: without the "
                      "arcos: rules), Graphviz DOT or an SVG diagram (both filled in each "
                      "element's live status colour; evidence:read).",
                      permission_classes=READ)
    async def export(self, info: Info[ArcosContext, None], format: CaseFormat = CaseFormat.JSON,
                     plain: bool = False) -> ExportType:
        statuses = None
        if format in (CaseFormat.DOT, CaseFormat.SVG):  # diagrams show the live status
            live = await case_status(self.view, at=None, now=info.context.writer.clock())
            statuses = {element.id: element.status.value for element in live.elements}
        return export(self.view, format, plain, statuses)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> "list[CaseType | None]":
        found = [await service.find_case(node_id) for node_id in node_ids]
        return [None if view is None else cls.of(view) for view in found]


@strawberry.type(name="AssuranceCasePayload")
class CasePayload:
    case: CaseType | None
    errors: list[UserError]


@strawberry.type(name="AssuranceSnapshot", description="A case frozen with every element's "
                 "status and a seal of each evidence item it relied on, chained to the case's "
                 "previous snapshot and signed with the server key.")
class SnapshotType:
    hash: str = strawberry.field(description="SHA-256 of the canonical body.")
    previous: str | None = strawberry.field(description="The previous snapshot's hash.")
    number: int = strawberry.field(description="1, 2, … per case.")
    case_id: str
    version: int
    signature: str
    key_id: str
    taken_at: datetime
    body: JSON = strawberry.field(description="What the hash and signature cover: every "
                                  "element's status and reason (evidence:read).",
                                  permission_classes=READ)

    @classmethod
    def of(cls, stored: StoredSnapshot) -> "SnapshotType":
        taken, row = stored.snapshot, stored.row
        case = taken.body["case"]
        return cls(hash=taken.hash, previous=taken.previous, number=row.number,
                   case_id=str(case["id"]), version=int(case["version"]),
                   signature=taken.signature, key_id=taken.key_id, taken_at=row.created_at,
                   body=taken.to_json()["body"])


@strawberry.type(name="SnapshotVerification", description="Whether a snapshot still matches "
                 "the store: each problem names what changed since.")
class VerificationType:
    valid: bool
    problems: list[str]
    snapshot: SnapshotType


@strawberry.type(name="SnapshotCasePayload")
class SnapshotPayload:
    snapshot: SnapshotType | None
    errors: list[UserError]


@strawberry.type(name="AssuranceCaseUpdate", description="Elements of a case whose status or "
                 "deciding evidence changed when evidence or metrics arrived.")
class CaseUpdateType:
    case_id: str
    version: int
    status: ElementStatus = strawberry.field(description="The root goal's status now.")
    changed: list[ElementStatusType]
    open_items: list[str]

    @classmethod
    def of(cls, update: CaseUpdate) -> "CaseUpdateType":
        shown = CaseStatusType.of(update.status, update.view.case.updated_at)
        changed = {state.id for state in update.changed}
        return cls(case_id=str(update.view.case.uid), version=update.status.version,
                   status=update.status.status,
                   changed=[e for e in shown.elements if e.id in changed],
                   open_items=list(update.status.open_items))

"""GraphQL types of industry and compliance templates and of a project's compliance status.

Built-in templates and custom ones are the same types: a built-in's global id carries its
key (`healthcare`), a custom one's its uid, and `builtIn` tells them apart. `node(id)`
answers a custom template only to those who may read it.
"""

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar

import strawberry
from strawberry import relay
from strawberry.types import Info

from arcos.community import (
    sharing_types,  # noqa: F401  (names Visibility CommunityVisibility)
    templates,
)
from arcos.community.checklist_export import ChecklistFormat
from arcos.community.checks import Check
from arcos.community.compliance_content import Control, Framework
from arcos.community.compliance_status import CheckResult, ControlResult, FrameworkStatus, Status
from arcos.community.gsn import Node, NodeType, check_argument
from arcos.community.industry_content import Industry
from arcos.community.scopes import COMMUNITY_READ
from arcos.community.sharing import SharedItem, Visibility
from arcos.community.sharing_types import CommunityAuthor, author_of
from arcos.community.templates import Kind, Template
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import UserError
from arcos.registry import NodeKind

strawberry.enum(NodeType, name="GsnNodeType", description="The GSN element kinds.")
strawberry.enum(Status, name="ComplianceState", description="SATISFIED: the evidence meets "
                "the check; FAILING: it shows the condition unmet; MISSING: there is no such "
                "evidence; STALE: the newest is older than the check allows.")
strawberry.enum(ChecklistFormat, name="ChecklistFormat", description="CSV or MARKDOWN text.")


@strawberry.enum(name="ComplianceCheckKind", description="evidence: an evidence type within "
                 "N days; metric: a quality-metric condition; sbom: an SBOM within N days.")
class CheckKind(Enum):
    EVIDENCE = "evidence"
    METRIC = "metric"
    SBOM = "sbom"


def evidence_global_id(uid: object) -> str:
    """The id `node(id)` and `evidence(id)` take for a stored evidence uid."""
    return relay.to_base64("Evidence", str(uid))


@strawberry.type(name="IndustryStandard")
class StandardType:
    name: str
    note: str


@strawberry.type(name="GsnNode", description="One element of a GSN argument.")
class GsnNodeType:
    id: str = strawberry.field(description="The node's id within its argument (G1, Sn2).")
    type: NodeType
    text: str
    supported_by: list[str]
    in_context_of: list[str]
    undeveloped: bool
    evidence_types: list[str] = strawberry.field(
        description="For solutions: the ARCOS evidence types that would be its evidence.")

    @classmethod
    def of(cls, node: Node) -> "GsnNodeType":
        return cls(id=node.id, type=node.type, text=node.text,
                   supported_by=list(node.supported_by), in_context_of=list(node.in_context_of),
                   undeveloped=node.undeveloped, evidence_types=list(node.evidence_types))


@strawberry.type
class SharingFields:
    """How a template is shared; built-ins are PUBLIC and have no author or dates."""

    built_in: bool
    visibility: Visibility
    anonymized: bool
    hidden: bool
    created_at: datetime | None
    updated_at: datetime | None
    row: strawberry.Private[SharedItem | None]

    @strawberry.field(description="Who shared it; null for built-ins and, to non-admins, "
                      "when it was shared anonymised.")
    async def author(self, info: Info[ArcosContext, None]) -> CommunityAuthor | None:
        return await author_of(self.row, info)


def _sharing(row: SharedItem | None) -> dict[str, object]:
    if row is None:
        return {"built_in": True, "visibility": Visibility.PUBLIC, "anonymized": False,
                "hidden": False, "created_at": None, "updated_at": None, "row": None}
    return {"built_in": False, "visibility": Visibility(row.visibility),
            "anonymized": row.anonymized, "hidden": row.hidden,
            "created_at": row.created_at, "updated_at": row.updated_at, "row": row}


def _handle(template: Template[Industry] | Template[Framework]) -> str:
    return template.content.key if template.row is None else str(template.row.uid)


class TemplateNodes:
    """node(id) for a template type: its `kind` finds the templates, its `of` shapes them."""

    kind: ClassVar[Kind[Any, Any]]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        found = await templates.by_handles(cls.kind, info.context.caller, list(node_ids))
        return [None if template is None else cls.of(template)  # type: ignore[attr-defined]
                for template in found]


@strawberry.type(name="IndustryTemplate", description="An industry's governing standards, "
                 "what they ask of software, the evidence they expect and a GSN argument "
                 "skeleton.")
class IndustryTemplateType(SharingFields, TemplateNodes, relay.Node):
    kind = templates.INDUSTRY

    handle: relay.NodeID[str]
    key: str
    name: str
    description: str
    standards: list[StandardType]
    requirements: list[str]
    evidence_types: list[str] = strawberry.field(
        description="Every evidence type the argument's solutions expect.")
    argument: list[GsnNodeType]
    open_items: list[str] = strawberry.field(
        description="Goals and strategies marked undeveloped.")
    frameworks: list[str] = strawberry.field(
        description="Keys of the built-in compliance templates that apply.")

    @classmethod
    def of(cls, template: Template[Industry]) -> "IndustryTemplateType":
        industry = template.content
        return cls(
            handle=_handle(template), key=industry.key, name=industry.name,
            description=industry.description,
            standards=[StandardType(name=s.name, note=s.note) for s in industry.standards],
            requirements=list(industry.requirements),
            evidence_types=list(industry.evidence_types),
            argument=[GsnNodeType.of(node) for node in industry.argument],
            open_items=check_argument(industry.argument, "argument").open_items,
            frameworks=list(industry.frameworks), **_sharing(template.row))


@strawberry.type(name="ComplianceCheck", description="One condition over ARCOS data that a "
                 "control's evidence must meet.")
class CheckType:
    kind: CheckKind
    days: int = strawberry.field(description="How old the newest evidence may be.")
    types: list[str] = strawberry.field(description="evidence: any of these evidence types.")
    expression: str | None = strawberry.field(
        description="metric: `<metric> <op> <number>`, e.g. `tests.pass_rate >= 0.95`.")
    description: str

    @classmethod
    def of(cls, check: Check) -> "CheckType":
        return cls(kind=CheckKind(check.kind), days=check.days, types=list(check.types),
                   expression=check.expression, description=check.describe())


@strawberry.type(name="ComplianceControl")
class ControlType:
    control_id: str = strawberry.field(description="The framework's own identifier (CC8.1, "
                                       "6.2.4, A.8.28).")
    title: str
    checklist: str = strawberry.field(description="The auditor's question.")
    evidence_codes: list[str] = strawberry.field(
        description="The evidence kinds it rests on: TR, COV, SAST, SCA, CR, DEP, AC, DOC.")
    checks: list[CheckType]

    @classmethod
    def of(cls, control: Control) -> "ControlType":
        return cls(control_id=control.id, title=control.title, checklist=control.checklist,
                   evidence_codes=[code.value for code in control.codes],
                   checks=[CheckType.of(check) for check in control.checks])


@strawberry.type(name="ComplianceTemplate", description="A compliance framework: its "
                 "controls with identifiers, titles, checks over ARCOS data and checklist.")
class ComplianceTemplateType(SharingFields, TemplateNodes, relay.Node):
    kind = templates.COMPLIANCE

    handle: relay.NodeID[str]
    key: str
    name: str
    version: str
    description: str
    controls: list[ControlType]

    @classmethod
    def of(cls, template: Template[Framework]) -> "ComplianceTemplateType":
        framework = template.content
        return cls(handle=_handle(template), key=framework.key, name=framework.name,
                   version=framework.version, description=framework.description,
                   controls=[ControlType.of(c) for c in framework.controls],
                   **_sharing(template.row))


Shown = TypeVar("Shown")


@strawberry.type(name="Edge")
class TemplateEdge(Generic[Shown]):
    """Named per kind by strawberry: IndustryTemplateEdge, ComplianceTemplateEdge."""

    cursor: str
    node: Shown


@strawberry.type(name="Connection", description="Built-ins first, then the custom templates "
                 "you may read, oldest first.")
class TemplateConnection(Generic[Shown]):
    edges: list[TemplateEdge[Shown]]
    page_info: relay.PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Shown]:
        return [edge.node for edge in self.edges]


@strawberry.type(name="Payload")
class TemplatePayload(Generic[Shown]):
    """What adding or editing a template answers: it, or the problems with the input."""

    template: Shown | None
    errors: list[UserError]


IndustryTemplateConnection = TemplateConnection[IndustryTemplateType]
ComplianceTemplateConnection = TemplateConnection[ComplianceTemplateType]
IndustryTemplatePayload = TemplatePayload[IndustryTemplateType]
ComplianceTemplatePayload = TemplatePayload[ComplianceTemplateType]


@strawberry.type(name="ComplianceCheckStatus")
class CheckStatusType:
    check: CheckType
    status: Status
    detail: str = strawberry.field(description="What was found and what the check wanted.")
    evidence_ids: list[strawberry.ID] = strawberry.field(
        description="Global ids of the evidence behind the answer (evidence(id:) reads them).")
    observed_at: datetime | None
    value: float | None

    @classmethod
    def of(cls, result: CheckResult) -> "CheckStatusType":
        return cls(check=CheckType.of(result.check), status=result.status, detail=result.detail,
                   evidence_ids=[strawberry.ID(evidence_global_id(u))
                                 for u in result.evidence_uids],
                   observed_at=result.observed_at, value=result.value)


@strawberry.type(name="ComplianceControlStatus")
class ControlStatusType:
    control_id: str
    title: str
    checklist: str
    status: Status = strawberry.field(description="Its worst check's: FAILING, then MISSING, "
                                      "then STALE.")
    evidence_ids: list[strawberry.ID]
    checks: list[CheckStatusType]

    @classmethod
    def of(cls, result: ControlResult) -> "ControlStatusType":
        control = result.control
        return cls(control_id=control.id, title=control.title, checklist=control.checklist,
                   status=result.status,
                   evidence_ids=[strawberry.ID(evidence_global_id(u))
                                 for u in result.evidence_uids],
                   checks=[CheckStatusType.of(check) for check in result.checks])


@strawberry.type(name="ComplianceSummary")
class SummaryType:
    satisfied: int
    failing: int
    missing: int
    stale: int
    total: int


@strawberry.type(name="ComplianceStatus", description="A project's standing against a "
                 "framework, control by control.")
class ComplianceStatusType:
    framework: ComplianceTemplateType
    project: str
    evaluated_at: datetime
    summary: SummaryType
    controls: list[ControlStatusType]

    @classmethod
    def of(cls, status: FrameworkStatus, template: Template[Framework]) -> "ComplianceStatusType":
        counts = status.summary
        return cls(
            framework=ComplianceTemplateType.of(template), project=status.project,
            evaluated_at=status.evaluated_at,
            summary=SummaryType(satisfied=counts[Status.SATISFIED], failing=counts[Status.FAILING],
                                missing=counts[Status.MISSING], stale=counts[Status.STALE],
                                total=len(status.controls)),
            controls=[ControlStatusType.of(result) for result in status.controls])


NODES: tuple[NodeKind, ...] = (
    NodeKind(IndustryTemplateType, COMMUNITY_READ),
    NodeKind(ComplianceTemplateType, COMMUNITY_READ),
)

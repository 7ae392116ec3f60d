"""Template queries and mutations: industry and compliance templates, a project's compliance
status and its checklist export. Resolvers check, call a service, shape."""

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from arcos.auth.caller import Caller
from arcos.auth.permissions import check_scope, requires
from arcos.community import templates
from arcos.community.checklist_export import ChecklistFormat, checklist
from arcos.community.compliance_content import Framework
from arcos.community.compliance_status import project_status
from arcos.community.scopes import COMMUNITY_READ, COMMUNITY_WRITE
from arcos.community.sharing import Visibility
from arcos.community.sharing_types import parse_item_id
from arcos.community.templates import Sharing, Template, framework_required
from arcos.community.templates_input import ComplianceDraft, IndustryDraft
from arcos.community.templates_types import (
    ComplianceStatusType,
    ComplianceTemplateConnection,
    ComplianceTemplatePayload,
    ComplianceTemplateType,
    IndustryTemplateConnection,
    IndustryTemplatePayload,
    IndustryTemplateType,
    TemplateConnection,
    TemplateEdge,
    TemplatePayload,
    evidence_global_id,
)
from arcos.evidence.drafts import MAX_SLUG_LENGTH
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import payload_of
from arcos.graphql.global_ids import decode_global_id
from arcos.graphql.metadata import MAX_LENGTH
from arcos.graphql.pagination import PageRequest
from arcos.store.unit_of_work import utc_now

READ = [requires(COMMUNITY_READ)]
#: Compliance status reads the project's evidence, metrics and findings.
READ_WITH_EVIDENCE = [requires(COMMUNITY_READ), requires(EVIDENCE_READ)]
WRITE = [requires(COMMUNITY_WRITE)]
INDUSTRY_CURSOR = "industry-template"
COMPLIANCE_CURSOR = "compliance-template"
_REFERENCE = {MAX_LENGTH: 255}
_PROJECT = {MAX_LENGTH: MAX_SLUG_LENGTH}


@strawberry.input(description="A governing standard and a note on what it covers.")
class IndustryStandardInput:
    name: str
    note: str = ""


@strawberry.input(description="A custom industry template; its argument must keep the GSN "
                  "rules (one root goal, everything reachable, no cycles, allowed edges, "
                  "every goal and strategy supported or undeveloped, ids unique).")
class AddIndustryTemplateInput:
    key: str = strawberry.field(description="2-64 lower-case letters, digits and '-'; "
                                "unique among your templates and not a built-in's key.")
    name: str
    description: str = ""
    standards: list[IndustryStandardInput] = strawberry.field(default_factory=list)
    requirements: list[str] = strawberry.field(default_factory=list)
    frameworks: list[str] = strawberry.field(
        default_factory=list, description="Keys of the built-in compliance templates that "
        "apply (soc2, pci-dss, …).")
    argument: JSON = strawberry.field(description="The GSN nodes: [{id, type (goal, "
                                      "strategy, solution, context, assumption, "
                                      "justification), text, supportedBy, inContextOf, "
                                      "undeveloped, evidenceTypes}].")
    visibility: Visibility = Visibility.PRIVATE
    anonymize: bool = strawberry.field(default=False, description="Hide your name and scrub "
                                       "identifying strings from its text before storing.")

    def draft(self) -> IndustryDraft:
        return IndustryDraft(self.key, self.name, self.description,
                             [(s.name, s.note) for s in self.standards], self.requirements,
                             self.argument, self.frameworks)


@strawberry.input(description="A custom compliance framework.")
class AddComplianceTemplateInput:
    key: str = strawberry.field(description="2-64 lower-case letters, digits and '-'; "
                                "unique among your templates and not a built-in's key.")
    name: str
    version: str = ""
    description: str = ""
    controls: JSON = strawberry.field(description="[{id, title, checklist, checks: [{kind: "
                                      "evidence, types: [...], days} | {kind: metric, "
                                      "expression: \"tests.pass_rate >= 0.95\", days} | "
                                      "{kind: sbom, days}]}]; days 1-3650, default 90.")
    visibility: Visibility = Visibility.PRIVATE
    anonymize: bool = False

    def draft(self) -> ComplianceDraft:
        return ComplianceDraft(self.key, self.name, self.version, self.description,
                               self.controls)


def _given(input: object, draft: type) -> dict[str, Any]:
    """The draft fields an update input sets: those not left out (or null)."""
    return {field.name: value for field in fields(draft)
            if (value := getattr(input, field.name)) is not None}


@strawberry.input(description="Changes to an industry template you added; fields left out "
                  "stay. The result is checked as an added one is, GSN rules included.")
class UpdateIndustryTemplateInput:
    key: str | None = None
    name: str | None = None
    description: str | None = None
    standards: list[IndustryStandardInput] | None = None
    requirements: list[str] | None = None
    frameworks: list[str] | None = None
    argument: JSON | None = strawberry.field(default=None, description="The whole new GSN "
                                             "argument (it replaces the stored one).")
    visibility: Visibility | None = None

    def changes(self) -> dict[str, Any]:
        given = _given(self, IndustryDraft)
        if self.standards is not None:
            given["standards"] = [(s.name, s.note) for s in self.standards]
        return given


@strawberry.input(description="Changes to a compliance template you added; fields left out "
                  "stay. The result is checked as an added one is.")
class UpdateComplianceTemplateInput:
    key: str | None = None
    name: str | None = None
    version: str | None = None
    description: str | None = None
    controls: JSON | None = strawberry.field(default=None, description="The whole new "
                                             "control list (it replaces the stored one).")
    visibility: Visibility | None = None

    def changes(self) -> dict[str, Any]:
        return _given(self, ComplianceDraft)


@dataclass(frozen=True)
class _Served:
    """What the root fields of one template kind differ in."""

    kind: templates.Kind[Any, Any]
    #: IndustryTemplateType or ComplianceTemplateType: its name and `of`.
    node: Any
    type_name: str
    cursor: str


INDUSTRY = _Served(templates.INDUSTRY, IndustryTemplateType, "IndustryTemplate",
                   "industry-template")
COMPLIANCE = _Served(templates.COMPLIANCE, ComplianceTemplateType, "ComplianceTemplate",
                     "compliance-template")
TemplateId = Annotated[str, strawberry.argument(
    description="The template's `id`.", metadata={MAX_LENGTH: 200})]


def _handle(id: relay.GlobalID | None, key: str | None, type_name: str,
            built_ins: Mapping[str, object]) -> tuple[str | None, str | None]:
    """(key, uid) to look a template up by: a global id's handle is a built-in's key or a
    custom template's uid."""
    if id is None:
        return key, None
    if id.type_name != type_name:
        return None, None
    return (id.node_id, None) if id.node_id in built_ins else (None, id.node_id)


def _edited_handle(served: _Served, raw: str) -> str:
    """The handle an edit names: a built-in's key (which the service refuses with its own
    message) or a custom template's uid; BAD_USER_INPUT for anything but this kind's id."""
    global_id = decode_global_id(raw)
    if global_id is not None and global_id.type_name == served.type_name and \
            global_id.node_id in served.kind.built_ins:
        return global_id.node_id
    return str(parse_item_id(raw, served.type_name))


async def _connection(served: _Served, info: Info[ArcosContext, None], first: int,
                      after: str | None) -> TemplateConnection[Any]:
    request = PageRequest.of(served.cursor, first, after, info.context.settings.max_page_size)
    found = await templates.page(served.kind, info.context.caller, first, request.start)
    page = request.by_offset(found.templates, found.has_next)
    return TemplateConnection(edges=page.edges(TemplateEdge, served.node.of),
                              page_info=page.info, total_count=found.total)


async def _one(served: _Served, info: Info[ArcosContext, None], id: relay.GlobalID | None,
               key: str | None) -> Any:
    found_key, uid = _handle(id, key, served.type_name, served.kind.built_ins)
    found = await templates.find(served.kind, info.context.caller, key=found_key, uid=uid)
    return served.node.of(found) if found else None


async def _payload(served: _Served, write: Awaitable[Template[Any]]) -> TemplatePayload[Any]:
    return await payload_of(
        write, lambda written: TemplatePayload(template=served.node.of(written), errors=[]),
        partial(TemplatePayload, template=None))


async def _updated(served: _Served, info: Info[ArcosContext, None], id: str,
                   changes: dict[str, Any], visibility: Visibility | None
                   ) -> TemplatePayload[Any]:
    context = info.context
    handle = _edited_handle(served, id)
    return await _payload(served, templates.update(
        served.kind, handle, changes, visibility=visibility, caller=context.caller,
        write=context.write_context()))


async def _framework(reference: str, caller: Caller) -> Template[Framework]:
    """A framework by built-in key, the key of one of the caller's own, or a global id."""
    key: str | None = reference
    uid: str | None = None
    if reference not in COMPLIANCE.kind.built_ins:
        global_id = decode_global_id(reference)
        if global_id is not None and global_id.type_name == COMPLIANCE.type_name:
            key, uid = _handle(global_id, None, COMPLIANCE.type_name,
                               COMPLIANCE.kind.built_ins)
    found = await templates.find(COMPLIANCE.kind, caller, key=key, uid=uid)
    framework_required(found, reference)
    assert found is not None
    return found


def _now(context: ArcosContext) -> datetime:
    return context.writer.clock() if context.writer is not None else utc_now()


@strawberry.type
class TemplateQueries:
    @strawberry.field(description="Industry templates: the eight built-ins, then custom ones "
                      "you may read.", permission_classes=READ)
    async def industry_templates(
        self, info: Info[ArcosContext, None], first: int = 50, after: str | None = None
    ) -> IndustryTemplateConnection:
        return await _connection(INDUSTRY, info, first, after)

    @strawberry.field(description="One industry template by id, or by key (a built-in's, or "
                      "one of yours); null when there is none you may read.",
                      permission_classes=READ)
    async def industry_template(
        self, info: Info[ArcosContext, None], id: relay.GlobalID | None = None,
        key: Annotated[str | None, strawberry.argument(metadata=_REFERENCE)] = None,
    ) -> IndustryTemplateType | None:
        return await _one(INDUSTRY, info, id, key)

    @strawberry.field(description="Compliance templates: the eight built-ins, then custom "
                      "ones you may read.", permission_classes=READ)
    async def compliance_templates(
        self, info: Info[ArcosContext, None], first: int = 50, after: str | None = None
    ) -> ComplianceTemplateConnection:
        return await _connection(COMPLIANCE, info, first, after)

    @strawberry.field(description="One compliance template by id, or by key (a built-in's, "
                      "or one of yours); null when there is none you may read.",
                      permission_classes=READ)
    async def compliance_template(
        self, info: Info[ArcosContext, None], id: relay.GlobalID | None = None,
        key: Annotated[str | None, strawberry.argument(metadata=_REFERENCE)] = None,
    ) -> ComplianceTemplateType | None:
        return await _one(COMPLIANCE, info, id, key)

    @strawberry.field(description="Every control of a framework evaluated against a project's "
                      "evidence, metrics and open findings: SATISFIED, FAILING, MISSING or "
                      "STALE with the evidence behind each answer. `framework`: a built-in key "
                      "(soc2, pci-dss, hipaa, iso27001, gdpr, nist-800-53, cis-controls, "
                      "fedramp), the key of one of yours, or a template's id. Needs "
                      "evidence:read too.", permission_classes=READ_WITH_EVIDENCE)
    async def compliance_status(
        self, info: Info[ArcosContext, None],
        project: Annotated[str, strawberry.argument(metadata=_PROJECT)],
        framework: Annotated[str, strawberry.argument(metadata=_REFERENCE)],
    ) -> ComplianceStatusType:
        context = info.context
        template = await _framework(framework, context.caller)
        status = await project_status(template.content, project, _now(context))
        return ComplianceStatusType.of(status, template)

    @strawberry.field(description="A framework's audit checklist as CSV or Markdown text; with "
                      "`project` (needs evidence:read), each control's status and evidence ids "
                      "too.", permission_classes=READ)
    async def compliance_checklist(
        self, info: Info[ArcosContext, None],
        framework: Annotated[str, strawberry.argument(metadata=_REFERENCE)],
        project: Annotated[str | None, strawberry.argument(metadata=_PROJECT)] = None,
        format: ChecklistFormat = ChecklistFormat.MARKDOWN,
    ) -> str:
        context = info.context
        if project is not None:
            check_scope(context.caller, EVIDENCE_READ)
        template = await _framework(framework, context.caller)
        status = None if project is None else await project_status(
            template.content, project, _now(context))
        return checklist(template.content, status, format, evidence_global_id)


@strawberry.type
class TemplateMutations:
    @strawberry.mutation(description="Share a custom industry template; refused with every "
                         "problem (GSN rules included), each naming its field.",
                         permission_classes=WRITE)
    async def add_industry_template(
        self, info: Info[ArcosContext, None], input: AddIndustryTemplateInput
    ) -> IndustryTemplatePayload:
        return await _payload(INDUSTRY, templates.add(
            INDUSTRY.kind, input.draft(), Sharing(input.visibility, input.anonymize),
            info.context.write_context()))

    @strawberry.mutation(description="Edit an industry template you added (admins: any); "
                         "built-ins cannot be edited. Refused like an add, GSN rules included.",
                         permission_classes=WRITE)
    async def update_industry_template(
        self, info: Info[ArcosContext, None], id: TemplateId,
        input: UpdateIndustryTemplateInput,
    ) -> IndustryTemplatePayload:
        return await _updated(INDUSTRY, info, id, input.changes(), input.visibility)

    @strawberry.mutation(description="Share a custom compliance template; its checks are "
                         "validated (kinds, metric expressions, operators, days).",
                         permission_classes=WRITE)
    async def add_compliance_template(
        self, info: Info[ArcosContext, None], input: AddComplianceTemplateInput
    ) -> ComplianceTemplatePayload:
        return await _payload(COMPLIANCE, templates.add(
            COMPLIANCE.kind, input.draft(), Sharing(input.visibility, input.anonymize),
            info.context.write_context()))

    @strawberry.mutation(description="Edit a compliance template you added (admins: any); "
                         "built-ins cannot be edited. Its checks are validated as an add's.",
                         permission_classes=WRITE)
    async def update_compliance_template(
        self, info: Info[ArcosContext, None], id: TemplateId,
        input: UpdateComplianceTemplateInput,
    ) -> ComplianceTemplatePayload:
        return await _updated(COMPLIANCE, info, id, input.changes(), input.visibility)

"""Template queries and mutations: industry and compliance templates, a project's compliance
status and its checklist export. Resolvers check, call a service, shape."""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from arcos.auth.caller import Caller
from arcos.auth.permissions import check_scope, requires
from arcos.auth.scopes import Scope
from arcos.community import compliance_content, industry_content, templates
from arcos.community.checklist_export import ChecklistFormat, checklist
from arcos.community.compliance_content import Framework
from arcos.community.compliance_status import project_status
from arcos.community.sharing import Visibility
from arcos.community.templates import (
    ComplianceDraft,
    IndustryDraft,
    Sharing,
    Template,
    framework_required,
)
from arcos.community.templates_types import (
    ComplianceStatusType,
    ComplianceTemplateConnection,
    ComplianceTemplateEdge,
    ComplianceTemplateType,
    IndustryTemplateConnection,
    IndustryTemplateEdge,
    IndustryTemplateType,
    evidence_global_id,
)
from arcos.evidence.drafts import MAX_SLUG_LENGTH
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import UserError, user_errors
from arcos.graphql.metadata import MAX_LENGTH
from arcos.graphql.pagination import check_page_size, decode_cursor, encode_cursor, page_info
from arcos.problems import Refused
from arcos.store.unit_of_work import utc_now

READ = [requires(Scope.COMMUNITY_READ)]
#: Compliance status reads the project's evidence, metrics and findings.
READ_WITH_EVIDENCE = [requires(Scope.COMMUNITY_READ), requires(Scope.EVIDENCE_READ)]
WRITE = [requires(Scope.COMMUNITY_WRITE)]
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


@strawberry.type
class IndustryTemplatePayload:
    template: IndustryTemplateType | None
    errors: list[UserError]


@strawberry.type
class ComplianceTemplatePayload:
    template: ComplianceTemplateType | None
    errors: list[UserError]


def _handle(id: relay.GlobalID | None, key: str | None, type_name: str,
            built_ins: Mapping[str, object]) -> tuple[str | None, str | None]:
    """(key, uid) to look a template up by: a global id's handle is a built-in's key or a
    custom template's uid."""
    if id is None:
        return key, None
    if id.type_name != type_name:
        return None, None
    return (id.node_id, None) if id.node_id in built_ins else (None, id.node_id)


async def _framework(reference: str, caller: Caller) -> Template[Framework]:
    """A framework by built-in key, the key of one of the caller's own, or a global id."""
    key: str | None = reference
    uid: str | None = None
    if reference not in compliance_content.BY_KEY:
        try:
            global_id = relay.GlobalID.from_id(reference)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            global_id = None
        if global_id is not None and global_id.type_name == "ComplianceTemplate":
            key, uid = _handle(global_id, None, "ComplianceTemplate",
                               compliance_content.BY_KEY)
    found = await templates.find_framework(caller, key=key, uid=uid)
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
        caller = info.context.caller
        check_page_size("first", first, info.context.settings.max_page_size)
        before = decode_cursor(INDUSTRY_CURSOR, after)
        start = 0 if before is None else before + 1
        page = await templates.industries(caller, first, start)
        edges = [IndustryTemplateEdge(cursor=encode_cursor(INDUSTRY_CURSOR, start + index),
                                      node=IndustryTemplateType.of(template))
                 for index, template in enumerate(page.templates)]
        return IndustryTemplateConnection(
            edges=edges, page_info=page_info([e.cursor for e in edges], page.has_next, after),
            total_count=page.total)

    @strawberry.field(description="One industry template by id, or by key (a built-in's, or "
                      "one of yours); null when there is none you may read.",
                      permission_classes=READ)
    async def industry_template(
        self, info: Info[ArcosContext, None], id: relay.GlobalID | None = None,
        key: Annotated[str | None, strawberry.argument(metadata=_REFERENCE)] = None,
    ) -> IndustryTemplateType | None:
        caller = info.context.caller
        found_key, uid = _handle(id, key, "IndustryTemplate", industry_content.BY_KEY)
        found = await templates.find_industry(caller, key=found_key, uid=uid)
        return IndustryTemplateType.of(found) if found else None

    @strawberry.field(description="Compliance templates: the eight built-ins, then custom "
                      "ones you may read.", permission_classes=READ)
    async def compliance_templates(
        self, info: Info[ArcosContext, None], first: int = 50, after: str | None = None
    ) -> ComplianceTemplateConnection:
        caller = info.context.caller
        check_page_size("first", first, info.context.settings.max_page_size)
        before = decode_cursor(COMPLIANCE_CURSOR, after)
        start = 0 if before is None else before + 1
        page = await templates.frameworks(caller, first, start)
        edges = [ComplianceTemplateEdge(cursor=encode_cursor(COMPLIANCE_CURSOR, start + index),
                                        node=ComplianceTemplateType.of(template))
                 for index, template in enumerate(page.templates)]
        return ComplianceTemplateConnection(
            edges=edges, page_info=page_info([e.cursor for e in edges], page.has_next, after),
            total_count=page.total)

    @strawberry.field(description="One compliance template by id, or by key (a built-in's, "
                      "or one of yours); null when there is none you may read.",
                      permission_classes=READ)
    async def compliance_template(
        self, info: Info[ArcosContext, None], id: relay.GlobalID | None = None,
        key: Annotated[str | None, strawberry.argument(metadata=_REFERENCE)] = None,
    ) -> ComplianceTemplateType | None:
        caller = info.context.caller
        found_key, uid = _handle(id, key, "ComplianceTemplate", compliance_content.BY_KEY)
        found = await templates.find_framework(caller, key=found_key, uid=uid)
        return ComplianceTemplateType.of(found) if found else None

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
            check_scope(context.caller, Scope.EVIDENCE_READ)
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
        context = info.context
        try:
            added = await templates.add_industry(
                input.draft(), Sharing(input.visibility, input.anonymize), context.write_context())
        except Refused as refused:
            return IndustryTemplatePayload(template=None, errors=user_errors(refused))
        return IndustryTemplatePayload(
            template=IndustryTemplateType.of(added), errors=[])

    @strawberry.mutation(description="Share a custom compliance template; its checks are "
                         "validated (kinds, metric expressions, operators, days).",
                         permission_classes=WRITE)
    async def add_compliance_template(
        self, info: Info[ArcosContext, None], input: AddComplianceTemplateInput
    ) -> ComplianceTemplatePayload:
        context = info.context
        draft = ComplianceDraft(input.key, input.name, input.version, input.description,
                                input.controls)
        try:
            added = await templates.add_framework(
                draft, Sharing(input.visibility, input.anonymize), context.write_context())
        except Refused as refused:
            return ComplianceTemplatePayload(template=None, errors=user_errors(refused))
        return ComplianceTemplatePayload(
            template=ComplianceTemplateType.of(added), errors=[])

"""Assurance case queries and mutations: resolvers check, call one service function and
shape the payload. Reading needs evidence:read, editing evidence:write."""

from collections.abc import AsyncGenerator
from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from arcos.assurance import case_snapshots, service
from arcos.assurance.document import to_json
from arcos.assurance.service import CaseDocumentInput, CaseView
from arcos.assurance.template_cases import case_from_industry
from arcos.assurance.types import (
    CasePayload,
    CaseStatusType,
    CaseType,
    CaseUpdateType,
    CaseValidationType,
    SnapshotPayload,
    SnapshotType,
    VerificationType,
    status_of,
)
from arcos.assurance.updates_stream import case_updates
from arcos.auth.permissions import requires
from arcos.community import templates
from arcos.evidence.drafts import MAX_SLUG_LENGTH
from arcos.evidence.scopes import EVIDENCE_READ, EVIDENCE_WRITE
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import payload_of
from arcos.graphql.metadata import JSON_SCHEMA, MAX_LENGTH
from arcos.plugins.host import host_of
from arcos.problems import BadUserInput, NotFound, ProblemCode, Refused

READ = [requires(EVIDENCE_READ)]
WRITE = [requires(EVIDENCE_WRITE)]
_SLUG = {MAX_LENGTH: MAX_SLUG_LENGTH, JSON_SCHEMA: {"minLength": 1, "maxLength": MAX_SLUG_LENGTH}}
_ID = {MAX_LENGTH: 128, JSON_SCHEMA: {"minLength": 1, "maxLength": 128}}
_TITLE = {MAX_LENGTH: 255, JSON_SCHEMA: {"minLength": 1, "maxLength": 255}}
_YAML = "The case as gsn2x YAML text (element kinds from id prefixes G, S, Sn, C, A, J)."
_JSON = 'The case in its JSON form: {"title": …, "elements": [{id, type, text, …}]}.'


@strawberry.input(name="CreateAssuranceCaseInput", description="A new case: give yaml or json.")
class CreateInput:
    project: str = strawberry.field(metadata=_SLUG)
    yaml: str | None = strawberry.field(default=None, description=_YAML)
    json: JSON | None = strawberry.field(default=None, description=_JSON)
    title: str | None = strawberry.field(default=None, metadata=_TITLE, description="Overrides "
                                         "the document's title (module name).")


@strawberry.input(name="UpdateAssuranceCaseInput", description="A case's next version.")
class UpdateInput:
    id: str = strawberry.field(metadata=_ID, description="The case's caseId.")
    yaml: str | None = strawberry.field(default=None, description=_YAML)
    json: JSON | None = strawberry.field(default=None, description=_JSON)
    title: str | None = strawberry.field(default=None, metadata=_TITLE)


@strawberry.input(name="CreateCaseFromTemplateInput")
class FromTemplateInput:
    template: str = strawberry.field(metadata=_ID, description="An industry template: a "
                                     "built-in key (healthcare, finance, …) or a custom "
                                     "template's id.")
    project: str = strawberry.field(metadata=_SLUG)
    title: str | None = strawberry.field(default=None, metadata=_TITLE)


def _payload(view: CaseView) -> CasePayload:
    return CasePayload(case=CaseType.of(view), errors=[])


_REFUSED = partial(CasePayload, case=None)


@strawberry.type
class AssuranceQueries:
    @strawberry.field(description="A case at its newest version, or at `version`.",
                      permission_classes=READ)
    async def assurance_case(
        self, id: Annotated[str, strawberry.argument(metadata=_ID)], version: int | None = None,
    ) -> CaseType | None:
        found = await service.find_case(id, version)
        return None if found is None else CaseType.of(found)

    @strawberry.field(description="A case's status as it was at a past moment: the version in "
                      "force then, judged on the evidence that existed then (what did we know "
                      "when we released?). Null when there is no such case; a future `at` is "
                      "refused.",
                      permission_classes=READ)
    async def case_status_at(
        self, info: Info[ArcosContext, None],
        id: Annotated[str, strawberry.argument(metadata=_ID)], at: datetime,
    ) -> CaseStatusType | None:
        if at.tzinfo is None:
            raise BadUserInput("give `at` with a time zone, e.g. 2026-01-31T12:00:00Z")
        now = info.context.writer.clock()
        if at > now:  # refused, not clamped: a status "at" a future moment would be today's
            raise BadUserInput(f"`at` ({at.isoformat()}) is in the future; ask about a past "
                               f"moment (now is {now.isoformat()}) or read the live status")
        found = await service.find_case(id)
        return None if found is None else await status_of(found, at, now)

    @strawberry.field(description="Check a release snapshot against the store now: its hash, "
                      "signature and chain, the case version it froze and every evidence item "
                      "it relied on; each problem names what changed.",
                      permission_classes=READ)
    async def verify_snapshot(
        self, info: Info[ArcosContext, None],
        hash: Annotated[str, strawberry.argument(metadata=_ID)],
    ) -> VerificationType:
        try:
            stored, verification = await case_snapshots.verify_snapshot(
                hash, host_of(info.context).signer)
        except Refused as refused:
            raise BadUserInput(str(refused)) from None
        return VerificationType(valid=verification.valid,
                                problems=list(verification.problems),
                                snapshot=SnapshotType.of(stored))

    @strawberry.field(description="A project's cases, oldest first.", permission_classes=READ)
    async def assurance_cases(
        self, project: Annotated[str, strawberry.argument(metadata=_SLUG)],
    ) -> list[CaseType]:
        return [CaseType.of(view) for view in await service.cases_of(project)]

    @strawberry.field(description="Check a case without storing it: a stored case by `id` "
                      "(as it reads now: away goals resolved again), or a document given as "
                      "yaml or json. Every violation names its rule and elements.",
                      permission_classes=READ)
    async def validate_case(
        self, info: Info[ArcosContext, None],
        id: Annotated[str | None, strawberry.argument(metadata=_ID)] = None,
        yaml: str | None = None, json: JSON | None = None,
    ) -> CaseValidationType:
        try:
            if id is not None:
                found = await service.find_case(id)
                if found is None:
                    raise BadUserInput(f"no assurance case {id:.80}")
                return CaseValidationType.of(found.validation)
            document = await service.read_document(CaseDocumentInput(yaml, json, None),
                                                   info.context.parse_pool)
            return CaseValidationType.of(await service.validate(document))
        except Refused as refused:
            raise BadUserInput(str(refused)) from None


@strawberry.type
class AssuranceMutations:
    @strawberry.mutation(description="Store a new case (version 1). A case breaking a hard "
                         "GSN rule is refused with every violation; an incomplete one is "
                         "stored as INCOMPLETE.", permission_classes=WRITE)
    async def create_assurance_case(
        self, info: Info[ArcosContext, None], input: CreateInput,
    ) -> CasePayload:
        given = CaseDocumentInput(input.yaml, input.json, input.title)
        return await payload_of(
            service.create_case(input.project, given, info.context.write_context(),
                                info.context.parse_pool),
            _payload, _REFUSED)

    @strawberry.mutation(description="Store a case's next version; the older ones stay "
                         "readable (assuranceCase(id, version)).", permission_classes=WRITE)
    async def update_assurance_case(
        self, info: Info[ArcosContext, None], input: UpdateInput,
    ) -> CasePayload:
        given = CaseDocumentInput(input.yaml, input.json, input.title)
        return await payload_of(
            service.update_case(input.id, given, info.context.write_context(),
                                info.context.parse_pool),
            _payload, _REFUSED)

    @strawberry.mutation(description="Freeze a case for a release: its newest version, every "
                         "element's status now and a seal (SHA-256) of each evidence item it "
                         "relied on, chained to its previous snapshot and signed with the "
                         "server key (verifySnapshot detects later edits).",
                         permission_classes=WRITE)
    async def snapshot_case(
        self, info: Info[ArcosContext, None],
        id: Annotated[str, strawberry.argument(metadata=_ID)],
    ) -> SnapshotPayload:
        context = info.context
        return await payload_of(
            case_snapshots.snapshot_case(id, host_of(context).signer, context.write_context()),
            lambda stored: SnapshotPayload(snapshot=SnapshotType.of(stored), errors=[]),
            partial(SnapshotPayload, snapshot=None))

    @strawberry.mutation(description="A new case from an industry template's GSN skeleton, "
                         "each solution bound to evidence by its evidence kind's default "
                         "rule (tests.pass_rate >= 0.95, coverage.line_rate >= 0.8, "
                         "findings.critical == 0, …).", permission_classes=WRITE)
    async def create_case_from_template(
        self, info: Info[ArcosContext, None], input: FromTemplateInput,
    ) -> CasePayload:
        context = info.context

        async def create() -> CaseView:
            [found] = await templates.by_handles(templates.INDUSTRY, context.caller,
                                                 [input.template])
            if found is None:
                raise Refused.one("template", f"no industry template {input.template:.80}; "
                                  "use a built-in key (healthcare, finance, automotive, "
                                  "aerospace, industrial-control, retail, education, "
                                  "government) or a custom template's id",
                                  ProblemCode.NOT_FOUND)
            document = case_from_industry(found.content, input.title)
            return await service.create_case(
                input.project, CaseDocumentInput(json=to_json(document)),
                context.write_context())

        return await payload_of(create(), _payload, _REFUSED)


@strawberry.type
class AssuranceSubscriptions:
    @strawberry.subscription(description="A case's elements whose status or deciding evidence "
                             "changed, pushed when evidence or metrics its rules read arrive "
                             "(events that cannot change it are not evaluated).",
                             permission_classes=READ)
    async def assurance_case_updated(
        self, info: Info[ArcosContext, None],
        id: Annotated[str, strawberry.argument(metadata=_ID)],
    ) -> AsyncGenerator[CaseUpdateType, None]:
        found = await service.find_case(id)
        if found is None:
            raise NotFound(f"no assurance case {id:.80}")
        async for update in case_updates(info.context, found):
            yield CaseUpdateType.of(update)

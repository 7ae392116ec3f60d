"""Plugin queries, mutations and the execution subscription. Resolvers check, call, shape."""

from collections.abc import AsyncGenerator
from functools import partial
from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from arcos.auth.permissions import requires
from arcos.auth.scopes import ADMIN as ADMIN_SCOPE
from arcos.broker import channel
from arcos.evidence.drafts import MAX_SLUG_LENGTH, SLUG
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.evidence.types import SLUG_BOUND, EvidenceFilter, EvidenceType
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import payload_of, user_errors
from arcos.graphql.live_events import live_events
from arcos.graphql.metadata import JSON_SCHEMA, MAX_LENGTH
from arcos.graphql.pagination import PageRequest
from arcos.intake.types import QualityMetricType
from arcos.plugins import catalogue, execution, reads, stats
from arcos.plugins.catalogue import RegistrationRefused
from arcos.plugins.events import EXECUTION_FINISHED
from arcos.plugins.host import host_of
from arcos.plugins.manifest import Permission, PluginKind
from arcos.plugins.models import ExecutionStatus, PluginVersion
from arcos.plugins.panel import PANEL_SCHEMA
from arcos.plugins.scopes import PLUGINS_EXECUTE, PLUGINS_READ, PLUGINS_WRITE
from arcos.plugins.types import (
    AUTHOR_BOUND,
    PLUGIN_ID_BOUND,
    VERSION_BOUND,
    ApprovePluginPayload,
    ExecutePluginPayload,
    PluginConnection,
    PluginEdge,
    PluginExecutionConnection,
    PluginExecutionEdge,
    PluginExecutionType,
    PluginPanelType,
    PluginProblemType,
    PluginStatsType,
    PluginType,
    PluginVersionsPayload,
    PluginVersionType,
    RegisterPluginPayload,
    UnregisterPluginPayload,
    ValidatePluginPayload,
)
from arcos.plugins.validation import check_plugin
from arcos.problems import BadUserInput, ProblemCode, Refused
from arcos.storable import unstorable

READ = [requires(PLUGINS_READ)]
WRITE = [requires(PLUGINS_WRITE)]
EXECUTE = [requires(PLUGINS_EXECUTE)]
ADMIN = [requires(ADMIN_SCOPE)]
#: A project's panels are drawn from its evidence (a plugin may read it), so they are read
#: with the scope its metrics and evidence are.
READ_PROJECT = [requires(EVIDENCE_READ)]
PLUGIN_CURSOR = "plugin"
EXECUTION_CURSOR = "plugin-execution"
_PLUGIN_ID = {JSON_SCHEMA: {"minLength": 1, "maxLength": 100}, **PLUGIN_ID_BOUND}
_VERSION = {JSON_SCHEMA: {"minLength": 1, "maxLength": 64}, **VERSION_BOUND}


@strawberry.input(description="A plugin as the original API sent it.")
class RegisterPluginInput:
    manifest: JSON = strawberry.field(
        description="id (or plugin_id), name, version, type, description, author, "
        "permissions, entry_point, triggers, tags, homepage.")
    code: str = strawberry.field(description="Python source, at most 64 KiB and 2,000 lines.")


@strawberry.input(description="A plugin to check without storing it.")
class ValidatePluginInput:
    manifest: JSON
    code: str


@strawberry.input
class ApprovePluginInput:
    plugin: str = strawberry.field(metadata=_PLUGIN_ID)
    version: str = strawberry.field(metadata=_VERSION)
    permissions: list[Permission] | None = strawberry.field(
        default=None, description="What to approve, of what it asks for; default: all.")


@strawberry.input
class RevokePluginInput:
    plugin: str = strawberry.field(metadata=_PLUGIN_ID)
    version: str | None = strawberry.field(
        default=None, description="Default: every version.", metadata=_VERSION)


@strawberry.input
class UnregisterPluginInput:
    plugin: str = strawberry.field(metadata=_PLUGIN_ID)


@strawberry.input
class SetPluginEnabledInput:
    plugin: str = strawberry.field(metadata=_PLUGIN_ID)
    enabled: bool
    version: str | None = strawberry.field(
        default=None, description="Default: every version.", metadata=_VERSION)


@strawberry.input
class ExecutePluginInput:
    plugin: str = strawberry.field(metadata=_PLUGIN_ID)
    version: str | None = strawberry.field(
        default=None, description="Default: the newest approved version.", metadata=_VERSION)
    input: JSON | None = strawberry.field(
        default=None, description="The plugin's one argument: a JSON object (default {}).")
    project: str | None = strawberry.field(
        default=None, description="Project slug its output belongs to (metrics need one).",
        metadata={JSON_SCHEMA: {"maxLength": MAX_SLUG_LENGTH}})
    evidence: EvidenceFilter | None = strawberry.field(
        default=None, description="Evidence the host reads with your scopes and hands to "
        "the plugin as input.evidence (needs evidence.read), newest first.")
    evidence_limit: int = strawberry.field(
        default=execution.MAX_INPUT_EVIDENCE,
        description=f"At most this many items (1-{execution.MAX_INPUT_EVIDENCE}); "
        f"{execution.MAX_INPUT_EVIDENCE_BYTES} bytes in all.")

    def to_call(self, context: ArcosContext) -> execution.Call:
        project = self.project.strip().lower() if self.project is not None else None
        if project is not None and (len(project) > MAX_SLUG_LENGTH or not SLUG.match(project)):
            raise Refused.one("project", "project must be a slug like github.com/owner/repo",
                              ProblemCode.INVALID)
        if not 1 <= self.evidence_limit <= execution.MAX_INPUT_EVIDENCE:
            raise Refused.one("evidenceLimit", f"evidenceLimit must be 1-"
                              f"{execution.MAX_INPUT_EVIDENCE}", ProblemCode.INVALID)
        read = execution.EvidenceRead(self.evidence.to_query(), self.evidence_limit) \
            if self.evidence is not None else None
        return execution.Call(
            plugin_id=self.plugin, version=self.version,
            input={} if self.input is None else self.input, project=project,
            caller=context.caller, evidence=read,
        )


@strawberry.type
class PluginQueries:
    @strawberry.field(description="The catalogue: each plugin's latest non-revoked version. "
                      "With `search`, ranked by how well id, name, tags and description match "
                      "every word; otherwise by id.", permission_classes=READ)
    async def plugins(
        self,
        info: Info[ArcosContext, None],
        type: PluginKind | None = None,
        search: Annotated[str | None, strawberry.argument(metadata={MAX_LENGTH: 200})]
        = None,
        author: Annotated[str | None, strawberry.argument(metadata=AUTHOR_BOUND)] = None,
        first: int = 50,
        after: str | None = None,
    ) -> PluginConnection:
        request = PageRequest.of(PLUGIN_CURSOR, first, after,
                                 info.context.settings.max_page_size)
        query = reads.PluginQuery(kind=type.value if type else None, search=search,
                                  author=author)
        found = await reads.page_plugins(query, first, request.start)
        page = request.by_offset(found.rows, found.has_next)
        return PluginConnection(
            edges=page.edges(PluginEdge, PluginType.from_model), page_info=page.info,
            total_count=found.total, truncated=found.truncated,
        )

    @strawberry.field(description="One plugin by id, with its versions (described by its "
                      "latest non-revoked version, or its highest when all are revoked); null "
                      "when the catalogue has none.", permission_classes=READ)
    async def plugin(
        self, id: Annotated[str, strawberry.argument(metadata=PLUGIN_ID_BOUND)]
    ) -> PluginType | None:
        row = await reads.shown_version(id)
        return PluginType.from_model(row) if row else None

    @strawberry.field(description="Executions, newest first.", permission_classes=READ)
    async def plugin_executions(
        self,
        info: Info[ArcosContext, None],
        plugin: Annotated[str | None, strawberry.argument(metadata=PLUGIN_ID_BOUND)] = None,
        status: ExecutionStatus | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> PluginExecutionConnection:
        request = PageRequest.of(EXECUTION_CURSOR, first, after,
                                 info.context.settings.max_page_size)
        rows, has_next = await reads.page_executions(
            reads.ExecutionQuery(plugin_id=plugin, status=status), first, request.position)
        page = request.by_key(rows, has_next)
        return PluginExecutionConnection(
            edges=page.edges(PluginExecutionEdge, PluginExecutionType.from_model),
            page_info=page.info)

    @strawberry.field(description="Counts by type and state, executions, failures, "
                      "duration percentiles and the most used plugins.", permission_classes=READ)
    async def plugin_stats(self) -> PluginStatsType:
        return PluginStatsType.of(await stats.plugin_stats())

    @strawberry.field(description="The latest panel of each visualization plugin that drew "
                      "one for `project`, newest first, at most "
                      f"{reads.MAX_PANELS}; empty for a project with none (or none at all). "
                      "Needs evidence:read: a panel is drawn from the project's evidence.",
                      permission_classes=READ_PROJECT)
    async def plugin_panels(
        self,
        project: Annotated[str, strawberry.argument(metadata=SLUG_BOUND)],
        limit: int = reads.MAX_PANELS,
    ) -> list[PluginPanelType]:
        if not 1 <= limit <= reads.MAX_PANELS:
            raise BadUserInput(f"limit must be between 1 and {reads.MAX_PANELS} (got {limit})")
        slug = project.strip().lower()
        if unstorable(slug):
            return []
        return [PluginPanelType.of(shown) for shown in await reads.latest_panels(slug, limit)]

    @strawberry.field(description="The JSON Schema a visualization plugin's panel must match.",
                      permission_classes=READ)
    def plugin_panel_schema(self) -> JSON:
        return PANEL_SCHEMA


@strawberry.type
class PluginMutations:
    @strawberry.mutation(description="Check, sign and store a new plugin version. It is "
                         "active at once unless it asks for permissions its predecessor was "
                         "not approved for and you do not hold.", permission_classes=WRITE)
    async def register_plugin(
        self, info: Info[ArcosContext, None], input: RegisterPluginInput
    ) -> RegisterPluginPayload:
        context = info.context
        try:
            row = await catalogue.register(input.manifest, input.code, context.caller,
                                           context.write_context(), host_of(context))
        except RegistrationRefused as refused:
            return RegisterPluginPayload(
                plugin=None, errors=user_errors(refused),
                problems=[PluginProblemType.of(p) for p in refused.report.problems])
        except Refused as refused:
            return RegisterPluginPayload(plugin=None, problems=[], errors=user_errors(refused))
        return RegisterPluginPayload(plugin=PluginVersionType.from_model(row), problems=[],
                                     errors=[])

    @strawberry.mutation(description="The registration report for a plugin, storing nothing.",
                         permission_classes=WRITE)
    async def validate_plugin(
        self, info: Info[ArcosContext, None], input: ValidatePluginInput
    ) -> ValidatePluginPayload:
        report = await check_plugin(input.manifest, input.code, host_of(info.context))
        return ValidatePluginPayload(
            valid=report.valid,
            manifest=report.manifest.to_json() if report.manifest else None,
            problems=[PluginProblemType.of(p) for p in report.problems],
        )

    @strawberry.mutation(description="Approve a version waiting for approval: an admin, or a "
                         "token holding every scope behind what it asks for.",
                         permission_classes=WRITE)
    async def approve_plugin(
        self, info: Info[ArcosContext, None], input: ApprovePluginInput
    ) -> ApprovePluginPayload:
        context = info.context
        granted = [p.value for p in input.permissions] if input.permissions is not None \
            else None
        return await payload_of(
            catalogue.approve(input.plugin, input.version, granted, context.caller,
                              context.write_context()),
            lambda row: ApprovePluginPayload(plugin=PluginVersionType.from_model(row), errors=[]),
            partial(ApprovePluginPayload, plugin=None))

    @strawberry.mutation(description="Revoke a version (or every version): its next call is "
                         "refused.", permission_classes=ADMIN)
    async def revoke_plugin(
        self, info: Info[ArcosContext, None], input: RevokePluginInput
    ) -> PluginVersionsPayload:
        context = info.context
        return await payload_of(
            catalogue.revoke(input.plugin, input.version, context.caller,
                             context.write_context()),
            _versions, partial(PluginVersionsPayload, versions=[]))

    @strawberry.mutation(description="Take a plugin out of the catalogue; its executions and "
                         "the evidence it produced stay.", permission_classes=WRITE)
    async def unregister_plugin(
        self, info: Info[ArcosContext, None], input: UnregisterPluginInput
    ) -> UnregisterPluginPayload:
        context = info.context
        return await payload_of(
            catalogue.unregister(input.plugin, context.caller, context.write_context()),
            lambda removed: UnregisterPluginPayload(plugin_id=input.plugin,
                                                    removed_versions=removed, errors=[]),
            partial(UnregisterPluginPayload, plugin_id=input.plugin, removed_versions=0))

    @strawberry.mutation(description="Turn a version (or every version) on or off; turning "
                         "it on clears its failure count.", permission_classes=WRITE)
    async def set_plugin_enabled(
        self, info: Info[ArcosContext, None], input: SetPluginEnabledInput
    ) -> PluginVersionsPayload:
        context = info.context
        return await payload_of(
            catalogue.set_enabled(input.plugin, input.version, input.enabled,
                                  context.caller, context.write_context()),
            _versions, partial(PluginVersionsPayload, versions=[]))

    @strawberry.mutation(description="Run a plugin in the sandbox for you and apply its output "
                         "within your scopes.", permission_classes=EXECUTE)
    async def execute_plugin(
        self, info: Info[ArcosContext, None], input: ExecutePluginInput
    ) -> ExecutePluginPayload:
        context = info.context

        async def execute() -> execution.Execution:
            # Reading the input may refuse too (a bad project, limit or evidence filter).
            return await execution.execute(input.to_call(context), context.write_context(),
                                           host_of(context))

        return await payload_of(
            execute(),
            _executed, partial(ExecutePluginPayload, execution=None, evidence=[], metrics=[],
                               panel=None, warnings=[]))


def _versions(rows: list[PluginVersion]) -> PluginVersionsPayload:
    return PluginVersionsPayload(
        versions=[PluginVersionType.from_model(row) for row in rows], errors=[])


def _executed(done: execution.Execution) -> ExecutePluginPayload:
    applied = done.applied
    return ExecutePluginPayload(
        execution=PluginExecutionType.from_model(done.record, done.record.result),
        evidence=[EvidenceType.from_model(s.evidence, s.canonical, s.evidence.project)
                  for s in applied.evidence],
        metrics=[QualityMetricType.from_model(row) for row in applied.metrics],
        panel=applied.panel.panel if applied.panel else None,
        warnings=applied.warnings,
        errors=user_errors(Refused(done.problems)) if done.problems else [],
    )


@strawberry.type
class PluginSubscriptions:
    @strawberry.subscription(description="Each execution as it is recorded (of one plugin, or "
                             "of all).", permission_classes=READ)
    async def plugin_execution_finished(
        self,
        info: Info[ArcosContext, None],
        plugin: Annotated[str | None, strawberry.argument(metadata=PLUGIN_ID_BOUND)] = None,
    ) -> AsyncGenerator[PluginExecutionType, None]:
        context = info.context
        async with live_events(context, channel(EXECUTION_FINISHED, plugin=plugin)) as events:
            async for event in events:
                context.next_event()
                yield PluginExecutionType.from_event(event)

"""GraphQL types of the plugin domain, built from its rows and its broker events."""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from arcos.auth.permissions import requires
from arcos.evidence.canonical import canonical_json, wire_size
from arcos.evidence.loaders import EvidenceByUid
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.evidence.types import EvidenceType
from arcos.graphql.budget import charge_response
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import UserError
from arcos.graphql.metadata import column_bound
from arcos.intake.types import QualityMetricType
from arcos.plugins import models
from arcos.plugins.loaders import ExecutionResultById, VersionsByPlugin
from arcos.plugins.manifest import Permission, PluginKind
from arcos.plugins.models import ExecutionStatus, ExecutionTrigger, VersionState
from arcos.plugins.permissions import permissions
from arcos.plugins.reads import ShownPanel
from arcos.plugins.stats import PluginStats
from arcos.plugins.validation import PluginProblem
from arcos.problems import ArcosError, ErrorCode, ProblemCode

#: Bounds of string arguments compared with columns (checked by arcos.graphql.bounds).
PLUGIN_ID_BOUND = column_bound(models.PluginVersion, "plugin_id")
VERSION_BOUND = column_bound(models.PluginVersion, "version")
AUTHOR_BOUND = column_bound(models.PluginVersion, "author")
READ_EVIDENCE = [requires(EVIDENCE_READ)]
#: An execution result not read yet (None is a result).
_UNREAD: Any = object()

strawberry.enum(PluginKind, name="PluginKind", description="What a plugin does with its "
                "output: collector (evidence drafts), metric (name/value pairs), compliance "
                "(per-control results), visualization (a dashboard panel).")
strawberry.enum(Permission, name="PluginPermission",
                description="What a plugin may have the host do for it.")
strawberry.enum(VersionState, name="PluginState", description="A version's standing.")
strawberry.enum(ExecutionStatus, name="PluginExecutionStatus",
                description="How an execution ended.")
strawberry.enum(ExecutionTrigger, name="PluginExecutionTrigger",
                description="What started an execution.")


def _permissions(values: Iterable[str]) -> list[Permission]:
    return sorted(permissions(values), key=lambda p: p.value)


@strawberry.type(name="PluginTrigger", description="Runs a plugin after each new evidence "
                 "item of this type and project (either may be null: any).")
class PluginTrigger:
    event: str
    type: str | None
    project: str | None


@strawberry.type(name="PluginVersion", description="One immutable, signed version of a plugin.")
class PluginVersionType(relay.Node):
    key: relay.NodeID[str]
    plugin_id: str
    version: str
    type: PluginKind
    name: str
    description: str
    author: str
    tags: list[str]
    homepage: str | None
    entry_point: str
    manifest: JSON = strawberry.field(description="The normalised manifest that was signed.")
    code: str
    code_sha256: str = strawberry.field(description="Hex SHA-256 of `code` (UTF-8).")
    signature: str = strawberry.field(
        description="Base64 Ed25519 signature over the canonical manifest, a newline and "
        "codeSha256, by the server's plugin key."
    )
    key_id: str
    requested_permissions: list[Permission]
    approved_permissions: list[Permission]
    state: VersionState
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    latest: bool = strawberry.field(description="Whether the catalogue shows this version.")
    registered_by: str
    approved_by: str | None
    approved_at: datetime | None
    revoked_by: str | None
    revoked_at: datetime | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.PluginVersion) -> "PluginVersionType":
        manifest = row.manifest if isinstance(row.manifest, dict) else {}
        return cls(
            key=row.label, plugin_id=row.plugin_id, version=row.version,
            type=PluginKind(row.kind), name=row.name, description=row.description,
            author=row.author, tags=[str(tag) for tag in row.tags or []],
            homepage=manifest.get("homepage"), entry_point=str(manifest.get("entry_point")),
            manifest=manifest, code=row.code, code_sha256=row.code_sha256,
            signature=row.signature, key_id=row.key_id,
            requested_permissions=_permissions(row.requested_permissions),
            approved_permissions=_permissions(row.approved_permissions),
            state=VersionState(row.state), enabled=row.enabled,
            disabled_reason=row.disabled_reason, consecutive_failures=row.consecutive_failures,
            latest=row.is_latest, registered_by=row.registered_by,
            approved_by=row.approved_by, approved_at=row.approved_at, revoked_by=row.revoked_by,
            revoked_at=row.revoked_at, created_at=row.created_at,
        )

    @strawberry.field(description="The events that run this version in the background.")
    def triggers(self) -> list[PluginTrigger]:
        return [PluginTrigger(event=str(t.get("event")), type=t.get("type"),
                              project=t.get("project"))
                for t in self.manifest.get("triggers") or [] if isinstance(t, dict)]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> "list[PluginVersionType | None]":
        ids = list(node_ids)
        pairs = [i.rpartition("@") for i in ids]
        rows = {
            row.label: row for row in await models.PluginVersion.filter(
                plugin_id__in=[p[0] for p in pairs], removed_at=None)
        }
        return [cls.from_model(rows[i]) if i in rows else None for i in ids]


@strawberry.type(name="Plugin", description="A catalogue entry: a plugin as its latest "
                 "non-revoked version describes it, with every version.")
class PluginType(relay.Node):
    key: relay.NodeID[str]
    plugin_id: str
    name: str
    type: PluginKind
    description: str
    author: str
    tags: list[str]
    latest: PluginVersionType

    @classmethod
    def from_model(cls, row: models.PluginVersion) -> "PluginType":
        latest = PluginVersionType.from_model(row)
        return cls(key=row.plugin_id, plugin_id=row.plugin_id, name=latest.name, type=latest.type,
                   description=latest.description, author=latest.author, tags=latest.tags,
                   latest=latest)

    @strawberry.field(description="Every version in the catalogue, oldest registration first.")
    async def versions(self, info: Info[ArcosContext, None]) -> list[PluginVersionType]:
        rows = await VersionsByPlugin(info.context).load(self.plugin_id)
        return [PluginVersionType.from_model(row) for row in rows]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> "list[PluginType | None]":
        ids = list(node_ids)
        rows = {row.plugin_id: row for row in await models.PluginVersion.filter(
            plugin_id__in=ids, is_latest=True, removed_at=None)}
        return [cls.from_model(rows[i]) if i in rows else None for i in ids]


@strawberry.type(name="PluginEdge")
class PluginEdge:
    cursor: str
    node: PluginType


@strawberry.type(name="PluginConnection", description="One page of the catalogue.")
class PluginConnection:
    edges: list[PluginEdge]
    page_info: relay.PageInfo
    total_count: int = strawberry.field(description="Plugins matching, across all pages.")
    truncated: bool = strawberry.field(
        description="True when a search matched more plugins than it ranks (500): refine it."
    )

    @strawberry.field
    def nodes(self) -> list[PluginType]:
        return [edge.node for edge in self.edges]


@strawberry.type(name="PluginExecution", description="One run of a plugin version.")
class PluginExecutionType(relay.Node):
    uid: relay.NodeID[str]
    plugin_id: str
    version: str
    type: PluginKind
    status: ExecutionStatus
    trigger: ExecutionTrigger
    duration_ms: float
    project: str | None
    caller: str = strawberry.field(description="The principal the plugin ran for.")
    metric_count: int
    created_at: datetime
    db_id: strawberry.Private[int]
    evidence_uids: strawberry.Private[list[str]]
    result_size: strawberry.Private[int]
    #: Why it failed, as recorded; shown through `error` (guarded like `result`).
    error_text: strawberry.Private[str | None]
    #: The result in hand (a mutation's own execution); others are loaded when asked for.
    known_result: strawberry.Private[Any] = _UNREAD

    @strawberry.field(description="What the plugin returned (SUCCEEDED only). It may hold "
                      "evidence the plugin read, so another caller's result needs "
                      "evidence:read; it counts toward ARCOS_MAX_RESPONSE_BYTES.")
    async def result(self, info: Info[ArcosContext, None]) -> JSON | None:
        context = info.context
        self._check_may_read(context, "result")
        charge_response(context.settings.max_response_bytes, self.result_size)
        if self.known_result is not _UNREAD:
            return self.known_result
        return await ExecutionResultById(context).load(self.db_id)

    @strawberry.field(description="Why it did not succeed. A plugin's exception message may "
                      "quote evidence it read, so another caller's error needs evidence:read, "
                      "as its result does.")
    def error(self, info: Info[ArcosContext, None]) -> str | None:
        self._check_may_read(info.context, "error")
        return self.error_text

    def _check_may_read(self, context: ArcosContext, what: str) -> None:
        """What the plugin produced (its result, its error message) may hold evidence it
        read: its own caller sees it, anyone else needs evidence:read."""
        caller = context.caller
        if caller.name != self.caller and not caller.may(EVIDENCE_READ):
            raise ArcosError(f"the {what} of {self.caller!r}'s execution may hold evidence: "
                             "reading it needs the 'evidence:read' scope", ErrorCode.FORBIDDEN)

    @classmethod
    def from_model(
        cls, row: models.PluginExecution, result: Any = _UNREAD
    ) -> "PluginExecutionType":
        """From a row; `result` when the caller has it in hand (the row may not)."""
        return cls(
            uid=str(row.uid), plugin_id=row.plugin_id, version=row.version,
            type=PluginKind(row.kind), status=ExecutionStatus(row.status),
            trigger=ExecutionTrigger(row.trigger), duration_ms=row.duration_ms,
            error_text=row.error, result_size=row.result_size, known_result=result,
            project=row.project, caller=row.caller,
            metric_count=row.metric_count, created_at=row.created_at, db_id=row.id,
            evidence_uids=[str(uid) for uid in row.evidence_uids or []],
        )

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> "PluginExecutionType":
        return cls(
            uid=event["uid"], plugin_id=event["plugin_id"], version=event["version"],
            type=PluginKind(event["kind"]), status=ExecutionStatus(event["status"]),
            trigger=ExecutionTrigger(event["trigger"]), duration_ms=event["duration_ms"],
            error_text=event["error"], result_size=event["result_size"], project=event["project"],
            caller=event["caller"], metric_count=event["metric_count"],
            created_at=datetime.fromisoformat(event["created_at"]), db_id=event["id"],
            evidence_uids=event["evidence_uids"],
        )

    @strawberry.field(description="Evidence the host stored from this execution's output.",
                      permission_classes=READ_EVIDENCE)
    async def evidence(self, info: Info[ArcosContext, None]) -> list[EvidenceType]:
        rows = await EvidenceByUid(info.context).load_many(self.evidence_uids)
        return [EvidenceType.from_model(row) for row in rows if row is not None]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> "list[PluginExecutionType | None]":
        ids = list(node_ids)
        valid = [i for i in ids if _is_uuid(i)]
        rows = {str(row.uid): row for row in await models.PluginExecution.filter(uid__in=valid)}
        return [cls.from_model(rows[i]) if i in rows else None for i in ids]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@strawberry.type(name="PluginExecutionEdge")
class PluginExecutionEdge:
    cursor: str
    node: PluginExecutionType


@strawberry.type(name="PluginExecutionConnection", description="Executions, newest first.")
class PluginExecutionConnection:
    edges: list[PluginExecutionEdge]
    page_info: relay.PageInfo

    @strawberry.field
    def nodes(self) -> list[PluginExecutionType]:
        return [edge.node for edge in self.edges]


@strawberry.type(name="PluginPanel", description="A visualization plugin's latest panel for "
                 "a project: declarative data matching pluginPanelSchema, no markup.")
class PluginPanelType:
    plugin_id: str
    version: str
    plugin_name: str | None = strawberry.field(
        description="The name its version was registered under (null when no catalogue "
        "row names it). Written by the plugin's publisher: show it as text.")
    project: str
    execution_id: strawberry.ID = strawberry.field(
        description="Global id of the PluginExecution that drew it.")
    created_at: datetime
    title: str | None = strawberry.field(description="The panel's own title, if it set one.")
    kind: str = strawberry.field(description="The panel's chart kind (line, bar, area, "
                                 "scatter, combo, pie, gauge, table, stat, heatmap).")
    drawn: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="The panel as the plugin returned it. Up to 20 series of "
                      "1,000 values each: it counts toward ARCOS_MAX_RESPONSE_BYTES.")
    def panel(self, info: Info[ArcosContext, None]) -> JSON:
        charge_response(info.context.settings.max_response_bytes,
                        wire_size(canonical_json(self.drawn)))
        return self.drawn

    @classmethod
    def of(cls, shown: ShownPanel) -> "PluginPanelType":
        row = shown.row
        panel = row.panel if isinstance(row.panel, dict) else {}
        return cls(
            plugin_id=row.plugin_id, version=row.version, plugin_name=shown.plugin_name,
            project=row.project or "",
            execution_id=strawberry.ID(str(relay.GlobalID("PluginExecution",
                                                          str(row.execution_uid)))),
            created_at=row.created_at, title=panel.get("title"), kind=str(panel.get("kind")),
            drawn=panel,
        )


@strawberry.type(name="PluginProblem", description="One problem with a plugin's manifest or "
                 "code; code problems carry their line and column (1-based; 0: the whole source).")
class PluginProblemType:
    field: str | None
    message: str
    code: ProblemCode
    line: int | None
    column: int | None

    @classmethod
    def of(cls, problem: PluginProblem) -> "PluginProblemType":
        return cls(field=problem.field, message=problem.message, code=problem.code,
                   line=problem.line, column=problem.column)


@strawberry.type(name="PluginCount")
class PluginCount:
    key: str = strawberry.field(description="The type, state or plugin id counted.")
    count: int


@strawberry.type(name="PluginStats", description="The catalogue and its executions in numbers.")
class PluginStatsType:
    plugins_by_type: list[PluginCount]
    versions_by_state: list[PluginCount]
    executions: int = strawberry.field(description="Every execution recorded, NOT_RUN included.")
    failures: int = strawberry.field(
        description="Executions that ran and did not succeed (NOT_RUN excluded: the host never "
        "started them).")
    p50_duration_ms: float | None = strawberry.field(
        description="Median duration over the latest 10,000 executions that ran (NOT_RUN "
        "excluded).")
    p95_duration_ms: float | None = strawberry.field(
        description="95th percentile duration, over the same executions as the median.")
    top_plugins: list[PluginCount] = strawberry.field(
        description="The most executed plugins (at most 10), most first.")

    @classmethod
    def of(cls, stats: PluginStats) -> "PluginStatsType":
        return cls(
            plugins_by_type=[PluginCount(key=k, count=v)
                             for k, v in sorted(stats.plugins_by_type.items())],
            versions_by_state=[PluginCount(key=k, count=v)
                               for k, v in sorted(stats.versions_by_state.items())],
            executions=stats.executions, failures=stats.failures,
            p50_duration_ms=stats.p50_ms, p95_duration_ms=stats.p95_ms,
            top_plugins=[PluginCount(key=k, count=v) for k, v in stats.top_plugins],
        )


@strawberry.type
class RegisterPluginPayload:
    plugin: PluginVersionType | None
    problems: list[PluginProblemType] = strawberry.field(
        description="Every problem with the manifest and code, with lines and columns.")
    errors: list[UserError]


@strawberry.type
class ValidatePluginPayload:
    valid: bool
    manifest: JSON | None = strawberry.field(description="The normalised manifest, when valid.")
    problems: list[PluginProblemType]


@strawberry.type
class ApprovePluginPayload:
    plugin: PluginVersionType | None
    errors: list[UserError]


@strawberry.type
class PluginVersionsPayload:
    versions: list[PluginVersionType] = strawberry.field(description="The versions changed.")
    errors: list[UserError]


@strawberry.type
class UnregisterPluginPayload:
    plugin_id: str
    removed_versions: int
    errors: list[UserError]


@strawberry.type
class ExecutePluginPayload:
    execution: PluginExecutionType | None
    evidence: list[EvidenceType] = strawberry.field(
        description="Evidence the host stored from the output.")
    metrics: list[QualityMetricType]
    panel: JSON | None = strawberry.field(description="A visualization plugin's stored panel.")
    warnings: list[str] = strawberry.field(
        description="What the host did not store, and why (a permission the plugin or the "
        "caller lacks).")
    errors: list[UserError]

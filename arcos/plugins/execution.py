"""Running a plugin version: the checks before any fork, the call, and its record.

Before a process is forked the host checks the version's standing (revoked, waiting for
approval, disabled) and its integrity (code hash and signature), every call, so a
revocation or a tampered row takes effect on the next call. Then it gathers what the
plugin may read, runs it in the sandbox, and records the execution together with what
its output wrote, in one unit of work; a version that fails too many times in a row is
disabled by that same unit, and its error says so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from tortoise.expressions import F

from arcos.auth.caller import Caller
from arcos.evidence.canonical import canonical_json, wire_size
from arcos.evidence.models import Evidence
from arcos.evidence.scopes import EVIDENCE_WRITE
from arcos.evidence.service import EvidenceQuery
from arcos.metrics import PLUGIN_EXECUTIONS
from arcos.plugins import outputs
from arcos.plugins.events import execution_message
from arcos.plugins.host import PluginHost
from arcos.plugins.integrity import Tampered, verified_manifest
from arcos.plugins.manifest import Manifest, Permission
from arcos.plugins.models import (
    ExecutionStatus,
    ExecutionTrigger,
    PluginExecution,
    PluginVersion,
    VersionState,
)
from arcos.plugins.permissions import SCOPE_OF, permissions
from arcos.plugins.reads import find_version
from arcos.plugins.sandbox.outcome import Outcome, OutcomeStatus
from arcos.problems import NotFound, Problem, ProblemCode, Refused
from arcos.settings import env_name
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext

#: Bounds of the evidence an `evidence.read` plugin is handed per call.
MAX_INPUT_EVIDENCE = 100
MAX_INPUT_EVIDENCE_BYTES = 512 * 1024
FAILURES_SETTING = env_name("plugin_max_consecutive_failures")


@dataclass(frozen=True)
class EvidenceRead:
    """The evidence a call asks the host to read and hand to the plugin."""

    query: EvidenceQuery
    limit: int = MAX_INPUT_EVIDENCE


@dataclass(frozen=True)
class Call:
    """One request to run a plugin."""

    plugin_id: str
    version: str | None
    input: Any
    project: str | None
    caller: Caller
    evidence: EvidenceRead | None = None
    trigger: ExecutionTrigger = ExecutionTrigger.CALL
    #: The evidence item (uid) that triggered the run, handed in when it may be read.
    given_evidence: str | None = None


@dataclass
class Execution:
    """A recorded execution and what its output stored."""

    record: PluginExecution
    applied: outputs.Applied = field(default_factory=outputs.Applied)
    problems: list[Problem] = field(default_factory=list)


async def execute(call: Call, write: WriteContext, host: PluginHost) -> Execution:
    """Run `call` and record it. Raises NotFound (no such plugin), Refused (refused before
    any fork: its standing, integrity or input), or ArcosError BUSY / SANDBOX_UNAVAILABLE."""
    if not isinstance(call.input, dict):
        raise Refused.one("input", "input must be a JSON object (the plugin's one argument)",
                          ProblemCode.INVALID)
    row = await _runnable(call.plugin_id, call.version)
    manifest = _verified(row, host)
    usable = _usable(row, manifest, call.caller)
    payload = await _payload(call, usable, row)
    outcome = await host.call("execute", {
        "code": row.code, "entry_point": manifest.entry_point, "input": payload,
    })
    return await record(call, row, manifest, usable, outcome, write)


async def _runnable(plugin_id: str, version: str | None) -> PluginVersion:
    row = await find_version(plugin_id, version)
    if row is None:
        if version is None and await PluginVersion.exists(plugin_id=plugin_id, removed_at=None):
            raise Refused.one("plugin", f"{plugin_id} has no approved version yet: an admin "
                              "(or a token holding what it asks for) must approve one",
                              ProblemCode.CONFLICT)
        what = f"{plugin_id}@{version}" if version else plugin_id
        raise NotFound(f"no plugin {what} in the catalogue")
    if row.state == VersionState.REVOKED:
        raise Refused.one("plugin", f"{row.label} was revoked by {row.revoked_by} at "
                          f"{row.revoked_at:%Y-%m-%d %H:%M} UTC and no longer runs",
                          ProblemCode.CONFLICT)
    if row.state == VersionState.PENDING_APPROVAL:
        raise Refused.one("plugin", f"{row.label} waits for approval (it asks for "
                          + (", ".join(row.requested_permissions) or "nothing")
                          + "); approvePlugin it first", ProblemCode.CONFLICT)
    if not row.enabled:
        raise Refused.one("plugin", f"{row.label} is disabled: {row.disabled_reason}; "
                          "setPluginEnabled turns it back on", ProblemCode.CONFLICT)
    return row


def _verified(row: PluginVersion, host: PluginHost) -> Manifest:
    try:
        return verified_manifest(row, host.signer)
    except Tampered as tampered:
        raise Refused.one("plugin", f"{row.label} failed its integrity check ({tampered}): "
                          "it was changed outside ARCOS and will not run; register a new "
                          "version", ProblemCode.CONFLICT) from None


def _usable(row: PluginVersion, manifest: Manifest, caller: Caller) -> frozenset[Permission]:
    """Granted in the signed manifest, approved, and backed by the caller's scopes."""
    approved = permissions(row.approved_permissions)
    return frozenset(p for p in manifest.permissions
                     if p in approved and caller.may(SCOPE_OF[p]))


async def _payload(call: Call, usable: frozenset[Permission], row: PluginVersion) -> Any:
    """The plugin's one argument: the caller's input, plus the evidence it may read."""
    if call.given_evidence is not None:
        if Permission.EVIDENCE_READ not in usable:
            return call.input
        item = await Evidence.get_or_none(uid=call.given_evidence).prefetch_related("project")
        return {**call.input, "evidence": [evidence_row(item)] if item else []}
    if call.evidence is None:
        return call.input
    if Permission.EVIDENCE_READ not in usable:
        raise Refused.one("evidence", f"reading evidence takes evidence.read granted to "
                          f"{row.label}, approved, and a caller holding evidence:read",
                          ProblemCode.INVALID)
    if "evidence" in call.input:
        raise Refused.one("input.evidence", "input.evidence is where the host puts the "
                          "evidence it reads; rename that key", ProblemCode.INVALID)
    rows, complete = await read_evidence(call.evidence)
    return {**call.input, "evidence": rows, "evidence_complete": complete}


async def read_evidence(read: EvidenceRead) -> tuple[list[dict[str, Any]], bool]:
    """The newest evidence `read` selects, bounded in count and bytes, handed over oldest
    first (commit order, so the last item is the latest); and whether every matching row
    fitted."""
    limit = min(read.limit, MAX_INPUT_EVIDENCE)
    found = await read.query.apply(Evidence.all()).prefetch_related("project").order_by(
        "-seq").limit(limit + 1)
    rows, size = [], 0
    for item in found[:limit]:
        size += item.data_size + item.metadata_size
        if size > MAX_INPUT_EVIDENCE_BYTES:
            return rows[::-1], False
        rows.append(evidence_row(item))
    return rows[::-1], len(found) <= limit


def evidence_row(item: Evidence) -> dict[str, Any]:
    """One evidence item as a plugin receives it (its project prefetched): the fields of
    the GraphQL Evidence type, by the same names."""
    return {
        "id": str(item.uid), "type": item.type, "source": item.source,
        "project": item.project.slug if item.project else None,
        "commitSha": item.commit_sha, "ref": item.ref, "data": item.data,
        "metadata": item.metadata, "sha256": item.sha256,
        "createdAt": item.created_at.isoformat(),
    }


async def record(
    call: Call, row: PluginVersion, manifest: Manifest, usable: frozenset[Permission],
    outcome: Outcome, write: WriteContext,
) -> Execution:
    """Store the execution with what its output wrote, in one unit of work. An output the
    host refuses is recorded as OUTPUT_REFUSED, with nothing of it stored."""
    run = outputs.Run(
        execution_uid=uuid.uuid4(), plugin_id=row.plugin_id, version=row.version,
        kind=manifest.kind, code_sha256=row.code_sha256, project=call.project,
        caller=call.caller.name, usable=usable,
        may_draw_for_project=call.caller.kind == "plugin" or call.caller.may(EVIDENCE_WRITE),
    )

    async def work(unit: UnitOfWork) -> Execution:
        applied = outputs.Applied()
        status, error = ExecutionStatus(outcome.status.value), outcome.error
        if outcome.status is OutcomeStatus.SUCCEEDED:
            applied = await outputs.apply(run, outcome.result, write.settings, unit)
        return await store(unit, status, error, applied)

    async def refused_output(unit: UnitOfWork, *, refused: Refused) -> Execution:
        error = "the host refused the output: " + "; ".join(
            f"{p.field}: {p.message}" for p in refused.problems)
        execution = await store(unit, ExecutionStatus.OUTPUT_REFUSED, error, outputs.Applied())
        execution.problems = refused.problems
        return execution

    async def store(
        unit: UnitOfWork, status: ExecutionStatus, error: str | None, applied: outputs.Applied
    ) -> Execution:
        failed = status is not ExecutionStatus.SUCCEEDED
        result = None if failed else outcome.result
        if failed:
            error = await _count_failure(row, error, write.settings.plugin_max_consecutive_failures,
                                         unit)
        else:
            await PluginVersion.filter(id=row.id).using_db(unit.connection).update(
                consecutive_failures=0)
        record_ = await PluginExecution.create(
            uid=run.execution_uid, plugin_id=row.plugin_id, version=row.version,
            kind=manifest.kind.value, status=status, trigger=call.trigger,
            duration_ms=outcome.duration_ms, error=error,
            result=result, result_size=wire_size(canonical_json(result)),
            evidence_uids=[str(s.evidence.uid) for s in applied.evidence],
            metric_count=len(applied.metrics), project=call.project, caller=call.caller.name,
            created_at=unit.now, using_db=unit.connection,
        )
        unit.publish(execution_message(record_))
        problems = [Problem("plugin", error or status.value, ProblemCode.INVALID)] if failed \
            else []
        return Execution(record_, applied, problems)

    try:
        execution = await write.writer.run(work)
    except Refused as refused:
        execution = await write.writer.run(partial(refused_output, refused=refused))
    PLUGIN_EXECUTIONS.labels(execution.record.status.value).inc()
    return execution


async def record_not_run(
    call: Call, row: PluginVersion, reason: str, write: WriteContext
) -> PluginExecution:
    """Record a run that never reached the sandbox (a triggered run refused or dropped):
    it does not count as the plugin's failure."""

    async def work(unit: UnitOfWork) -> PluginExecution:
        record_ = await PluginExecution.create(
            plugin_id=row.plugin_id, version=row.version, kind=row.kind,
            status=ExecutionStatus.NOT_RUN, trigger=call.trigger, error=reason[:2000],
            project=call.project, caller=call.caller.name, created_at=unit.now,
            using_db=unit.connection,
        )
        unit.publish(execution_message(record_))
        return record_

    not_run = await write.writer.run(work)
    PLUGIN_EXECUTIONS.labels(ExecutionStatus.NOT_RUN.value).inc()
    return not_run


async def _count_failure(
    row: PluginVersion, error: str | None, limit: int, unit: UnitOfWork
) -> str:
    """One more failure in a row; at `limit`, the version is disabled, and the error says so."""
    await PluginVersion.filter(id=row.id).using_db(unit.connection).update(
        consecutive_failures=F("consecutive_failures") + 1)
    fresh = await PluginVersion.get(id=row.id).using_db(unit.connection)
    message = error or "the plugin failed"
    if fresh.enabled and fresh.consecutive_failures >= limit:
        reason = (f"disabled automatically after {fresh.consecutive_failures} failed "
                  f"executions in a row ({FAILURES_SETTING}={limit}); last error: {message}")
        await PluginVersion.filter(id=row.id).using_db(unit.connection).update(
            enabled=False, disabled_reason=reason[:2000])
        return f"{message} (failure {fresh.consecutive_failures} in a row: {row.label} is now "\
               "disabled; fix it and turn it on with setPluginEnabled)"
    return message


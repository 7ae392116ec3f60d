"""What the host does with a plugin's return value, per plugin type.

The plugin proposes; the host checks and applies, inside one unit of work with the
execution's own record, and only what the version was granted, approved for and the caller
may do. Evidence goes through the same insert path as `submitEvidenceBatch`, with
`source` = `plugin:<id>@<version>` and the execution in its metadata as provenance.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from arcos.evidence.drafts import IDENTIFIER, EvidenceDraft
from arcos.evidence.models import RelationKind
from arcos.evidence.service import Submission, check_drafts, draft_limits, insert_drafts, link_in
from arcos.intake.metrics import StoredMetric, metric_message, record_metrics
from arcos.plugins.manifest import Permission, PluginKind
from arcos.plugins.models import PluginPanel
from arcos.plugins.panel import panel_problems
from arcos.problems import Problem, ProblemCode, Refused
from arcos.settings import Settings
from arcos.store.unit_of_work import UnitOfWork

COMPLIANCE_STATUSES = ("pass", "fail", "partial", "not_applicable", "unknown")
MAX_CONTROLS = 500
MAX_METRICS = 200
MAX_CONTROL_LENGTH = 128
MAX_NOTE_LENGTH = 2000
MAX_LINKED_EVIDENCE = 50


@dataclass(frozen=True)
class Run:
    """The execution an output belongs to, and what it may write."""

    execution_uid: uuid.UUID
    plugin_id: str
    version: str
    kind: PluginKind
    code_sha256: str
    project: str | None
    caller: str
    #: Permissions granted in the manifest, approved, and backed by the caller's scopes.
    usable: frozenset[Permission]
    #: Whether a panel may be shown on `project`'s dashboard: every evidence:read holder
    #: sees it, so a caller must be one who may write to the project (evidence:write); a
    #: run triggered by the project's own evidence may.
    may_draw_for_project: bool = False

    @property
    def source(self) -> str:
        return f"plugin:{self.plugin_id}@{self.version}"

    def provenance(self) -> dict[str, Any]:
        return {"plugin": {
            "id": self.plugin_id, "version": self.version, "code_sha256": self.code_sha256,
            "execution": str(self.execution_uid), "caller": self.caller,
        }}


@dataclass
class Applied:
    """What the host stored from one output, and why it stored nothing where it did not."""

    evidence: list[Submission] = field(default_factory=list)
    metrics: list[StoredMetric] = field(default_factory=list)
    panel: PluginPanel | None = None
    warnings: list[str] = field(default_factory=list)


async def apply(run: Run, result: Any, settings: Settings, unit: UnitOfWork) -> Applied:
    """Check `result` for `run`'s type and store what it may; Refused (nothing stored)
    when it is malformed."""
    if run.kind is PluginKind.COLLECTOR:
        return await _collector(run, result, settings, unit)
    if run.kind is PluginKind.METRIC:
        return await _metric(run, result, settings, unit)
    if run.kind is PluginKind.COMPLIANCE:
        return await _compliance(run, result, settings, unit)
    return await _visualization(run, result, unit)


def _listed(result: Any, key: str, what: str, limit: int) -> list[Any]:
    """The list a plugin returned, bare or as `{key: [...]}`."""
    items = result.get(key) if isinstance(result, dict) else result
    if not isinstance(items, list):
        raise Refused.one("result", f"a {what} plugin returns a list, or {{\"{key}\": [...]}}",
                          ProblemCode.INVALID)
    if len(items) > limit:
        raise Refused.one("result", f"at most {limit} {key} per execution (got {len(items)})",
                          ProblemCode.LIMIT_EXCEEDED)
    return items


def _withheld(run: Run, permission: Permission, what: str) -> str:
    return (f"{what} not stored: writing them takes {permission.value} granted to "
            f"{run.plugin_id}@{run.version}, approved, and a caller holding evidence:write")


async def _collector(run: Run, result: Any, settings: Settings, unit: UnitOfWork) -> Applied:
    items = _listed(result, "evidence", "collector", settings.max_batch_items)
    drafts = [_draft(run, item, index) for index, item in enumerate(items)]
    if Permission.EVIDENCE_WRITE not in run.usable:
        return Applied(warnings=[_withheld(run, Permission.EVIDENCE_WRITE, "evidence drafts")])
    return Applied(evidence=await _store(run, drafts, settings, unit, "result.evidence"))


def _draft(run: Run, item: Any, index: int) -> EvidenceDraft:
    if not isinstance(item, dict):
        raise Refused.one(f"result.evidence.{index}", "each draft is an object: {type, data, "
                          "project?, commit_sha? (or commitSha), ref?, metadata?}",
                          ProblemCode.INVALID)
    metadata = item.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise Refused.one(f"result.evidence.{index}.metadata", "metadata must be an object",
                          ProblemCode.INVALID)
    return EvidenceDraft(
        type=item.get("type"), source="plugin", data=item.get("data"),
        project=item.get("project") or run.project,
        commit_sha=item.get("commit_sha", item.get("commitSha")),
        ref=item.get("ref"), metadata={**metadata, **run.provenance()},
    )


async def _store(
    run: Run, drafts: list[EvidenceDraft], settings: Settings, unit: UnitOfWork, where: str
) -> list[Submission]:
    """Check drafts by the evidence rules, then store them under the plugin's source (which
    no client may submit: it is set here, after the check of client-shaped sources)."""
    problems = check_drafts(drafts, draft_limits(settings), lambda index: f"{where}.{index}.")
    if problems:
        raise Refused(problems)
    for draft in drafts:
        draft.source = run.source
    return await insert_drafts(unit, drafts, run.source)


async def _metric(run: Run, result: Any, settings: Settings, unit: UnitOfWork) -> Applied:
    items = _listed(result, "metrics", "metric", MAX_METRICS)
    values: dict[str, float] = {}
    problems = []
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        value = item.get("value") if isinstance(item, dict) else None
        if not isinstance(name, str) or not IDENTIFIER.match(name):
            problems.append(Problem(f"result.metrics.{index}.name", "a metric name is 1-64 "
                                    "lower-case letters, digits, '_', '.' or '-'",
                                    ProblemCode.INVALID))
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value):
            problems.append(Problem(f"result.metrics.{index}.value", "a metric value is a "
                                    "finite number", ProblemCode.INVALID))
        else:
            values[name] = float(value)
    if problems:
        raise Refused(problems)
    if Permission.METRICS_WRITE not in run.usable:
        return Applied(warnings=[_withheld(run, Permission.METRICS_WRITE, "metric values")])
    if run.project is None:
        return Applied(warnings=["metric values not stored: name the project they belong to"])
    # The values are evidence too: the series points at it, and it names the execution.
    draft = EvidenceDraft(type="plugin_metrics", source="plugin", data={"metrics": values},
                          project=run.project, metadata=run.provenance())
    stored = await _store(run, [draft], settings, unit, "result.metrics")
    evidence = stored[0].evidence
    rows = await record_metrics(values, evidence.project_id, evidence.uid, unit.now,
                                {"source": run.source, **run.provenance()}, unit.connection)
    for row in rows:
        unit.publish(metric_message(row, run.project))
    return Applied(evidence=stored, metrics=rows)


async def _compliance(run: Run, result: Any, settings: Settings, unit: UnitOfWork) -> Applied:
    items = _listed(result, "results", "compliance", MAX_CONTROLS)
    results = [_control(item, index) for index, item in enumerate(items)]
    if Permission.EVIDENCE_WRITE not in run.usable:
        return Applied(warnings=[_withheld(run, Permission.EVIDENCE_WRITE, "compliance results")])
    summary = {status: sum(1 for r in results if r["status"] == status)
               for status in COMPLIANCE_STATUSES}
    draft = EvidenceDraft(type="compliance_check", source="plugin", project=run.project,
                          data={"results": results, "summary": summary},
                          metadata=run.provenance())
    stored = await _store(run, [draft], settings, unit, "result")
    cited = {uid for result_ in results for uid in result_["evidence_ids"]}
    for uid in sorted(cited):
        await link_in(unit, stored[0].evidence.uid, uuid.UUID(uid), RelationKind.DERIVED_FROM,
                      run.source)
    return Applied(evidence=stored)


def _control(item: Any, index: int) -> dict[str, Any]:
    where = f"result.results.{index}"
    if not isinstance(item, dict):
        raise Refused.one(where, "each result is {control, status, evidence_ids?, note?}",
                          ProblemCode.INVALID)
    control, status = item.get("control"), item.get("status")
    note, cited = item.get("note"), item.get("evidence_ids") or []
    problems = []
    if not isinstance(control, str) or not 0 < len(control) <= MAX_CONTROL_LENGTH:
        problems.append(Problem(f"{where}.control", f"control is an identifier of 1-"
                                f"{MAX_CONTROL_LENGTH} characters, e.g. NIST-800-53:AC-2",
                                ProblemCode.INVALID))
    if status not in COMPLIANCE_STATUSES:
        problems.append(Problem(f"{where}.status", "status is one of "
                                + ", ".join(COMPLIANCE_STATUSES), ProblemCode.INVALID))
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH):
        problems.append(Problem(f"{where}.note", f"note is text of at most {MAX_NOTE_LENGTH} "
                                "characters", ProblemCode.INVALID))
    if not isinstance(cited, list) or len(cited) > MAX_LINKED_EVIDENCE or not all(
            _is_uuid(uid) for uid in cited):
        problems.append(Problem(f"{where}.evidence_ids", f"evidence_ids lists at most "
                                f"{MAX_LINKED_EVIDENCE} evidence ids (UUIDs)",
                                ProblemCode.INVALID))
    if problems:
        raise Refused(problems)
    return {"control": control, "status": status, "evidence_ids": [str(c) for c in cited],
            "note": note}


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


async def _visualization(run: Run, result: Any, unit: UnitOfWork) -> Applied:
    # In a worker thread: the first check imports jsonschema (arcos/rest/body_schema.py).
    problems = await asyncio.to_thread(panel_problems, result)
    if problems:
        raise Refused([Problem("result", problem + " (see pluginPanelSchema)",
                               ProblemCode.INVALID) for problem in problems])
    if run.project is not None and not run.may_draw_for_project:
        return Applied(warnings=[
            f"panel not stored for project {run.project!r}: every reader of the project sees "
            "its panels, so drawing one takes a caller holding evidence:write"])
    panel = await PluginPanel.create(
        plugin_id=run.plugin_id, version=run.version, execution_uid=run.execution_uid,
        project=run.project, panel=result, created_at=unit.now, using_db=unit.connection,
    )
    # Only a version's newest panel for a project is ever shown: the ones it replaces go,
    # so a plugin triggered by every upload leaves one row per project, not one per upload
    # (and `latest_panels` reads a project's panels without a growing scan).
    await PluginPanel.filter(
        plugin_id=run.plugin_id, version=run.version, project=run.project, id__lt=panel.id,
    ).using_db(unit.connection).delete()
    return Applied(panel=panel)

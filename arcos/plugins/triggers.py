"""Plugins that run on new evidence (`triggers: [{event: evidence.added, type?, project?}]`).

The runner follows the outbox, not a broker subscription: what it reads has committed, in
commit order, and nothing is lost when it falls behind (a broker subscriber that lags is
cut off). Matching runs go into a bounded queue served in the background, so the write
that triggered them never waits; a run that cannot be queued, or that the sandbox cannot
take, is recorded as NOT_RUN with the reason.

A triggered run acts for nobody in particular: it holds the scopes behind the permissions
its version was approved for (approval took someone holding them), and its writes are
recorded under `plugin:<id>@<version>`. Evidence written by plugins triggers nothing, so
plugins cannot trigger each other in a loop.

A run is dispatched and executed under the id of the request that wrote its evidence
(kept in the outbox: arcos/store/outbox.py), so its log lines lead back to that write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from arcos.auth.caller import Caller
from arcos.evidence.events import EVIDENCE_ADDED
from arcos.evidence.models import Evidence
from arcos.plugins import execution
from arcos.plugins.host import PluginHost
from arcos.plugins.manifest import semver_key
from arcos.plugins.models import ExecutionTrigger, PluginVersion, VersionState
from arcos.plugins.permissions import SCOPE_OF, permissions
from arcos.problems import ArcosError, Refused
from arcos.request_id import serving
from arcos.store.outbox import StoredEvent
from arcos.store.outbox_follower import OutboxFollower
from arcos.store.write_context import WriteContext

if TYPE_CHECKING:
    from arcos.graphql.context import AppServices

logger = logging.getLogger("arcos.plugins")

#: Triggered runs waiting for the worker; past this, runs are recorded NOT_RUN.
TRIGGER_QUEUE = 64
#: How often the runner reads the outbox for new evidence.
POLL_SECONDS = 0.25
_PAGE = 200
#: The versions whose triggers are live.
TRIGGERED = {"has_triggers": True, "state": VersionState.ACTIVE, "enabled": True,
             "removed_at": None}


@dataclass(frozen=True)
class TriggeredRun:
    version_id: int
    evidence_uid: str
    evidence_type: str
    project: str | None
    request_id: str | None = None


def plugin_host(services: AppServices) -> PluginHost:
    """The plugin domain's app service: the host, with its trigger runner."""
    host = PluginHost(services)
    host.background = TriggerRunner(host)
    return host


class TriggerRunner:
    """Reads committed evidence from the outbox and runs the plugins it triggers."""

    def __init__(self, host: PluginHost) -> None:
        self.host = host
        self.queue: asyncio.Queue[TriggeredRun] = asyncio.Queue(maxsize=TRIGGER_QUEUE)
        #: Reads the evidence committed by any process, in commit order.
        self.follower = OutboxFollower(
            EVIDENCE_ADDED, self._read_evidence, poll_seconds=POLL_SECONDS,
            name="plugin-triggers", page=_PAGE, wanted=_any_triggered,
        )
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Follow evidence committed from now on (what came before ran no triggers then)."""
        await self.follower.start()
        self._serving = asyncio.create_task(self._serve(), name="plugin-trigger-runs")

    async def close(self) -> None:
        await self.follower.close()
        if self._serving is not None:
            self._serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._serving
            self._serving = None

    async def _read_evidence(self, events: list[StoredEvent]) -> None:
        """Dispatch one page of committed evidence. The follower moves past a page only
        once it is dispatched, so when one fails the next read starts from it and the
        pages before it (their runs already queued) do not run again."""
        # (The follower skips pages while no plugin has triggers: `_any_triggered`.)
        request_ids = {event.record["seq"]: event.request_id for event in events}
        items = await Evidence.filter(seq__in=list(request_ids)).prefetch_related(
            "project").only("seq", "uid", "type", "source", "project_id")
        await self._dispatch([(item, request_ids.get(item.seq))
                              for item in sorted(items, key=lambda e: e.seq)
                              if not item.source.startswith("plugin:")])

    async def _dispatch(self, items: Sequence[tuple[Evidence, str | None]]) -> None:
        """Queue the runs each item triggers (with the request id that wrote it)."""
        if not items:
            return
        versions = await _triggered_versions()
        for item, request_id in items:
            project = item.project.slug if item.project else None
            for row in versions:
                if not _matches(row, item.type, project):
                    continue
                run = TriggeredRun(row.id, str(item.uid), item.type, project, request_id)
                try:
                    self.queue.put_nowait(run)
                except asyncio.QueueFull:
                    with serving(request_id):
                        await self._not_run(
                            run, f"the trigger queue ({TRIGGER_QUEUE}) was full")

    async def _serve(self) -> None:
        while True:
            run = await self.queue.get()
            with serving(run.request_id):
                try:
                    await self._run(run)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("triggered plugin run failed unexpectedly")

    async def _run(self, run: TriggeredRun) -> None:
        row = await PluginVersion.get_or_none(id=run.version_id)
        if row is None:
            return
        call = execution.Call(
            plugin_id=row.plugin_id, version=row.version,
            input={"event": EVIDENCE_ADDED, "evidence_id": run.evidence_uid,
                   "type": run.evidence_type, "project": run.project},
            project=run.project, caller=_acting_for(row),
            trigger=ExecutionTrigger.EVIDENCE_ADDED, given_evidence=run.evidence_uid,
        )
        try:
            await execution.execute(call, self._write(call), self.host)
        except (Refused, ArcosError) as refused:
            await self._not_run(run, str(refused))

    async def _not_run(self, run: TriggeredRun, reason: str) -> None:
        row = await PluginVersion.get_or_none(id=run.version_id)
        if row is None:
            return
        call = execution.Call(plugin_id=row.plugin_id, version=row.version, input={},
                              project=run.project, caller=_acting_for(row),
                              trigger=ExecutionTrigger.EVIDENCE_ADDED)
        await execution.record_not_run(call, row, reason, self._write(call))

    def _write(self, call: execution.Call) -> WriteContext:
        services = self.host.services
        return WriteContext(call.caller.name, services.settings, services.writer,
                            services.json_threads)


async def _any_triggered() -> bool:
    """Whether some plugin version has live triggers: most servers have none, and then the
    follower skips the evidence events without reading them."""
    return await PluginVersion.exists(**TRIGGERED)


async def _triggered_versions() -> list[PluginVersion]:
    """For each plugin with triggers, the version a call without one would run."""
    rows = await PluginVersion.filter(**TRIGGERED)
    newest: dict[str, PluginVersion] = {}
    for row in rows:
        current = newest.get(row.plugin_id)
        if current is None or semver_key(row.version) > semver_key(current.version):
            newest[row.plugin_id] = row
    return list(newest.values())


def _matches(row: PluginVersion, evidence_type: str, project: str | None) -> bool:
    for trigger in (row.manifest or {}).get("triggers") or []:
        if not isinstance(trigger, dict) or trigger.get("event") != EVIDENCE_ADDED:
            continue
        if trigger.get("type") not in (None, evidence_type):
            continue
        if trigger.get("project") not in (None, project):
            continue
        return True
    return False


def _acting_for(row: PluginVersion) -> Caller:
    scopes = frozenset(SCOPE_OF[p] for p in permissions(row.approved_permissions))
    return Caller(name=f"plugin:{row.plugin_id}@{row.version}", scopes=scopes,
                  authenticated=True, kind="plugin")

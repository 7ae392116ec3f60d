"""The broker event of a finished plugin execution (`pluginExecutionFinished`)."""

from __future__ import annotations

from typing import Any

from arcos.broker import channels
from arcos.plugins.models import PluginExecution
from arcos.store.outbox import Message

#: Every finished execution is published on this topic, and narrowed per plugin id.
EXECUTION_FINISHED = "plugins.execution_finished"


def execution_message(execution: PluginExecution) -> Message:
    """What the unit of work recording an execution publishes when it commits. The result
    is left out (it may be large): subscribers read it through the execution's id."""
    return Message(
        topic=EXECUTION_FINISHED,
        event=execution_event(execution),
        key=str(execution.uid),
        channels=channels(EXECUTION_FINISHED, plugin=execution.plugin_id),
    )


def execution_event(execution: PluginExecution) -> dict[str, Any]:
    return {
        "id": execution.id,
        "uid": str(execution.uid),
        "plugin_id": execution.plugin_id,
        "version": execution.version,
        "kind": execution.kind,
        "status": execution.status.value,
        "trigger": execution.trigger.value,
        "duration_ms": execution.duration_ms,
        "result_size": execution.result_size,
        "error": execution.error,
        "evidence_uids": list(execution.evidence_uids),
        "metric_count": execution.metric_count,
        "project": execution.project,
        "caller": execution.caller,
        "created_at": execution.created_at.isoformat(),
    }

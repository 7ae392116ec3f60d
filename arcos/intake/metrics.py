"""Quality metrics from reports: the rows one upload adds to a project's time series, the
rolling build figures, and the JSON-safe broker events subscribers receive."""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arcos.broker import channel
from arcos.formats.results import BuildRecord, MetricValue, Result
from arcos.intake.findings import FindingsSummary
from arcos.intake.models import QualityMetric
from arcos.store.bulk import insert_values
from arcos.store.outbox import Message

#: How many recent builds (or deployments) the rolling build metrics cover.
BUILD_WINDOW = 20


def report_values(
    result: Result, findings: FindingsSummary | None,
    own: Mapping[str, MetricValue] | None = None,
) -> dict[str, MetricValue]:
    """The report's own metrics (`own` when already computed, e.g. by the parse worker
    before it dropped repeated findings), deployments under `deployment.*`, plus finding
    changes."""
    values = dict(own) if own is not None else result.metrics()
    if isinstance(result, BuildRecord) and result.is_deployment:
        values = {"deployment." + name.removeprefix("build."): v for name, v in values.items()}
    if findings is not None:
        values["findings.new"] = findings.new
        values["findings.fixed"] = findings.fixed
    return values


@dataclass(frozen=True, slots=True)
class StoredMetric:
    """One metric value as `record_metrics` wrote it: what an upload's answer and its
    `metrics.updated` event say about it (neither needs the row's id). A plain record: a
    Tortoise instance per value cost more to build than writing all of an upload's values."""

    project_id: int
    name: str
    value: float
    timestamp: datetime
    evidence_uid: uuid.UUID
    metadata: dict[str, Any]


async def record_metrics(
    values: Mapping[str, MetricValue],
    project_id: int,
    evidence_uid: uuid.UUID,
    timestamp: datetime,
    metadata: dict[str, Any],
    connection: Any,
) -> list[StoredMetric]:
    """Insert one row per known, finite value inside the caller's transaction."""
    # the time as a row read back holds it (the store's time zone)
    timestamp = QualityMetric._meta.fields_map["timestamp"].to_python_value(timestamp)
    rows = [
        StoredMetric(project_id, name, float(value), timestamp, evidence_uid, metadata)
        for name, value in values.items()
        if value is not None and math.isfinite(value)
    ]
    # one INSERT; the rows share one metadata dict, encoded once
    await insert_values(connection, QualityMetric, [
        {"project_id": row.project_id, "name": row.name, "value": row.value,
         "timestamp": row.timestamp, "evidence_uid": row.evidence_uid,
         "metadata": row.metadata}
        for row in rows
    ])
    return rows


async def rolling_build_values(
    record: BuildRecord, project_id: int, connection: Any
) -> dict[str, MetricValue]:
    """Success rate and mean duration over the project's last BUILD_WINDOW builds (or
    deployments), this one included; call after its own rows are inserted."""
    prefix = "deployment" if record.is_deployment else "build"
    outcomes = await _recent(f"{prefix}.succeeded", project_id, connection)
    durations = await _recent(f"{prefix}.duration_seconds", project_id, connection)
    return {
        f"{prefix}.success_rate": sum(outcomes) / len(outcomes) if outcomes else None,
        f"{prefix}.mean_duration_seconds": sum(durations) / len(durations) if durations else None,
    }


async def _recent(name: str, project_id: int, connection: Any) -> list[float]:
    rows = (
        await QualityMetric.filter(project_id=project_id, name=name)
        .using_db(connection)
        .order_by("-timestamp", "-id")
        .limit(BUILD_WINDOW)
        .values_list("value", flat=True)
    )
    return [float(value) for value in rows]


#: The topic every committed metric value is published on, narrowed per project.
METRICS_UPDATED = "metrics.updated"


def metric_message(row: StoredMetric, project_slug: str) -> Message:
    """What a writer publishes for a new metric value (small: the outbox keeps it all)."""
    return Message(
        topic=METRICS_UPDATED,
        event=metric_event(row, project_slug),
        channels=(_project_channel(project_slug),),
    )


@functools.lru_cache(maxsize=256)
def _project_channel(project_slug: str) -> str:
    """The project's metrics channel, encoded once per project rather than once per value
    (an upload publishes eight or more values of one project)."""
    return channel(METRICS_UPDATED, project=project_slug)


def metric_event(row: StoredMetric, project_slug: str) -> dict[str, Any]:
    """Everything a subscriber needs to render the metric without reading the store."""
    return {
        "project": project_slug,
        "name": row.name,
        "value": row.value,
        "timestamp": row.timestamp.isoformat(),
        "evidence_uid": str(row.evidence_uid),
        "metadata": row.metadata,
    }

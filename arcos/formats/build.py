"""ARCOS's own small build/deploy JSON to a validated BuildRecord; every problem is reported at
once so a CI author can fix the payload in one go."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from arcos.formats import json_document
from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused, ParseWarning, capped
from arcos.formats.results import BUILD_STATUSES, BuildRecord, BuildStatus

FIELDS = (
    "status", "duration_seconds", "commit", "ref", "pipeline_id", "environment", "started_at",
    "finished_at",
)
_COMMIT = re.compile(r"^[0-9a-fA-F]{7,64}$")
_MAX_TEXT = 255


def parse(content: bytes) -> BuildRecord:
    return from_document(json_document.load(content, what="build record"))


def from_document(document: Any) -> BuildRecord:
    """Validate the build JSON; 422 listing every invalid field. The documented shape:

        {"status": "success|failure|cancelled|running", "duration_seconds": 312.5,
         "commit": "<7-64 hex>", "ref": "refs/heads/main", "pipeline_id": "1234",
         "environment": "production" (deployments only),
         "started_at": "2026-11-25T10:00:00Z", "finished_at": "2026-11-25T10:05:12Z"}

    duration_seconds may be left out when both timestamps are given.
    """
    record = json_document.expect_object(document, "the build record")
    problems: list[str] = []
    warnings: list[ParseWarning] = [
        f"ignored unknown field {key[:40]!r}" for key in record if key not in FIELDS
    ]
    status = _status(record.get("status"), problems)
    commit = _text(record, "commit", problems)
    if commit is not None and not _COMMIT.match(commit):
        problems.append("commit must be a 7 to 64 character hexadecimal SHA")
    started = _timestamp(record, "started_at", problems, warnings)
    finished = _timestamp(record, "finished_at", problems, warnings)
    duration = _duration(record.get("duration_seconds"), problems)
    if started and finished:
        if finished < started:
            problems.append("finished_at is before started_at")
        elif duration is None:
            duration = (finished - started).total_seconds()
    if status == "running" and finished is not None:
        warnings.append("a running build has a finished_at; was the status sent too early?")
    pipeline = record.get("pipeline_id")
    if isinstance(pipeline, int) and not isinstance(pipeline, bool):
        pipeline = str(pipeline)
    ref = _text(record, "ref", problems)
    pipeline_id = _text({"pipeline_id": pipeline}, "pipeline_id", problems)
    environment = _text(record, "environment", problems)
    if problems or status is None:
        raise ArtifactRefused(UNPROCESSABLE, "invalid build record: " + "; ".join(problems))
    return BuildRecord(
        format="build",
        status=status,
        duration_seconds=duration,
        commit=commit.lower() if commit else None,
        ref=ref,
        pipeline_id=pipeline_id,
        environment=environment,
        started_at=started,
        finished_at=finished,
        warnings=capped(warnings),
    )


def _status(value: Any, problems: list[str]) -> BuildStatus | None:
    for status in BUILD_STATUSES:
        if value == status:
            return status
    allowed = ", ".join(BUILD_STATUSES)
    if value is None:
        problems.append(f"status is required (one of {allowed})")
    else:
        problems.append(f"status {str(value)[:40]!r} is not one of {allowed}")
    return None


def _text(record: dict[str, Any], key: str, problems: list[str]) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
        problems.append(f"{key} must be a non-empty string of at most {_MAX_TEXT} characters")
        return None
    return value.strip()


def _duration(value: Any, problems: list[str]) -> float | None:
    if value is None:
        return None
    seconds = json_document.number(value) if not isinstance(value, str) else None
    if seconds is None or seconds < 0:
        problems.append("duration_seconds must be a non-negative number")
        return None
    return seconds


def _timestamp(
    record: dict[str, Any], key: str, problems: list[str], warnings: list[ParseWarning]
) -> datetime | None:
    value = record.get(key)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        problems.append(f"{key} must be an ISO 8601 timestamp such as 2026-11-25T10:00:00Z")
        return None
    if moment.tzinfo is None:
        warnings.append(f"{key} has no timezone; UTC was assumed")
        moment = moment.replace(tzinfo=UTC)
    return moment

"""insert_values (arcos/store/bulk.py) stores what Tortoise's `create` stores. Metric values
are written through it (arcos/intake/metrics.py) without model instances, so a column it
converted differently (a time zone, a JSON encoding) would change every stored series."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from conftest import running_app
from tortoise import connections

from arcos.evidence.models import Project
from arcos.intake.models import QualityMetric
from arcos.store.bulk import insert_values


async def test_insert_values_stores_what_create_stores(settings):
    async with running_app(settings):
        project = await Project.create(slug="github.com/acme/bulk")
        # a time in another zone, and one metadata dict shared by every row, as an upload has
        when = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
        metadata = {"type": "test_results", "nested": {"n": 2**70, "text": "é\u2028"}}
        evidence_uid = uuid.uuid4()
        rows = [
            {"project_id": project.id, "name": name, "value": value, "timestamp": when,
             "evidence_uid": evidence_uid, "metadata": metadata}
            for name, value in (("tests.total", 1000.0), ("tests.pass_rate", 0.98))
        ]
        connection = connections.get("default")
        await insert_values(connection, QualityMetric, rows)
        for row in rows:
            await QualityMetric.create(**{**row, "name": "created." + row["name"]})
        stored = await connection.execute_query_dict(
            'SELECT "name", "value", "timestamp", "evidence_uid", "metadata", "project_id" '
            'FROM "quality_metric" ORDER BY "id"'
        )
        inserted, created = stored[:2], stored[2:]
        assert [row["name"] for row in inserted] == ["tests.total", "tests.pass_rate"]
        for ours, theirs in zip(inserted, created, strict=True):
            assert {**ours, "name": "created." + ours["name"]} == theirs
        read = await QualityMetric.filter(name="tests.total").get()
        assert read.metadata == metadata and read.timestamp == when.astimezone(UTC)
        await insert_values(connection, QualityMetric, [])  # nothing to write: no statement

"""Reads that fan out over the rows of a page cost one query per level, not one per row:
latestMetrics across projects, the evidence behind metrics and webhook deliveries, and
the webhook endpoints' secrets. And latestMetrics finds every series, however busy."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from conftest import running_app
from tortoise import connections

from arcos.evidence.models import Project
from arcos.intake.latest import latest_metrics
from arcos.intake.models import QualityMetric

CICD_TOKEN = "cicd-shared-token-0123456789"


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement the store runs inside the block."""
    client = connections.get("default")
    seen: list[str] = []
    originals = {name: getattr(client, name) for name in ("execute_query", "execute_query_dict")}

    def counting(original):
        async def run(query, values=None):
            seen.append(query)
            return await original(query, values)
        return run

    for name, original in originals.items():
        setattr(client, name, counting(original))
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(client, name, original)


def reading(seen: list[str], table: str) -> list[str]:
    return [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")
            and f'FROM "{table}"' in sql]


async def test_latest_metrics_finds_every_series_however_busy(app):
    """5001 newer values of one metric used to hide another's only value."""
    project = await Project.create(slug="acme/busy")
    other = await Project.create(slug="acme/other")
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def metric(owner: Project, name: str, value: float, at: datetime) -> QualityMetric:
        return QualityMetric(project_id=owner.id, name=name, value=value, timestamp=at,
                             evidence_uid=uuid.uuid4(), metadata={})

    await QualityMetric.bulk_create([metric(project, "coverage.line_rate", 0.4, start)])
    await QualityMetric.bulk_create(
        [metric(project, "tests.pass_rate", i / 10_000, start + timedelta(minutes=1 + i))
         for i in range(5001)], batch_size=1000,
    )
    tie = start + timedelta(days=30)
    await QualityMetric.bulk_create([metric(project, "build.success_rate", 0.1, tie)])
    await QualityMetric.bulk_create([metric(project, "build.success_rate", 0.9, tie)])
    await QualityMetric.bulk_create([metric(other, "coverage.line_rate", 1.0, tie)])

    with statements() as seen:
        latest = await latest_metrics([project.id])
    # One read of the metrics; the app's outbox followers may poll meanwhile (their own
    # tables), which is why the count is of this table's reads.
    assert len(reading(seen, "quality_metric")) == 1, seen
    assert [(row.name, row.value) for row in latest[project.id]] == [
        ("build.success_rate", 0.9),  # same timestamp: the later row
        ("coverage.line_rate", 0.4),
        ("tests.pass_rate", 0.5),
    ]
    only = await latest_metrics([project.id, other.id], ["coverage.line_rate"])
    assert {pid: [(r.name, r.value) for r in rows] for pid, rows in only.items()} == {
        project.id: [("coverage.line_rate", 0.4)], other.id: [("coverage.line_rate", 1.0)],
    }


async def test_a_page_of_projects_reads_metrics_and_their_evidence_once(client, gql):
    for slug in ("acme/one", "acme/two", "acme/three"):
        for status in ("failure", "success"):
            response = await client.post("/api/cicd/build", params={"project": slug},
                                         json={"status": status, "duration_seconds": 10})
            assert response.status_code == 201, response.text
    with statements() as seen:
        result = await gql("{ projects(first: 10) { nodes { slug latestMetrics { name value "
                           "evidence { id type } } } } }")
    assert "errors" not in result, result
    projects = result["data"]["projects"]["nodes"]
    assert len(projects) == 3
    assert all(
        {m["name"]: m["value"] for m in p["latestMetrics"]}["build.success_rate"] == 0.5
        and all(m["evidence"]["type"] == "build" for m in p["latestMetrics"])
        for p in projects
    ), projects
    assert len(reading(seen, "quality_metric")) == 1, reading(seen, "quality_metric")
    assert len(reading(seen, "evidence")) == 1, reading(seen, "evidence")


@pytest.fixture
async def cicd_app(settings):
    async with running_app(settings.replace(cicd_webhook_token=CICD_TOKEN)) as running:
        yield running


async def test_a_page_of_deliveries_reads_its_evidence_once(cicd_app):
    async with cicd_app.client() as anonymous:
        for number in (1, 2, 3):
            body = {"name": "app-build", "url": "job/app-build/",
                    "build": {"full_url": f"http://ci/job/app-build/{number}/",
                              "number": number, "phase": "COMPLETED", "status": "SUCCESS",
                              "scm": {"commit": "e" * 40}}}
            response = await anonymous.post(
                "/api/webhooks/cicd", content=json.dumps(body),
                headers={"content-type": "application/json",
                         "authorization": f"Bearer {CICD_TOKEN}"})
            assert response.status_code == 200, response.text
    async with cicd_app.client(cicd_app.admin_token) as admin:
        with statements() as seen:
            response = await admin.post("/graphql", json={"query": (
                "{ webhookDeliveries { nodes { evidenceIds evidence { id } } } }")})
        nodes = response.json()["data"]["webhookDeliveries"]["nodes"]
        assert len(nodes) == 3
        assert all([e["id"] for e in n["evidence"]] == n["evidenceIds"] != [] for n in nodes)
        assert len(reading(seen, "evidence")) == 1, reading(seen, "evidence")

        with statements() as seen:
            response = await admin.post("/graphql", json={"query": (
                "{ webhookEndpoints { provider secretConfigured previousSecretConfigured } }")})
        endpoints = response.json()["data"]["webhookEndpoints"]
        assert {e["provider"]: e["secretConfigured"] for e in endpoints}["cicd"] is True
        assert len(reading(seen, "webhook_secret")) == 1, reading(seen, "webhook_secret")

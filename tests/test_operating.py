"""/readyz and /metrics against real `arcos serve` processes.

/readyz must say "not ready" for the reasons a load balancer cares about (a store that does
not answer, tables missing for this code) and name them; /metrics must stay closed until a
setting opens it, and its counters must move for the traffic that actually happened while
their label sets stay bounded whatever names clients invent.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, start_server, stop_server
from prometheus_client.parser import text_string_to_metric_families
from test_webhooks import JENKINS

METRICS_TOKEN = "scrape-token-0123456789abcdef"
CICD_TOKEN = "cicd-shared-token-0123456789"


def serve(tmp_path: Path, database_url: str | None = None, **env: str) -> LiveServer:
    return start_server(database_url or f"sqlite://{tmp_path / 'arcos.db'}",
                        tmp_path / "server.log", extra_env=env)


@pytest.fixture
def metered(tmp_path: Path) -> Iterator[LiveServer]:
    """A server scrapers may read with METRICS_TOKEN, taking CI/CD webhook deliveries."""
    server = serve(tmp_path, ARCOS_METRICS_TOKEN=METRICS_TOKEN,
                   ARCOS_CICD_WEBHOOK_TOKEN=CICD_TOKEN)
    try:
        yield server
    finally:
        stop_server(server)


def scrape(server: LiveServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics, keyed by (sample name, labels)."""
    response = httpx.get(f"{server.http_url}/metrics",
                         headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.text
    assert METRICS_TOKEN not in response.text and server.token not in response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_readyz_is_ready_on_a_healthy_store_and_names_a_missing_table(tmp_path):
    server = serve(tmp_path)
    try:
        ready = httpx.get(f"{server.http_url}/readyz")
        assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
        with sqlite3.connect(tmp_path / "arcos.db") as store:
            store.execute("DROP TABLE arcos_outbox")
        ready = httpx.get(f"{server.http_url}/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "not ready"
        assert "arcos_outbox" in ready.json()["problems"]["schema"]
        # Liveness is a different question: the process still answers.
        assert httpx.get(f"{server.http_url}/healthz").status_code == 200
    finally:
        stop_server(server)


@pytest.mark.postgres
def test_readyz_is_503_naming_the_store_when_it_stops_answering(tmp_path):
    """The store refuses every connection (ALLOW_CONNECTIONS false, its sessions
    terminated): /readyz says so, within its timeout, and is ready again once it is back."""
    base = os.environ.get("ARCOS_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("ARCOS_TEST_POSTGRES_URL is not set")
    import asyncpg

    name = f"arcos_ready_{uuid.uuid4().hex[:8]}"
    admin_url = base.replace("postgres://", "postgresql://", 1)

    def admin(*statements: str) -> None:
        async def run() -> None:
            connection = await asyncpg.connect(admin_url)
            try:
                for statement in statements:
                    await connection.execute(statement)
            finally:
                await connection.close()
        asyncio.run(run())

    admin(f'CREATE DATABASE "{name}"')
    server = None
    try:
        server = serve(tmp_path, f"{base.rpartition('/')[0]}/{name}")
        assert httpx.get(f"{server.http_url}/readyz").status_code == 200
        admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
              f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
        ready = httpx.get(f"{server.http_url}/readyz", timeout=30)
        assert ready.status_code == 503, ready.text
        assert set(ready.json()["problems"]) == {"store"}
        reason = ready.json()["problems"]["store"]
        assert "store" in reason
        # The driver's own text (host, user, database) stays in the server's log.
        assert name not in reason and "postgres" not in reason.lower(), reason
        admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        assert httpx.get(f"{server.http_url}/readyz", timeout=30).status_code == 200
    finally:
        if server is not None:
            stop_server(server)
        admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true',
              f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_metrics_are_off_until_a_setting_opens_them(tmp_path):
    server = serve(tmp_path)
    try:
        closed = httpx.get(f"{server.http_url}/metrics")
        assert closed.status_code == 404
        assert "ARCOS_METRICS_TOKEN" in closed.text
        assert "ARCOS_METRICS_ALLOW_LOOPBACK" in closed.text
    finally:
        stop_server(server)
    loopback = serve(tmp_path, ARCOS_METRICS_ALLOW_LOOPBACK="true")
    try:
        opened = httpx.get(f"{loopback.http_url}/metrics")
        assert opened.status_code == 200 and "arcos_http_requests_total" in opened.text
    finally:
        stop_server(loopback)


@pytest.mark.parametrize("authorization", [
    None, "Bearer wrong-token-0123456789abcdef", f"Bearer {METRICS_TOKEN[:-1]}",
    f"Bearer {METRICS_TOKEN}x", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN.upper()}",
])
def test_metrics_refuse_a_missing_or_wrong_token(metered, authorization):
    headers = {"authorization": authorization} if authorization else {}
    refused = httpx.get(f"{metered.http_url}/metrics", headers=headers)
    assert refused.status_code == 401
    assert "ARCOS_METRICS_TOKEN" in refused.text and "arcos_" not in refused.text
    assert scrape(metered)  # the right token is served


def junit_report(tmp_path: Path) -> bytes:
    """A JUnit XML report written by pytest itself, on a two-test project."""
    project = tmp_path / "sample"
    project.mkdir()
    (project / "test_sample.py").write_text("def test_a():\n    pass\n\n\ndef test_b():\n"
                                            "    assert 1 + 1 == 2\n")
    report = project / "junit.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    f"--junitxml={report}", str(project)], cwd=project, check=True,
                   capture_output=True, timeout=120)
    return report.read_bytes()


def test_counters_move_for_graphql_rest_webhooks_and_uploads(metered, tmp_path):
    before = scrape(metered)
    with httpx.Client(base_url=metered.http_url, headers=metered.auth_headers) as http:
        query = http.post("/graphql", json={
            "query": "query EvidenceCount { evidenceConnection(first: 1) { totalCount } }",
            "operationName": "EvidenceCount"})
        assert query.status_code == 200 and "errors" not in query.json(), query.text
        wrong = http.post("/graphql", json={"query": "query Broken { nope }",
                                            "operationName": "Broken"})
        assert wrong.json()["errors"]
        upload = http.post("/api/cicd/test", content=junit_report(tmp_path),
                           params={"project": "github.com/acme/app"},
                           headers={"content-type": "application/xml"})
        assert upload.status_code == 201, upload.text
        job = http.get(f"/api/cicd/status/{upload.json()['job_id']}")
        assert job.status_code == 200, job.text
        delivery = http.post("/api/webhooks/cicd", content=json.dumps(JENKINS).encode(),
                             headers={"content-type": "application/json",
                                      "authorization": f"Bearer {CICD_TOKEN}"})
        assert delivery.status_code == 200, delivery.text
        assert http.get(f"/no/such/{uuid.uuid4()}").status_code == 404
    after = scrape(metered)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("arcos_graphql_operations_total", operation="EvidenceCount", outcome="ok") == 1
    # A name first seen on a failing operation does not get a label value of its own.
    assert moved("arcos_graphql_operations_total", operation="other",
                 outcome="GRAPHQL_VALIDATION_FAILED") == 1
    assert moved("arcos_http_requests_total", route="/graphql", method="POST",
                 status="200") == 2
    assert moved("arcos_http_requests_total", route="/api/cicd/test", method="POST",
                 status="201") == 1
    # The route template, not the job's id, is the label.
    assert moved("arcos_http_requests_total", route="/api/cicd/status/{job_id}", method="GET",
                 status="200") == 1
    assert moved("arcos_http_requests_total", route="unmatched", method="GET",
                 status="404") == 1
    assert moved("arcos_http_request_seconds_count", route="/api/cicd/test") == 1
    assert moved("arcos_ingest_jobs_total", kind="test_report", status="succeeded") == 1
    assert moved("arcos_webhook_deliveries_total", provider="cicd", outcome="processed") == 1


def test_operation_names_are_capped(tmp_path):
    server = serve(tmp_path, ARCOS_METRICS_TOKEN=METRICS_TOKEN,
                   ARCOS_METRICS_MAX_OPERATION_NAMES="50")
    try:
        with httpx.Client(base_url=server.http_url, headers=server.auth_headers) as http:
            for number in range(500):
                name = f"Adhoc{number}"
                response = http.post("/graphql", json={
                    "query": f"query {name} {{ __typename }}", "operationName": name})
                assert response.status_code == 200
        samples = scrape(server)
    finally:
        stop_server(server)
    operations = {
        dict(labels)["operation"]: count for (name, labels), count in samples.items()
        if name == "arcos_graphql_operations_total"
    }
    assert len(operations) == 51  # the first 50 names, then one shared value
    assert operations["other"] == 450


def test_failing_operations_cannot_claim_operation_name_slots():
    from arcos.metrics import GRAPHQL_OPERATIONS, OperationNames, count_operation

    names = OperationNames(limit=3)
    refused = [{"message": "sign in", "extensions": {"code": "UNAUTHENTICATED"}}]
    for number in range(10):
        count_operation(names, f"Probe{number}", refused)
    count_operation(names, "RealClient", None)
    # A known name keeps its label even where it could not claim one now.
    assert names.label("RealClient", may_claim=False) == "RealClient"
    assert names.label("Probe0", may_claim=False) == "other"
    assert GRAPHQL_OPERATIONS.labels("other", "UNAUTHENTICATED")._value.get() >= 10


async def test_a_handler_that_raises_is_timed_as_well_as_counted():
    from arcos.metrics import HTTP_LATENCY, HTTP_REQUESTS
    from arcos.web.observability import RequestMetrics

    class Route:
        path = "/raises-for-test"

    async def raising_app(scope, receive, send):
        scope["route"] = Route()
        raise RuntimeError("handler bug")

    timed = HTTP_LATENCY.labels("/raises-for-test")
    before = timed._sum.get(), sum(bucket.get() for bucket in timed._buckets)
    with pytest.raises(RuntimeError):
        await RequestMetrics(raising_app)(
            {"type": "http", "method": "GET", "path": "/x"}, None, None)
    after = timed._sum.get(), sum(bucket.get() for bucket in timed._buckets)
    assert after[1] == before[1] + 1 and after[0] > before[0]
    assert HTTP_REQUESTS.labels("/raises-for-test", "GET", "500")._value.get() == 1

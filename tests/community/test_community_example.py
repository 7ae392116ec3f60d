"""examples/community.py end to end against a live server, on a project fed with genuine
pytest and coverage.py reports."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
from conftest import REPO_ROOT, LiveServer
from templates_kit import Artifacts, template_artifacts

__all__ = ["template_artifacts"]  # the session fixture the test below takes

PROJECT = "github.com/acme/community-example"
UPLOAD = """mutation($input: ArtifactInput!) { %s(input: $input) { errors { message } } }"""


def _run_example(server: LiveServer) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "community.py"), "--url",
         server.http_url, "--project", PROJECT, "--framework", "soc2"],
        env={**os.environ, "ARCOS_TOKEN": server.token}, capture_output=True, text=True,
        timeout=120, check=False)


def test_the_community_tour_runs_twice(
    sqlite_live_server: LiveServer, template_artifacts: Artifacts
) -> None:
    for mutation, file in (("submitTestReport", "green-junit.xml"),
                           ("submitCoverageReport", "green-coverage.xml")):
        response = httpx.post(
            f"{sqlite_live_server.http_url}/graphql", headers=sqlite_live_server.auth_headers,
            json={"query": UPLOAD % mutation, "variables": {"input": {
                "content": template_artifacts.read(file), "project": PROJECT}}}, timeout=60)
        assert response.json()["data"][mutation]["errors"] == [], response.text

    first = _run_example(sqlite_live_server)
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    assert "shared pattern 'Coverage gate on every merge'" in out
    assert "imported STIX bundle: 3 objects, 3 new, 0 already known" in out
    assert f"{PROJECT} against 'Web services (example figures)'" in out
    coverage_line = next(line for line in out.splitlines()
                         if line.strip().startswith("coverage.line_rate:"))
    assert "percentile" in coverage_line, out
    assert "| CC8.1 |" in out and "coverage.line_rate = 1" in out, out

    again = _run_example(sqlite_live_server)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "imported STIX bundle: 3 objects, 0 new, 3 already known" in again.stdout

    refused = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "community.py"), "--url",
         sqlite_live_server.http_url, "--token", "arcos_" + "x" * 43],
        capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 1
    assert "ARCOS refused" in refused.stderr and "UNAUTHENTICATED" in refused.stderr

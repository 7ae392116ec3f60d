"""examples/assurance_case.py against a live server whose project was fed genuine CI
artifacts (pytest's JUnit, coverage.py XML, Bandit SARIF): it posts ARCOS's own case and
prints a status tree each line of which the evidence explains; a refused request exits 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from community.templates_kit import template_artifacts
from conftest import LiveServer

__all__ = ["template_artifacts"]  # the session fixture the test takes

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "assurance_case.py"
PROJECT = "github.com/example/arcos"


def submit(server: LiveServer, mutation: str, content: str, **extra: str) -> None:
    response = httpx.post(f"{server.http_url}/graphql", headers=server.auth_headers, json={
        "query": f"mutation($input: ArtifactInput!) {{ {mutation}(input: $input) "
                 "{ errors { message } } }",
        "variables": {"input": {"content": content, "project": PROJECT, **extra}}},
        timeout=60)
    assert response.json()["data"][mutation]["errors"] == [], response.text


def run(server: LiveServer, *arguments: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLE), "--url", server.http_url, *arguments],
        env={**os.environ, "ARCOS_TOKEN": token if token is not None else server.token},
        capture_output=True, text=True, timeout=120, check=False)


def test_example_prints_the_status_tree_of_its_own_case(live_server, template_artifacts):
    submit(live_server, "submitTestReport", template_artifacts.read("green-junit.xml"))
    submit(live_server, "submitCoverageReport", template_artifacts.read("green-coverage.xml"))
    submit(live_server, "submitSecurityScan", template_artifacts.read("green-bandit.sarif"),
           sourceRoot=str(template_artifacts.root / "green"))
    done = run(live_server, "--project", PROJECT)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("stored case ") and "(INCOMPLETE, version 1)" in lines[0]
    assert "ARCOS is fit to release: OPEN" in done.stdout  # G5 is undeveloped
    assert any(line.strip().startswith("Sn1 [SUPPORTED]") for line in lines)
    assert "tests.pass_rate = 1" in done.stdout
    assert any(line.strip().startswith("G5 [OPEN]") for line in lines)
    assert any(line.strip().startswith("C1 [context]") for line in lines)
    assert "open: G1, S1, G5" in done.stdout
    case_id = lines[0].split()[2]
    again = run(live_server, "--case", case_id)
    assert again.returncode == 0 and "stored case" not in again.stdout
    refused = run(live_server, "--project", PROJECT, token="arcos_not_a_token")
    assert refused.returncode == 1 and "401" in refused.stderr

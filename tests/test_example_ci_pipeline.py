"""examples/ci_pipeline.sh, end to end against a live server: real pytest, coverage, ruff
and bandit output posted with curl, metrics printed back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO_ROOT


@pytest.mark.skipif(shutil.which("curl") is None, reason="the example posts with curl")
def test_ci_pipeline_example_posts_every_artifact(sqlite_live_server):
    env = {
        **os.environ,
        "ARCOS_URL": sqlite_live_server.http_url,
        "ARCOS_TOKEN": sqlite_live_server.token,
        "ARCOS_TESTS": "tests/test_broker.py tests/test_settings.py",
        "PYTHON": sys.executable,
    }
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "examples" / "ci_pipeline.sh")], env=env, cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for route in ("/api/cicd/test junit.xml", "/api/cicd/test coverage.xml",
                  "/api/security/scan ruff.sarif", "/api/security/scan bandit.sarif",
                  "/api/cicd/build build.json"):
        assert route in result.stdout, result.stdout
    for metric in ("tests.total", "tests.pass_rate", "coverage.line_rate", "findings.total",
                   "build.success_rate"):
        assert metric in result.stdout, result.stdout

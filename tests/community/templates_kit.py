"""Genuine artifacts for the compliance-status tests, produced once per session by the real
tools on two tiny generated projects: `green` (every test passes, no security findings)
and `red` (a failing test, a `shell=True` call Bandit rates high). Also a CycloneDX SBOM
written by cyclonedx-py from a requirements file, and helpers that upload them.

Loaded with `pytest_plugins = ["templates_kit"]` (tests/community is put on sys.path)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TIMEOUT = 120

GREEN_MODULE = '''"""A tidy module."""


def add(a: int, b: int) -> int:
    return a + b
'''
GREEN_TESTS = '''from pkg import add


def test_add():
    assert add(1, 2) == 3


def test_add_negative():
    assert add(-1, -2) == -3
'''
RED_MODULE = '''"""A module with a shell call."""
import subprocess


def add(a, b):
    return a + b


def run(cmd):
    return subprocess.call(cmd, shell=True)
'''
RED_TESTS = '''from pkg import add


def test_add():
    assert add(1, 2) == 3


def test_wrong():
    assert add(2, 2) == 5
'''


@dataclass(frozen=True)
class Artifacts:
    root: Path

    def read(self, name: str) -> str:
        return (self.root / name).read_text()


def _run(command: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> None:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PYTEST_", "COV_", "COVERAGE_"))}
    environment.update({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    done = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    if done.returncode not in ok:
        raise RuntimeError(f"{' '.join(command[:4])} exited {done.returncode}: "
                           f"{(done.stderr or done.stdout)[-1500:]}")


def _project(root: Path, name: str, module: str, tests: str, pytest_ok: int) -> None:
    project = root / name
    (project / "pkg").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "pkg" / "__init__.py").write_text(module)
    (project / "tests" / "test_pkg.py").write_text(tests)
    (project / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    python = sys.executable
    _run([python, "-m", "coverage", "run", "--branch", "--source=pkg", "-m", "pytest", "-p",
          "no:cacheprovider", "-q", "tests", f"--junitxml={root / f'{name}-junit.xml'}"],
         project, ok=(pytest_ok,))
    _run([python, "-m", "coverage", "xml", "-o", str(root / f"{name}-coverage.xml")], project)
    _run([python, "-m", "bandit", "-q", "-r", "pkg", "--exit-zero", "-f", "sarif", "-o",
          str(root / f"{name}-bandit.sarif")], project)


@pytest.fixture(scope="session")
def template_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Artifacts:
    root = tmp_path_factory.mktemp("template-artifacts")
    _project(root, "green", GREEN_MODULE, GREEN_TESTS, 0)
    _project(root, "red", RED_MODULE, RED_TESTS, 1)
    (root / "requirements.txt").write_text("idna==3.6\nrequests==2.31.0\n")
    _run([sys.executable, "-m", "cyclonedx_py", "requirements", str(root / "requirements.txt"),
          "--of", "JSON", "-o", str(root / "sbom.json")], root)
    return Artifacts(root)


async def upload(gql: Any, mutation: str, content: str, project: str,
                 **extra: Any) -> dict[str, Any]:
    """Submit one artifact; returns the stored evidence (asserting it was accepted)."""
    body = await gql(
        f"mutation($input: ArtifactInput!) {{ {mutation}(input: $input) {{ "
        "evidence { id type } errors { field message } } }",
        {"input": {"content": content, "project": project, **extra}})
    payload = body["data"][mutation]
    assert payload["errors"] == [], payload
    return payload["evidence"]


async def feed(gql: Any, artifacts: Artifacts, name: str, project: str,
               sbom: bool) -> dict[str, str]:
    """Upload a project's test report, coverage, Bandit scan (and the SBOM): the evidence
    id of each, by evidence type."""
    ids = {}
    for mutation, file, extra in (
        ("submitTestReport", f"{name}-junit.xml", {}),
        ("submitCoverageReport", f"{name}-coverage.xml", {}),
        ("submitSecurityScan", f"{name}-bandit.sarif",
         {"sourceRoot": str(artifacts.root / name)}),
        *((("submitSbom", "sbom.json", {}),) if sbom else ()),
    ):
        evidence = await upload(gql, mutation, artifacts.read(file), project, **extra)
        ids[evidence["type"]] = evidence["id"]
    return ids

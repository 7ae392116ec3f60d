"""Fixtures for the ingest tests: genuine artifacts produced once per session by the real tools
(pytest, coverage.py, ruff, Bandit, cyclonedx-py, pip-audit, npm, Maven Surefire) run on a tiny
sample project, plus paths to the hand-written edge cases in crafted/.

Vulnerability *data* cannot be fetched here, so pip-audit and npm audit talk to a loopback stub
that serves fixture OSV records / npm advisories; the reports themselves are the tools' own.
Maven and npm are optional: their artifacts skip with the reason when the tool cannot run
offline. The Python tools are test dependencies, so their failure fails the suite.

Loaded by the test modules with `pytest_plugins = ["format_artifacts"]` rather than being a
tests/formats/conftest.py: without an __init__.py a nested conftest is imported as the module
`conftest` and would shadow tests/conftest.py for the suite's `from conftest import …`.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from arcos.formats.parse import Limits

CRAFTED = Path(__file__).parent / "crafted"
COMMAND_TIMEOUT = 120

SAMPLE_MODULE = '''"""Sample package for genuine ingest artifacts."""
import subprocess


def add(a, b):
    return a + b


def sign(x):
    if x > 0:
        return 1
    elif x < 0:
        return -1
    return 0


def run(cmd):
    return subprocess.call(cmd, shell=True)


def unused(x):
    if x:
        return "yes"
    return "no"
'''

SAMPLE_TESTS = '''import pytest

from samplepkg import add, sign


def test_add():
    assert add(1, 2) == 3


@pytest.mark.parametrize(("value", "expected"), [(5, 1), (-3, -1)])
def test_sign(value, expected):
    assert sign(value) == expected


def test_fails():
    assert add(2, 2) == 5


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert sign(0) == 1


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


def test_errors(broken):
    pass
'''
# The sample suite gives 3 passed, 1 failed, 1 error, 1 skipped and 1 xfailed.

SUREFIRE_POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>demo</groupId>
  <artifactId>demo</artifactId>
  <version>1.0</version>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <version>5.11.4</version>
      <scope>test</scope>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
      <plugin><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
      <plugin>
        <artifactId>maven-surefire-plugin</artifactId><version>3.2.5</version>
        <configuration><testFailureIgnore>true</testFailureIgnore></configuration>
      </plugin>
    </plugins>
  </build>
</project>
"""

SUREFIRE_TEST = """package demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

class CalcTest {
    static final AtomicInteger CALLS = new AtomicInteger();

    @Test
    void adds() { assertEquals(4, 2 + 2); }

    @Test
    void fails() { assertEquals(5, 2 + 2); }

    @Test
    void errors() { throw new IllegalStateException("boom"); }

    @Test
    @Disabled("not today")
    void skipped() { }

    @Test
    void flaky() { if (CALLS.incrementAndGet() == 1) { assertEquals(1, 2, "first run fails"); } }
}
"""

# A hand-written lockfile (no registry needed); npm itself writes the SBOMs and the audit.
NPM_PACKAGE = {
    "name": "demo-app", "version": "1.0.0", "license": "MIT",
    "dependencies": {"dep-a": "1.0.0", "left-pad": "1.3.0"},
}
NPM_LOCK = {
    "name": "demo-app",
    "version": "1.0.0",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {
        "": {
            "name": "demo-app", "version": "1.0.0", "license": "MIT",
            "dependencies": {"dep-a": "1.0.0", "left-pad": "1.3.0"},
        },
        "node_modules/dep-a": {
            "version": "1.0.0",
            "resolved": "https://registry.npmjs.org/dep-a/-/dep-a-1.0.0.tgz",
            "dependencies": {"minimist": "1.2.5"},
        },
        "node_modules/left-pad": {
            "version": "1.3.0",
            "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
            "license": "WTFPL",
        },
        "node_modules/minimist": {
            "version": "1.2.5",
            "resolved": "https://registry.npmjs.org/minimist/-/minimist-1.2.5.tgz",
            "license": "MIT",
        },
    },
}

# Fixture advisory data served by the stub. GHSA-xvch-5gv4-984h is the real minimist advisory;
# the left-pad one is invented (and has no CVSS, like many npm advisories).
NPM_ADVISORIES = {
    "minimist": [{
        "id": 1179, "url": "https://github.com/advisories/GHSA-xvch-5gv4-984h",
        "title": "Prototype Pollution in minimist", "severity": "critical",
        "vulnerable_versions": "<1.2.6", "cwe": ["CWE-1321"],
        "cvss": {"score": 9.8, "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
    }],
    "left-pad": [{
        "id": 9001, "url": "https://github.com/advisories/GHSA-2222-3333-4444",
        "title": "Fixture advisory for left-pad", "severity": "moderate",
        "vulnerable_versions": "<=1.3.0", "cwe": [], "cvss": {"score": 0, "vectorString": None},
    }],
}
NPM_PACKUMENTS = {
    "minimist": {"1.2.5": {}, "1.2.6": {}, "1.2.8": {}},
    "left-pad": {"1.3.0": {}},
    "dep-a": {"1.0.0": {"minimist": "1.2.5"}},
}

# Invented OSV records for invented PyPI packages. twin-lib has two records that alias the
# same CVE: they must end up as one vulnerability.
OSV_RECORDS = {
    "demo-lib": [{
        "id": "PYSEC-2099-1", "modified": "2026-01-01T00:00:00Z",
        "aliases": ["CVE-2099-1001", "GHSA-vvvv-wwww-xxxx"],
        "summary": "demo-lib evaluates untrusted input",
        "affected": [{
            "package": {"name": "demo-lib", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.4"}]}],
        }],
    }],
    "twin-lib": [
        {
            "id": "PYSEC-2099-2", "modified": "2026-01-01T00:00:00Z", "aliases": ["CVE-2099-2002"],
            "summary": "twin-lib path traversal",
            "affected": [{
                "package": {"name": "twin-lib", "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0.2"}]}],
            }],
        },
        {
            "id": "GHSA-jjjj-mmmm-pppp", "modified": "2026-01-01T00:00:00Z",
            "aliases": ["CVE-2099-2002"], "summary": "twin-lib path traversal (GHSA)",
            "affected": [{
                "package": {"name": "twin-lib", "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0.3"}]}],
            }],
        },
    ],
}
PIP_AUDIT_REQUIREMENTS = (
    "demo-lib==1.2.3\ntwin-lib==0.1\nclean-lib==2.0\n"
    "url-lib @ https://example.invalid/url-lib-1.0.tar.gz\n"
)


@dataclass
class Genuine:
    """Where each generated artifact is, and why an optional one is missing."""

    root: Path
    project: Path
    files: dict[str, Path] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        if name in self.missing:
            pytest.skip(f"{name} was not generated: {self.missing[name]}")
        return self.files[name]

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def available(self) -> dict[str, Path]:
        return {name: path for name, path in self.files.items() if name not in self.missing}

    def pytest_counts(self) -> dict[str, int]:
        """pytest's own closing line, e.g. '1 failed, 3 passed, 1 error in 0.1s', as counts."""
        closing = self.outputs["pytest"].strip().splitlines()[-1]
        counts: dict[str, int] = {}
        for number, word in re.findall(
            r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?)", closing
        ):
            counts["error" if word.startswith("error") else word] = int(number)
        return counts


class _StubHandler(BaseHTTPRequestHandler):
    """OSV /v1/query for pip-audit; npm's bulk advisory endpoint and packuments for npm."""

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        request = json.loads(body)
        if self.path == "/v1/query":
            records = OSV_RECORDS.get(request["package"]["name"], [])
            self._send({"vulns": records} if records else {})
        elif self.path.endswith("/security/advisories/bulk"):
            self._send({name: NPM_ADVISORIES[name] for name in request if name in NPM_ADVISORIES})
        else:
            self.send_error(404)

    def do_GET(self) -> None:
        name = self.path.strip("/")
        versions = NPM_PACKUMENTS.get(name)
        if versions is None:
            self.send_error(404)
            return
        self._send({
            "name": name,
            "dist-tags": {"latest": list(versions)[-1]},
            "versions": {
                version: {
                    "name": name, "version": version, "dependencies": dependencies,
                    "dist": {"tarball": f"http://127.0.0.1/{name}-{version}.tgz"},
                }
                for version, dependencies in versions.items()
            },
        })

    def _send(self, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _clean_environment() -> dict[str, str]:
    environment = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "COV_", "COVERAGE_"))
    }
    environment.update({
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1",
        "npm_config_update_notifier": "false", "npm_config_fund": "false",
    })
    return environment


def _run(command: list[str], cwd: Path, *, ok_codes: tuple[int, ...] = (0,)) -> str:
    completed = subprocess.run(
        command, cwd=cwd, env=_clean_environment(), capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT, check=False,
    )
    if completed.returncode not in ok_codes:
        raise RuntimeError(
            f"{' '.join(command[:4])} … exited {completed.returncode}: "
            f"{(completed.stderr or completed.stdout)[-1500:]}"
        )
    return completed.stdout


def _write_project(project: Path) -> None:
    (project / "samplepkg").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "samplepkg" / "__init__.py").write_text(SAMPLE_MODULE)
    (project / "tests" / "test_sample.py").write_text(SAMPLE_TESTS)
    (project / "pytest.ini").write_text("[pytest]\n")


def _python_jobs(genuine: Genuine) -> dict[str, Callable[[], None]]:
    """Generators that must work (they are test dependencies)."""
    python, project, out = sys.executable, genuine.project, genuine.root / "out"
    pytest_base = [python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests"]

    def junit() -> None:
        genuine.outputs["pytest"] = _run(
            [*pytest_base, f"--junitxml={out / 'junit-xunit2.xml'}"], project, ok_codes=(1,)
        )
        _run([*pytest_base, "-o", "junit_family=xunit1",
              f"--junitxml={out / 'junit-xunit1.xml'}"], project, ok_codes=(1,))

    def coverage() -> None:
        _run([python, "-m", "coverage", "run", "--branch", "--source=samplepkg", "-m", "pytest",
              "-p", "no:cacheprovider", "-q", "tests"], project, ok_codes=(1,))
        _run([python, "-m", "coverage", "xml", "-o", str(out / "coverage.xml")], project)
        _run([python, "-m", "coverage", "json", "-o", str(out / "coverage.json")], project)
        _run([python, "-m", "coverage", "lcov", "-o", str(out / "coverage.lcov")], project)

    def static_analysis() -> None:
        ruff = [python, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "ALL",
                "--exit-zero"]
        _run([*ruff, "--output-format=sarif", "-o", str(out / "ruff.sarif"), "samplepkg", "tests"],
             project)
        genuine.outputs["ruff-json"] = _run([*ruff, "--output-format=json", "samplepkg", "tests"],
                                            project)
        # the same project in another checkout directory, for path-stripping checks
        moved = genuine.root / "other-checkout"
        _run([*ruff, "--output-format=sarif", "-o", str(out / "ruff-moved.sarif"), "samplepkg",
              "tests"], moved)
        bandit = [python, "-m", "bandit", "-q", "-r", "samplepkg", "--exit-zero"]
        _run([*bandit, "-f", "sarif", "-o", str(out / "bandit.sarif")], project)
        genuine.outputs["bandit-json"] = _run([*bandit, "-f", "json"], project)
        # the same code shifted down two lines: line numbers change, fingerprints must not
        module = moved / "samplepkg" / "__init__.py"
        module.write_text("# shifted\n# down\n" + module.read_text())
        _run([*bandit, "-f", "sarif", "-o", str(out / "bandit-shifted.sarif")], moved)

    def sboms() -> None:
        environment = genuine.root / "tiny-env"
        _run([python, "-m", "venv", "--without-pip", str(environment)], genuine.root)
        site_packages = next(environment.glob("lib/python*/site-packages"))
        for distribution in ("defusedxml", "cvss", "packageurl-python"):
            metadata = importlib.metadata.distribution(distribution)
            info = next(
                Path(str(metadata.locate_file(entry))).parent
                for entry in metadata.files or []
                if entry.name == "METADATA" and entry.parent.name.endswith(".dist-info")
            )
            shutil.copytree(info, site_packages / info.name)
        unlicensed = site_packages / "samplepkg-0.1.0.dist-info"
        unlicensed.mkdir()
        (unlicensed / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: samplepkg\nVersion: 0.1.0\n"
        )
        (unlicensed / "INSTALLER").write_text("pip\n")
        for version in ("1.4", "1.5", "1.6"):
            _run([python, "-m", "cyclonedx_py", "environment", str(environment / "bin" / "python"),
                  "--sv", version, "--of", "JSON", "--output-reproducible",
                  "-o", str(out / f"cyclonedx-{version}.json")], genuine.root)

    return {"junit": junit, "coverage": coverage, "static": static_analysis, "sbom": sboms}


def _surefire(genuine: Genuine) -> None:
    if shutil.which("mvn") is None:
        raise RuntimeError("mvn is not installed")
    project = genuine.root / "surefire"
    (project / "src/test/java/demo").mkdir(parents=True)
    (project / "pom.xml").write_text(SUREFIRE_POM)
    (project / "src/test/java/demo/CalcTest.java").write_text(SUREFIRE_TEST)
    genuine.outputs["surefire"] = _run(
        ["mvn", "-o", "-q", "-B", "test", "-Dsurefire.rerunFailingTestsCount=1"], project,
        ok_codes=(0, 1),
    )
    report = project / "target/surefire-reports/TEST-demo.CalcTest.xml"
    if not report.exists():
        raise RuntimeError("Maven ran but wrote no Surefire report")
    shutil.copy(report, genuine.root / "out" / "surefire.xml")


def _npm(genuine: Genuine, registry: str) -> None:
    if shutil.which("npm") is None:
        raise RuntimeError("npm is not installed")
    project = genuine.root / "npm-project"
    project.mkdir()
    (project / "package.json").write_text(json.dumps(NPM_PACKAGE))
    (project / "package-lock.json").write_text(json.dumps(NPM_LOCK))
    cache = ["--cache", str(genuine.root / "npm-cache")]
    out = genuine.root / "out"
    for sbom_format, name in (("spdx", "npm.spdx.json"), ("cyclonedx", "npm.cdx.json")):
        document = _run(["npm", "sbom", "--sbom-format", sbom_format, "--package-lock-only",
                         "--offline", *cache], project)
        (out / name).write_text(document)
    audit = _run(["npm", "audit", "--json", "--package-lock-only", "--registry", registry,
                  *cache], project, ok_codes=(0, 1))
    (out / "npm-audit.json").write_text(audit)


def _pip_audit(genuine: Genuine, registry: str) -> None:
    requirements = genuine.root / "requirements.txt"
    requirements.write_text(PIP_AUDIT_REQUIREMENTS)
    out = genuine.root / "out"
    for audit_format, name in (("json", "pip-audit.json"), ("cyclonedx-json", "pip-audit.cdx.json")):
        _run([sys.executable, "-m", "pip_audit", "-r", str(requirements), "--no-deps",
              "--disable-pip", "--progress-spinner", "off", "-s", "osv",
              "--osv-url", f"{registry}v1/query", "--cache-dir", str(genuine.root / "pa-cache"),
              "-f", audit_format, "-o", str(out / name)], genuine.root, ok_codes=(0, 1))


EXPECTED_FILES = {
    "junit-xunit2": "junit-xunit2.xml", "junit-xunit1": "junit-xunit1.xml",
    "cobertura": "coverage.xml", "coverage-json": "coverage.json", "lcov": "coverage.lcov",
    "ruff": "ruff.sarif", "ruff-moved": "ruff-moved.sarif", "bandit": "bandit.sarif",
    "bandit-shifted": "bandit-shifted.sarif",
    "cyclonedx-1.4": "cyclonedx-1.4.json", "cyclonedx-1.5": "cyclonedx-1.5.json",
    "cyclonedx-1.6": "cyclonedx-1.6.json",
    "surefire": "surefire.xml",
    "npm-spdx": "npm.spdx.json", "npm-cyclonedx": "npm.cdx.json", "npm-audit": "npm-audit.json",
    "pip-audit": "pip-audit.json", "pip-audit-cyclonedx": "pip-audit.cdx.json",
}
_JOB_FILES = {
    "junit": ("junit-xunit2", "junit-xunit1"),
    "coverage": ("cobertura", "coverage-json", "lcov"),
    "static": ("ruff", "ruff-moved", "bandit", "bandit-shifted"),
    "sbom": ("cyclonedx-1.4", "cyclonedx-1.5", "cyclonedx-1.6"),
    "surefire": ("surefire",),
    "npm": ("npm-spdx", "npm-cyclonedx", "npm-audit"),
    "pip-audit": ("pip-audit", "pip-audit-cyclonedx"),
}
OPTIONAL_JOBS = ("surefire", "npm")


@pytest.fixture(scope="session")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> Genuine:
    """Run every generator once, in parallel (Maven first: it is the slowest)."""
    root = tmp_path_factory.mktemp("genuine-artifacts")
    return _generate(root)


def _generate(root: Path) -> Genuine:
    (root / "out").mkdir()
    result = Genuine(root=root, project=root / "project")
    _write_project(result.project)
    _write_project(root / "other-checkout")  # before any job runs in the first one
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    registry = f"http://127.0.0.1:{server.server_address[1]}/"
    jobs: dict[str, Callable[[], None]] = {
        "surefire": lambda: _surefire(result),
        **_python_jobs(result),
        "npm": lambda: _npm(result, registry),
        "pip-audit": lambda: _pip_audit(result, registry),
    }
    failures: dict[str, str] = {}
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {name: pool.submit(job) for name, job in jobs.items()}
            for name, future in futures.items():
                error = future.exception()
                if error is not None:
                    failures[name] = str(error)
    finally:
        server.shutdown()
        server.server_close()
    required_failures = {name: why for name, why in failures.items() if name not in OPTIONAL_JOBS}
    if required_failures:
        pytest.fail(f"a required artifact generator failed: {required_failures}")
    for job, names in _JOB_FILES.items():
        for name in names:
            result.files[name] = root / "out" / EXPECTED_FILES[name]
            if job in failures:
                result.missing[name] = failures[job]
    return result


@pytest.fixture
def ingest_limits() -> Limits:
    return Limits()


@pytest.fixture
def crafted() -> Path:
    return CRAFTED

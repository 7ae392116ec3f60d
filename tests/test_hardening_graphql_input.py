"""Issue #9: small GraphQL documents and over-long arguments must be refused cheaply.

Each attack runs against a live `arcos serve` while `HealthProbe` measures `/healthz`.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LiveServer, start_server, stop_server
from stall_probe import HealthProbe
from uvicorn.logging import AccessFormatter
from ws_client import TRANSPORT_WS, ws_connect

from arcos.log_bounds import BoundedRecords

#: Long enough for a refused request on a busy machine, far shorter than the old stalls.
REQUEST_TIMEOUT_SECONDS = 15.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server on SQLite for the whole module (anonymous reads stay off)."""
    directory: Path = tmp_path_factory.mktemp("graphql-input")
    live = start_server(f"sqlite://{directory / 'arcos.db'}", directory / "server.log")
    try:
        yield live
    finally:
        stop_server(live)


def doubling(levels: int, leaf: str = "viewer { name }", spread: str = "...F{p} ...F{p}") -> str:
    """The issue's document: F0 selects `leaf`, each Fi spreads F(i-1) twice."""
    parts = [f"query {{ ...F{levels} }}", f"fragment F0 on Query {{ {leaf} }}"]
    parts += [
        f"fragment F{i} on Query {{ {spread.format(p=i - 1)} }}" for i in range(1, levels + 1)
    ]
    return " ".join(parts)


def nested_repeats(copies: int, levels: int) -> str:
    """`relations { from { ... } }` repeated `copies` times at each of `levels` levels."""
    inner = "id"
    for _ in range(levels):
        inner = " ".join([f"relations {{ from {{ {inner} }} }}"] * copies)
    return inner


NESTED = nested_repeats(3, 4)

FRAGMENT_BOMBS = {
    # The exact documents from the issue: 20 levels took 6.6 s, 29 stalled for minutes.
    "issue-20": doubling(20),
    "issue-29": doubling(29),
    # Just under the spread cap: only remembering each fragment's cost keeps this cheap.
    "doubling-24": doubling(24),
    "aliases": doubling(24, leaf="a: viewer { name } b: viewer { scopes }"),
    "many-fields": doubling(
        22, leaf=" ".join(f"v{i}: viewer {{ name scopes }}" for i in range(12))
    ),
    "nested-inline": doubling(
        22, spread="... on Query {{ ...F{p} ... {{ ...F{p} }} }}"
    ),
    "wide-fan-out": "query { " + " ".join(["...A"] * 48) + " } fragment A on Query { "
    + " ".join(["...B"] * 2) + " } fragment B on Query { evidenceList(limit: 100) { id } }",
    "distinct-fragments": "query { " + " ".join(f"...A{i}" for i in range(120)) + " } "
    + " ".join(f"fragment A{i} on Query {{ viewer {{ name }} }}" for i in range(120)),
    # The same class without fragments: graphql-core compares repeated fields pairwise.
    "repeated-field": "{ " + "viewer { name } " * 490 + "}",
    "repeated-inline": "{ " + " ".join(["... on Query { viewer { name } }"] * 200) + " }",
    "repeated-nested": "{ evidenceList(limit: 1) { " + NESTED + " } }",
}


def refused_codes(response: httpx.Response) -> list[str]:
    assert response.status_code in (200, 400), response.text
    errors = response.json().get("errors") or []
    return [error.get("extensions", {}).get("code") for error in errors]


@pytest.mark.parametrize("name", sorted(FRAGMENT_BOMBS))
@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("anonymous", [True, False], ids=["anonymous", "token"])
def test_fragment_bombs_are_refused_without_stalling(
    server: LiveServer, name: str, method: str, anonymous: bool
) -> None:
    document = FRAGMENT_BOMBS[name]
    headers = {} if anonymous else server.auth_headers
    with httpx.Client(base_url=server.http_url, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        with HealthProbe(server.http_url) as probe:
            if method == "POST":
                response = http.post("/graphql", json={"query": document}, headers=headers)
            else:
                response = http.get("/graphql", params={"query": document}, headers=headers)
        probe.assert_responsive()
    codes = refused_codes(response)
    assert codes, response.text
    assert set(codes) <= {"QUERY_TOO_COMPLEX", "GRAPHQL_VALIDATION_FAILED"}, response.text
    assert "data" not in response.json() or response.json()["data"] is None


def test_legitimate_fragments_still_work(server: LiveServer) -> None:
    """Reused fragments within the limits are answered as before."""
    document = doubling(3)
    response = httpx.post(
        f"{server.http_url}/graphql", json={"query": document}, headers=server.auth_headers,
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["viewer"]["name"]


SUBMIT = """mutation($i: SubmitEvidenceInput!) {
  submitEvidence(input: $i) { evidence { id metadata } replayed errors { field code } } }"""


def test_graphql_replay_with_other_metadata_is_a_conflict(server: LiveServer) -> None:
    key = f"meta-{uuid.uuid4().hex}"
    base = {"type": "build", "source": "ci", "data": {"ok": True}, "idempotencyKey": key}

    def submit(metadata: dict[str, object]) -> dict:
        response = httpx.post(
            f"{server.http_url}/graphql", headers=server.auth_headers,
            json={"query": SUBMIT, "variables": {"i": {**base, "metadata": metadata}}},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        return response.json()["data"]["submitEvidence"]

    first = submit({"runner": "a", "attempt": 1})
    assert first["errors"] == [] and not first["replayed"]
    same = submit({"attempt": 1, "runner": "a"})  # key order does not matter
    assert same["replayed"] and same["evidence"]["id"] == first["evidence"]["id"]
    other = submit({"runner": "b", "attempt": 1})
    assert other["evidence"] is None
    assert other["errors"] == [{"field": "idempotencyKey", "code": "CONFLICT"}]


def test_rest_replay_with_other_metadata_is_a_conflict(server: LiveServer) -> None:
    headers = {**server.auth_headers, "Idempotency-Key": f"meta-{uuid.uuid4().hex}"}
    body = {"type": "build", "source": "ci", "data": {"ok": True}, "metadata": {"runner": "a"}}
    with httpx.Client(base_url=server.http_url, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        first = http.post("/api/v1/evidence", json=body, headers=headers)
        assert first.status_code == 201, first.text
        replay = http.post("/api/v1/evidence", json=body, headers=headers)
        assert replay.status_code in (200, 201) and replay.json()["id"] == first.json()["id"]
        other = http.post(
            "/api/v1/evidence", json={**body, "metadata": {"runner": "b"}}, headers=headers
        )
        assert other.status_code == 409, other.text
        assert other.json()["errors"][0]["extensions"]["code"] == "CONFLICT"
        without = http.post(
            "/api/v1/evidence", json={k: v for k, v in body.items() if k != "metadata"},
            headers=headers,
        )
        assert without.status_code == 409, without.text


#: (name, document, variables builder): every query argument compared with a column.
FILTER_ARGUMENTS: list[tuple[str, str, Callable[[str], dict[str, Any]]]] = [
    ("evidenceList.type", "query($v: String) { evidenceList(type: $v) { id } }",
     lambda v: {"v": v}),
    ("evidenceList.source", "query($v: String) { evidenceList(source: $v) { id } }",
     lambda v: {"v": v}),
    ("evidenceList.project", "query($v: String) { evidenceList(project: $v) { id } }",
     lambda v: {"v": v}),
    ("evidenceConnection.filter.type",
     "query($f: EvidenceFilter) { evidenceConnection(filter: $f) { totalCount } }",
     lambda v: {"f": {"type": v}}),
    ("evidenceConnection.filter.commitSha",
     "query($v: String) { evidenceConnection(filter: {commitSha: $v}) { totalCount } }",
     lambda v: {"v": v}),
    ("evidenceConnection.filter.project",
     "query($f: EvidenceFilter) { evidenceConnection(filter: $f) { totalCount } }",
     lambda v: {"f": {"project": v}}),
    ("project.slug", "query($v: String!) { project(slug: $v) { slug } }", lambda v: {"v": v}),
    ("project.evidence.filter.source",
     "query($v: String) { projects(first: 5) { nodes { "
     "evidence(first: 5, filter: {source: $v}) { totalCount } } } }",
     lambda v: {"v": v}),
    ("project.latestMetrics.names",
     "query($v: String!) { projects(first: 5) { nodes { latestMetrics(names: [$v]) { name } } } "
     "}",
     lambda v: {"v": v}),
    ("findings.project",
     "query($v: String!) { findings(project: $v) { nodes { id } } }", lambda v: {"v": v}),
    ("findings.tool",
     'query($v: String) { findings(project: "p", tool: $v) { nodes { id } } }',
     lambda v: {"v": v}),
    ("qualityMetrics.project",
     "query($v: String!) { qualityMetrics(project: $v) { name } }", lambda v: {"v": v}),
    ("qualityMetrics.names",
     'query($v: [String!]) { qualityMetrics(project: "p", names: $v) { name } }',
     lambda v: {"v": ["ok", v]}),
    ("qualityMetricSeries.project",
     "query($v: String!) { qualityMetricSeries(project: $v) { name } }", lambda v: {"v": v}),
    ("qualityMetricSeries.names",
     'query($v: [String!]) { qualityMetricSeries(project: "p", names: $v) { name } }',
     lambda v: {"v": ["ok", v]}),
    ("webhookDeliveries.event",
     "query($v: String) { webhookDeliveries(event: $v) { nodes { event } } }",
     lambda v: {"v": v}),
    ("revokeApiToken.input.token",
     "mutation($v: String!) { revokeApiToken(input: {token: $v}) { errors { code } } }",
     lambda v: {"v": v}),
]

#: Each column's limit is at most 255, so 256 characters is over every one of them.
OVER_EVERY_COLUMN = 256
#: A value near the request body limit (ARCOS_MAX_BODY_BYTES, 10 MiB).
HUGE = 9 * 1024 * 1024
#: How much one refused request may add to the server log.
LOG_GROWTH_LIMIT = 64 * 1024


@pytest.mark.parametrize("size", [65, OVER_EVERY_COLUMN, HUGE], ids=["65", "256", "9MiB"])
def test_overlong_graphql_filters_are_bad_input_and_keep_the_log_small(
    server: LiveServer, size: int
) -> None:
    value = "x" * size
    with httpx.Client(base_url=server.http_url, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        # A project to list, so nested fields (Project.evidence, latestMetrics) resolve.
        http.post("/api/v1/evidence", headers=server.auth_headers,
                  json={"type": "t", "source": "s", "data": {}, "project": "p"})
        log_before = server.log_path.stat().st_size
        with HealthProbe(server.http_url) as probe:
            for name, document, variables in FILTER_ARGUMENTS:
                response = http.post("/graphql", headers=server.auth_headers,
                                     json={"query": document, "variables": variables(value)})
                errors = response.json().get("errors") or []
                if size == 65 and name.rsplit(".", 1)[-1] in ("project", "slug", "event",
                                                             "tool", "token"):
                    # Within these columns' limits (128 to 255): an ordinary answer.
                    assert errors == [], (name, response.text[:500])
                    continue
                assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"], (
                    name, response.text[:500]
                )
                assert "limit of" in errors[0]["message"], errors[0]["message"]
                assert len(response.content) < 4096, name  # the value is not echoed back
        probe.assert_responsive()
    assert server.log_path.stat().st_size - log_before < LOG_GROWTH_LIMIT, server.log()[-2000:]


REST_FILTERS = [
    ("/api/v3/evidence", "type"), ("/api/v3/evidence", "source"),
    ("/api/v3/evidence", "project"), ("/api/v3/evidence", "commit_sha"),
    ("/api/evidence/list", "type"), ("/api/evidence/list", "source"),
    ("/api/evidence/list", "project"),
    ("/api/v3/evidence/stream", "type"), ("/api/v3/evidence/stream", "project"),
]


def raw_get(server: LiveServer, target: str) -> bytes:
    """GET `target` over a plain socket (httpx refuses URLs over 64 KiB); the status line
    of the answer, or b"" when the server closed the connection without one."""
    request = (f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: Bearer {server.token}\r\nConnection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=REQUEST_TIMEOUT_SECONDS) as sock:
        try:
            sock.sendall(request.encode())
        except OSError:
            pass  # refused mid-request: whatever it answered is still readable
        try:
            return sock.recv(4096).split(b"\r\n", 1)[0]
        except OSError:
            return b""


@pytest.mark.parametrize("size", [OVER_EVERY_COLUMN, 12 * 1024, HUGE],
                         ids=["256", "12KiB", "9MiB"])
def test_overlong_rest_filters_are_4xx_and_keep_the_log_small(
    server: LiveServer, size: int
) -> None:
    """A query string is also bounded by the HTTP parser (h11 takes about 16 KiB of request
    line and headers): past that the request is refused before ARCOS sees it."""
    value = "x" * size
    log_before = server.log_path.stat().st_size
    with HealthProbe(server.http_url) as probe:
        for path, parameter in REST_FILTERS:
            status_line = raw_get(server, f"{path}?{parameter}={value}")
            assert status_line == b"" or status_line.split()[1].startswith(b"4"), (
                path, parameter, status_line
            )
    probe.assert_responsive()
    assert server.log_path.stat().st_size - log_before < LOG_GROWTH_LIMIT, server.log()[-2000:]


def test_log_records_are_clipped_however_large_the_value() -> None:
    """Defence in depth for values that reach a message anyway (an unexpected error)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(BoundedRecords())
    logger = logging.getLogger("arcos.test.bounded")
    logger.addHandler(handler)
    try:
        huge = "y" * HUGE
        try:
            raise ValueError(f"Length of {huge!r} > 64")
        except ValueError:
            logger.error("unexpected error: %s", huge, exc_info=True)
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "unexpected error" in written and "ValueError" in written
    assert len(written) < LOG_GROWTH_LIMIT


def test_uvicorn_access_lines_are_clipped_and_still_formatted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
    handler.addFilter(BoundedRecords())
    logger = logging.getLogger("arcos.test.access")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        path = "/api/v3/evidence?type=" + "x" * HUGE
        logger.error('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", path, "1.1", 400)
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert written.startswith('127.0.0.1:1 - "GET /api/v3/evidence?type=xxx') and "400" in written
    assert len(written) < LOG_GROWTH_LIMIT


def arcos_cli(*args: str, cwd: Path, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    """`python -m arcos ARGS` in `cwd`, with no ARCOS_* variable inherited."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ARCOS_")}
    return subprocess.run(
        [sys.executable, "-m", "arcos", *args], capture_output=True, text=True, timeout=60,
        cwd=cwd, env={**environment, "PYTHONPATH": str(Path(__file__).parents[1]),
                      **(env or {})},
    )


@pytest.mark.parametrize("command", [("list",), ("create", "--name", "n", "--scope", "admin")])
def test_token_commands_refuse_a_missing_store(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = arcos_cli("token", *command, cwd=tmp_path)
    assert result.returncode == 1
    assert f"no ARCOS store at {tmp_path / 'arcos.db'}" in result.stderr
    assert "ARCOS_DATABASE_URL" in result.stderr and not (tmp_path / "arcos.db").exists()

    elsewhere = tmp_path / "elsewhere.db"
    explicit = arcos_cli("token", *command, "--database-url", f"sqlite://{elsewhere}",
                         cwd=tmp_path)
    assert explicit.returncode == 1 and "--database-url" in explicit.stderr
    assert "--create-store" in explicit.stderr and not elsewhere.exists()


def test_token_create_makes_the_store_only_when_asked(
    tmp_path: Path
) -> None:
    created = arcos_cli("token", "create", "--create-store", "--name", "first", "--scope",
                        "admin", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    listing = arcos_cli("token", "list", cwd=tmp_path)
    assert listing.returncode == 0 and "first" in listing.stdout


def test_empty_expiry_is_refused(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'arcos.db'}"
    assert arcos_cli("token", "create", "--create-store", "--name", "a", "--scope", "admin",
                     "--database-url", url, cwd=tmp_path).returncode == 0
    empty = arcos_cli("token", "create", "--name", "b", "--scope", "admin", "--expires-in", "",
                      "--database-url", url, cwd=tmp_path)
    assert empty.returncode == 1 and "is not a duration" in empty.stderr
    listing = arcos_cli("token", "list", "--database-url", url, cwd=tmp_path)
    assert " b " not in listing.stdout and "a" in listing.stdout


def test_graphql_empty_expiry_is_refused(server: LiveServer) -> None:
    response = httpx.post(
        f"{server.http_url}/graphql", headers=server.auth_headers, timeout=30,
        json={"query": 'mutation { createApiToken(input: {name: "never", scopes: ["admin"], '
                       'expiresIn: ""}) { token errors { field code } } }'},
    )
    payload = response.json()["data"]["createApiToken"]
    assert payload["token"] is None
    assert [error["field"] for error in payload["errors"]] == ["expiresIn"]


@pytest.mark.parametrize("command", [("token", "list"), ("serve",)])
def test_an_unreachable_postgres_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgres://arcos:secret@127.0.0.1:{port}/arcos"
    result = arcos_cli(*command, "--database-url", url, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("arcos")]
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
    assert f"cannot open the store postgres://arcos:***@127.0.0.1:{port}/arcos" in lines[0]
    assert "secret" not in result.stderr


def test_flag_errors_name_the_flag(tmp_path: Path) -> None:
    flag = arcos_cli("serve", "--port", "0", cwd=tmp_path)
    assert flag.returncode == 2 and "--port must be a positive number" in flag.stderr
    assert "ARCOS_PORT" not in flag.stderr
    variable = arcos_cli("serve", cwd=tmp_path, env={"ARCOS_PORT": "0"})
    assert variable.returncode == 2 and "ARCOS_PORT must be a positive number" in variable.stderr
    url = arcos_cli("token", "list", "--database-url", "mysql://x", cwd=tmp_path)
    assert url.returncode == 2 and "--database-url must start with" in url.stderr


@pytest.mark.parametrize("name", ["issue-20", "issue-29", "doubling-24", "repeated-field"])
async def test_fragment_bombs_over_websockets_are_refused(server: LiveServer, name: str) -> None:
    with HealthProbe(server.http_url) as probe:
        async with ws_connect(server.ws_url, TRANSPORT_WS, token=server.token) as client:
            await client.subscribe("bomb", FRAGMENT_BOMBS[name])
            errors = await client.expect_error("bomb", within=REQUEST_TIMEOUT_SECONDS)
    probe.assert_responsive()
    assert [error["extensions"]["code"] for error in errors] == ["QUERY_TOO_COMPLEX"], errors

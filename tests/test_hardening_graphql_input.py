"""Issue #9: small GraphQL documents and over-long arguments must be refused cheaply.

Each attack runs against a live `arcos serve` while `HealthProbe` measures `/healthz`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, start_server, stop_server
from stall_probe import HealthProbe

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
}


def probing(server: LiveServer) -> HealthProbe:
    """A probe that has answered once before the attack starts (its client takes a while
    to build on a loaded machine, longer than the probe's own start-up pause)."""
    probe = HealthProbe(server.http_url).__enter__()
    deadline = time.monotonic() + 30
    while not probe.latencies and time.monotonic() < deadline:
        time.sleep(0.01)
    return probe


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
        with probing(server) as probe:
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

"""Issue #9, the rest of "no client, with or without a token, can stall the server": large
authenticated writes, against a live `arcos serve`.

Decoding a 4 MB body, checking the item and encoding it canonically took about a second of
event-loop time per write, and a write token may burst ARCOS_WRITE_BURST writes at once.
That work now runs in the app's JSON threads, one at a time, so /healthz stays answered
while every write is stored whole.

Large webhook bodies take the same path, but have no live test here: on SQLite, what a
burst of them costs /healthz is mostly the store's single writer (each delivery keeps its
raw body), which a test could not tell from the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import httpx
import pytest
from conftest import LiveServer
from stall_probe import HealthProbe

from arcos.evidence.canonical import canonical_json
from arcos.evidence.drafts import DraftLimits, EvidenceDraft, check_draft

#: Small objects, as a test report's results are: what makes the checks' walks costly.
RESULTS = 40_000
WRITERS = 8
SUBMIT = """mutation($input: SubmitEvidenceInput!) {
  submitEvidence(input: $input) { evidence { id sha256 } errors { field message } } }"""


def large_data(writer: int) -> dict[str, Any]:
    """About 4 MB of canonical JSON, different for every writer."""
    return {
        "writer": writer,
        "results": [
            {"name": f"test_{writer}_{index}", "outcome": "passed", "seconds": index / 1000,
             "retried": False, "tags": ["unit"]}
            for index in range(RESULTS)
        ],
    }


def graphql_write(server: LiveServer, data: dict[str, Any]) -> tuple[str, bytes, dict]:
    body = {"query": SUBMIT, "variables": {"input": {"type": "test.report", "source": "ci",
                                                     "data": data}}}
    return f"{server.http_url}/graphql", json.dumps(body).encode(), server.auth_headers


def rest_write(server: LiveServer, data: dict[str, Any]) -> tuple[str, bytes, dict]:
    body = {"type": "test.report", "source": "ci", "data": data}
    return f"{server.http_url}/api/v1/evidence", json.dumps(body).encode(), server.auth_headers


async def post_all(writes: list[tuple[str, bytes, dict]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=120) as http:
        return await asyncio.gather(*(
            http.post(url, content=body,
                      headers={**headers, "content-type": "application/json"})
            for url, body, headers in writes
        ))


def stored_evidence(response: httpx.Response) -> dict[str, Any]:
    """The evidence a write answered with: GraphQL's payload, or REST's item itself."""
    assert response.status_code in (200, 201), response.text[:500]
    payload = response.json()
    if response.url.path == "/graphql":
        result = payload["data"]["submitEvidence"]
        assert result["errors"] == [], result
        return result["evidence"]
    return payload


def test_a_burst_of_large_writes_leaves_other_clients_answered(live_server: LiveServer):
    server = live_server
    datas = [large_data(writer) for writer in range(WRITERS)]
    writes = [(graphql_write if writer % 2 else rest_write)(server, data)
              for writer, data in enumerate(datas)]
    assert all(len(body) > 4_000_000 for _, body, _ in writes)

    with HealthProbe(server.http_url) as probe:
        responses = asyncio.run(post_all(writes))
    probe.assert_responsive()

    for data, response in zip(datas, responses, strict=True):
        evidence = stored_evidence(response)
        canonical = canonical_json(data)
        assert evidence["sha256"] == hashlib.sha256(canonical).hexdigest()
        # What was stored is the whole item: read it back and hash it here.
        fetched = httpx.get(f"{server.http_url}/api/v1/evidence/{evidence['id']}",
                            headers=server.auth_headers, timeout=60)
        assert fetched.status_code == 200, fetched.text[:500]
        assert canonical_json(fetched.json()["data"]) == canonical


@pytest.mark.parametrize(("data", "refused"), [
    ({"a": "x\x00"}, "NUL"),
    ({"a\x00": 1}, "NUL"),
    ({"a": "\\\x00"}, "NUL"),  # a backslash, then a NUL
    ({"a": "\\u0000"}, None),  # the six characters \u0000: storable text
    ({"a": "\ud800"}, "NUL"),
    ({"\udc00": 1}, "NUL"),
    ({"a": [float("nan")], "b": "\x00"}, "NUL"),  # the NUL is named first, as before
    ({"a": [float("inf")]}, "NaN"),
])
def test_the_one_walk_check_finds_what_the_three_walks_found(data: dict, refused: str | None):
    """NUL, lone surrogates and NaN are now found in the canonical encoding (C speed)."""
    draft = EvidenceDraft(type="t", source="s", data=data)
    errors = check_draft(draft, DraftLimits(max_json_depth=64, max_evidence_bytes=1 << 20))
    if refused is None:
        assert errors == [] and draft.canonical is not None
    else:
        assert [error.field for error in errors] == ["data"]
        assert refused in errors[0].message


def nested(depth: int, leaf: Any = 1) -> dict:
    """An object `depth` levels deep (itself the first), arrays and objects alternating."""
    value: Any = leaf
    for level in range(depth - 1):
        value = [value] if level % 2 else {"k": value}
    return {"k": value}


@pytest.mark.parametrize(("data", "field", "refused"), [
    (nested(8), None, None),
    (nested(9), "data", "nested 9 levels deep; the limit is 8"),
    (nested(2000), "data", "nested 9 levels deep"),  # deeper than the encoder goes
    ({"a": "{[" * 40}, None, None),  # brackets in strings: counted, then walked
    (nested(9, float("nan")), "data", "nested 9 levels deep"),  # depth before NaN
    (nested(8, float("nan")), "data", "NaN"),
])
def test_the_depth_limit_holds_when_the_text_decides_the_walk(
    data: dict, field: str | None, refused: str | None
):
    """The depth walk runs only for a canonical text with more '{' and '[' than the limit;
    every value deeper than the limit is still refused, and first."""
    draft = EvidenceDraft(type="t", source="s", data=data)
    errors = check_draft(draft, DraftLimits(max_json_depth=8, max_evidence_bytes=1 << 20))
    assert [error.field for error in errors] == ([] if field is None else [field])
    if refused is not None:
        assert refused in errors[0].message


@pytest.mark.parametrize(("fields", "named"), [
    ({"ref": "refs/heads/\x00"}, "ref"),
    ({"type": "t\ud800"}, "type"),
    ({"idempotency_key": "k\ud800", "type": "t\x00"}, "type"),  # the first field, as before
    ({"project": "github.com/a/b", "metadata": {"\udc00": 1}}, "metadata"),
    ({"commit_sha": "abcdef1", "ref": "main"}, None),
])
def test_unstorable_text_is_named_in_field_order(fields: dict, named: str | None):
    draft = EvidenceDraft(**{"type": "t", "source": "s", "data": {}, **fields})
    errors = check_draft(draft, DraftLimits(max_json_depth=8, max_evidence_bytes=1 << 20))
    if named is None:
        assert errors == []
    else:
        assert [error.field for error in errors] == [named]
        assert "NUL character or a lone UTF-16 surrogate" in errors[0].message

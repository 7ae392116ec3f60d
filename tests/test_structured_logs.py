"""Request ids and JSON logs (arcos/request_id.py, arcos/web/request_ids.py,
arcos/log_config.py).

A request's id must reach every log line the request causes, from uvicorn's access line
to GraphQL and the store's commit, and come back in `X-Request-ID` on every answer; a
client-chosen id is taken only when it is a short plain token (it is echoed and logged);
and no token or secret reaches the log, whatever the format.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LiveServer, RunningApp, start_server, stop_server

from arcos.log_config import MASK, MaskCredentials
from arcos.request_id import request_id_from

SUBMIT = """mutation Submit($i: SubmitEvidenceInput!) {
  submitEvidence(input: $i) { evidence { id } errors { code } } }"""
SUBMIT_VARIABLES = {"i": {"type": "build", "source": "jenkins", "data": {"ok": True}}}
METRICS_TOKEN = "metrics-secret-0123456789abcdef"
UNKNOWN_TOKEN = "arcos_" + "Q" * 43


@pytest.mark.parametrize("given", [
    "abc123", "0f8fe7b1c7c54dd0a1b5ad7c2d36e0e1", "req-1.2:3/4+5=", "a" * 128,
])
def test_a_sane_client_id_is_kept(given: str) -> None:
    assert request_id_from(given) == given


@pytest.mark.parametrize("given", [
    None, "", "two words", "line\nbreak", "tab\there", "a" * 129, "x" * 10_000, "-leading",
    "quote\"d", "<script>", "\u00e9t\u00e9",
])
def test_anything_else_is_replaced_by_a_generated_id(given: str | None) -> None:
    chosen = request_id_from(given)
    assert chosen != given
    assert len(chosen) == 32 and chosen.isalnum()


async def test_every_answer_carries_the_request_id_refusals_included(app: RunningApp) -> None:
    async with app.client(app.admin_token) as client, app.client("arcos_bad") as bad:
        ok = await client.post("/graphql", json={"query": "{ viewer { name } }"},
                               headers={"X-Request-ID": "given-1"})
        assert ok.status_code == 200 and ok.headers["x-request-id"] == "given-1"
        refusals = [
            await bad.post("/graphql", json={"query": "{ viewer { name } }"},
                           headers={"X-Request-ID": "given-2"}),  # 401
            await client.get("/no/such/route", headers={"X-Request-ID": "given-3"}),  # 404
            await client.post("/graphql", content=b"x", headers={
                "X-Request-ID": "given-4", "Content-Type": "text/plain"}),  # 415
            await client.post("/api/v1/evidence", content=b"{", headers={
                "X-Request-ID": "given-5", "Content-Type": "application/json"}),  # 400
        ]
        assert [r.status_code for r in refusals] == [401, 404, 415, 400]
        assert [r.headers["x-request-id"] for r in refusals] == [
            "given-2", "given-3", "given-4", "given-5"]
        generated = await client.get("/healthz")
        assert len(generated.headers["x-request-id"]) == 32
        hostile = await client.get("/healthz", headers={"X-Request-ID": "x" * 10_000})
        assert len(hostile.headers["x-request-id"]) == 32


def test_masking_catches_tokens_in_messages_paths_and_tracebacks() -> None:
    masking = MaskCredentials(secrets=(METRICS_TOKEN,))
    record = logging.LogRecord(
        "t", logging.WARNING, __file__, 1, "auth failed for %s with %s", (UNKNOWN_TOKEN, {}),
        None,
    )
    record.exc_text = f"Traceback ...\nValueError: Authorization: Bearer {METRICS_TOKEN}x"
    masking.filter(record)
    text = record.getMessage() + record.exc_text
    assert UNKNOWN_TOKEN not in text and METRICS_TOKEN not in text
    assert masking.mask("GET /x?a=1&access_token=abc&b=2") == f"GET /x?a=1&access_token={MASK}&b=2"
    assert masking.mask("Authorization: Basic dXNlcjpwYXNzd29yZA==") == (
        f"Authorization: Basic {MASK}")
    assert masking.mask("the token was revoked") == "the token was revoked"


def test_masking_reaches_arguments_that_are_not_strings() -> None:
    """An exception (or any object) passed as an argument carries its text into the line."""
    masking = MaskCredentials()
    record = logging.LogRecord(
        "t", logging.WARNING, __file__, 1, "call failed (%s) after %d tries, %.1f s",
        (ValueError(f"Authorization: Bearer {UNKNOWN_TOKEN}"), 3, 0.25), None,
    )
    masking.filter(record)
    assert UNKNOWN_TOKEN not in record.getMessage()
    assert record.getMessage().endswith("after 3 tries, 0.2 s")


@pytest.fixture
def json_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(f"sqlite://{tmp_path / 'arcos.db'}", tmp_path / "server.log",
                          extra_env={"ARCOS_LOG_FORMAT": "json", "ARCOS_LOG_LEVEL": "debug",
                                     "ARCOS_METRICS_TOKEN": METRICS_TOKEN})
    try:
        yield server
    finally:
        stop_server(server)


def _json_lines(server: LiveServer) -> list[dict[str, Any]]:
    stop_server(server)  # every line flushed
    return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]


async def _raw_get(port: int, request_id: bytes) -> bytes:
    """GET /healthz with an X-Request-ID no HTTP client library would send."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-ID: " + request_id
                 + b"\r\nConnection: close\r\n\r\n")
    answer = await reader.read()
    writer.close()
    return answer


def test_json_logs_follow_a_request_through_the_layers(json_server: LiveServer) -> None:
    server = json_server
    with httpx.Client(base_url=server.http_url, timeout=30) as http:
        written = http.post("/graphql", json={"query": SUBMIT, "variables": SUBMIT_VARIABLES},
                            headers={**server.auth_headers, "X-Request-ID": "trace-42"})
        assert written.status_code == 200 and not written.json().get("errors")
        assert written.headers["x-request-id"] == "trace-42"
        refused = http.post("/graphql", json={"query": "{ viewer { name } }"},
                            headers={"Authorization": f"Bearer {UNKNOWN_TOKEN}",
                                     "X-Request-ID": "trace-43"})
        assert refused.status_code == 401 and refused.headers["x-request-id"] == "trace-43"
        leaky = http.get(f"/healthz?token={UNKNOWN_TOKEN}&access_token=hunter2hunter2",
                         headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert leaky.status_code == 200
        long_id = http.get("/healthz", headers={"X-Request-ID": "L" * 10_000})
        assert long_id.headers["x-request-id"] != "L" * 10_000
    answer = asyncio.run(_raw_get(server.port, b"evil\nINJECTED"))
    assert answer.startswith(b"HTTP/1.1 ") and b"INJECTED" not in answer.split(b"\r\n\r\n")[0]

    lines = _json_lines(server)
    assert lines, server.log()
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id"} <= line.keys()
    traced = [line for line in lines if line["request_id"] == "trace-42"]
    loggers = {line["logger"] for line in traced}
    # The HTTP access line, GraphQL execution and the store's commit, all under the id.
    assert {"uvicorn.access", "arcos.graphql", "arcos.store"} <= loggers, traced
    access = next(line for line in traced if line["logger"] == "uvicorn.access")
    assert access["method"] == "POST" and access["path"] == "/graphql"
    assert access["status"] == 200
    # A failed authentication is logged (with its reason) under its request's id.
    assert any(line["logger"] == "arcos.auth" for line in lines
               if line["request_id"] == "trace-43")

    log = server.log()
    for secret in (UNKNOWN_TOKEN, METRICS_TOKEN, "hunter2hunter2", server.token):
        assert secret not in log
    assert "L" * 200 not in log
    assert "INJECTED" not in log

"""A threat meets a project's SBOM: a genuine cyclonedx-py SBOM of a tiny environment, a
threat naming one of its packages, `affectedProjects`, and `threatMatched` over a live
server's websocket firing for a new threat and for a new SBOM — never for a reader who may
not see the threat."""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LiveServer
from threats_kit import DISTRIBUTION, genuine_sbom
from ws_client import TIMEOUT, TRANSPORT_WS, ws_connect

PROJECT = "github.com/acme/threatened"
SUBSCRIBE = """subscription($p: String!) { threatMatched(project: $p) {
  cause threat { title tlp } matches { project package component version } } }"""
SBOM = """mutation($i: ArtifactInput!) { submitSbom(input: $i) { errors { message } } }"""
SHARE = """mutation($i: ShareThreatInput!) { shareThreat(input: $i) {
  threat { id affectedProjects { project component version } } errors { message } } }"""


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        yield client


async def call(http: httpx.AsyncClient, server: LiveServer, token: str, query: str,
               variables: dict[str, Any]) -> dict[str, Any]:
    answer = await http.post(f"{server.http_url}/graphql", json={
        "query": query, "variables": variables}, headers={"authorization": f"Bearer {token}"})
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]


async def token(http: httpx.AsyncClient, server: LiveServer, name: str, *scopes: str) -> str:
    data = await call(http, server, server.token, "mutation($i: CreateApiTokenInput!) { "
                      "createApiToken(input: $i) { token } }",
                      {"i": {"name": name, "scopes": list(scopes)}})
    return data["createApiToken"]["token"]


def threat(tlp: str, versions: str) -> dict[str, Any]:
    return {"title": f"defusedxml {tlp}", "kind": "VULNERABILITY", "severity": "HIGH",
            "tlp": tlp, "affectedComponents": [{"package": f"pkg:pypi/{DISTRIBUTION}",
                                                "versions": versions}]}


async def test_new_threat_and_new_sbom_fire_threat_matched(
    live_server: LiveServer, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    server = live_server
    version = importlib.metadata.version(DISTRIBUTION)
    sbom = genuine_sbom(tmp_path)
    assert f"pkg:pypi/{DISTRIBUTION}@{version}" in sbom
    sharer = await token(http, server, "sharer", "community:read", "community:write",
                         "evidence:read", "evidence:write")
    watcher = await token(http, server, "watcher", "community:read", "evidence:read")
    first = await call(http, server, sharer, SBOM, {"i": {"content": sbom, "project": PROJECT}})
    assert first["submitSbom"]["errors"] == []

    async with ws_connect(server.ws_url, TRANSPORT_WS, token=watcher) as ws:
        await ws.subscribe("m", SUBSCRIBE, {"p": PROJECT})
        # a private (AMBER+STRICT) match is not for the watcher; an out-of-range one is none
        await call(http, server, sharer, SHARE, {"i": threat("AMBER_STRICT", ">=0")})
        await call(http, server, sharer, SHARE, {"i": threat("GREEN", f">{version}")})
        shared = await call(http, server, sharer, SHARE,
                            {"i": threat("GREEN", f">=0.1,<={version}")})
        assert shared["shareThreat"]["threat"]["affectedProjects"] == [
            {"project": PROJECT, "component": DISTRIBUTION, "version": version}]
        event = (await ws.next_payload("m"))["data"]["threatMatched"]
        assert event["cause"] == "threat" and event["threat"]["tlp"] == "GREEN"
        assert event["threat"]["title"] == "defusedxml GREEN"
        assert event["matches"][0]["version"] == version

        again = await call(http, server, sharer, SBOM, {"i": {"content": sbom,
                                                              "project": PROJECT}})
        assert again["submitSbom"]["errors"] == []
        event = (await ws.next_payload("m"))["data"]["threatMatched"]
        assert event["cause"] == "sbom" and event["threat"]["tlp"] == "GREEN"
        await ws.expect_silence(0.5)  # neither the strict nor the out-of-range threat


async def test_threat_matched_needs_evidence_read(
    sqlite_live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    reader = await token(http, sqlite_live_server, "reader", "community:read")
    async with ws_connect(sqlite_live_server.ws_url, TRANSPORT_WS, token=reader) as ws:
        await ws.subscribe("m", SUBSCRIBE, {"p": PROJECT})
        payload = await ws.next_payload("m")
        assert payload["data"] is None
        assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "evidence:read" in json.dumps(payload["errors"])

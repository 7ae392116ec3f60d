"""A threat meets a project's SBOM: a genuine cyclonedx-py SBOM of a tiny environment, a
threat naming one of its packages, `affectedProjects`, and `threatMatched` over a live
server's websocket firing for a new threat and for a new SBOM — never for a reader who may
not see the threat."""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import GraphQLClient, LiveServer
from threats_kit import DISTRIBUTION, genuine_sbom
from ws_client import TIMEOUT, TRANSPORT_WS, ws_connect

from arcos.auth.transport import caller_from_authorization
from arcos.community import threats_events
from arcos.graphql.context import ArcosContext

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


def cyclonedx(*components: tuple[str, str]) -> str:
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                       "components": [{"type": "library", "name": name, "version": version,
                                       "purl": f"pkg:pypi/{name}@{version}"}
                                      for name, version in components]})


async def test_a_threat_is_matched_once_and_reaches_only_its_projects_subscribers(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The projects a threat affects are found once, by the writer, and the event goes out
    on each one's channel: a subscriber of another project never hears of it, and however
    many subscribe, no SBOM is read again per subscriber."""
    calls: list[str] = []
    affected = threats_events.affected_projects

    async def counted(threat: Any) -> Any:
        calls.append(threat.title)
        return await affected(threat)

    monkeypatch.setattr(threats_events, "affected_projects", counted)
    first, second = "github.com/acme/first", "github.com/acme/second"
    async with app.client(app.admin_token) as client:
        gql = GraphQLClient(client)
        for project, component in ((first, ("requests", "1.0")), (second, ("idna", "3.0"))):
            body = await gql(SBOM, {"i": {"content": cyclonedx(component), "project": project}})
            assert body["data"]["submitSbom"]["errors"] == [], body
        state = app.app.state
        caller = await caller_from_authorization(f"Bearer {app.admin_token}", False)
        streams = []
        for project in (first, first, second):
            context = ArcosContext(settings=state.settings, broker=state.broker,
                                   caller=caller, rate_limiter=state.rate_limiter)
            streams.append(await state.schema.subscribe(
                "subscription($p: String!) { threatMatched(project: $p) { cause "
                "threat { title } matches { project component version } } }",
                variable_values={"p": project}, context_value=context))
        pending = [asyncio.ensure_future(anext(stream)) for stream in streams]
        try:
            for project, count in ((first, 2), (second, 1)):
                topic = threats_events.threat_channel(project)
                for _ in range(1000):
                    if state.broker.subscriber_count(topic) == count:
                        break
                    await asyncio.sleep(0.01)
                assert state.broker.subscriber_count(topic) == count
            # Only the second project's SBOM lists idna; then one for the first project.
            for title, package in (("idna hole", "idna"), ("requests hole", "requests")):
                body = await gql(SHARE, {"i": {
                    "title": title, "kind": "VULNERABILITY", "severity": "HIGH",
                    "tlp": "GREEN", "affectedComponents": [
                        {"package": f"pkg:pypi/{package}", "versions": "<9"}]}})
                assert body["data"]["shareThreat"]["errors"] == [], body
            results = await asyncio.wait_for(asyncio.gather(*pending), 30)
        finally:
            for task in pending:
                task.cancel()
            for stream in streams:
                await stream.aclose()
    events = [result.data["threatMatched"] for result in results]
    # The first project's subscribers' first event is the requests threat: the idna one,
    # published before it, never reached them.
    assert [event["threat"]["title"] for event in events] == [
        "requests hole", "requests hole", "idna hole"]
    assert events[0]["matches"] == [
        {"project": first, "component": "requests", "version": "1.0"}]
    assert events[2] == {"cause": "threat", "threat": {"title": "idna hole"}, "matches": [
        {"project": second, "component": "idna", "version": "3.0"}]}
    assert calls == ["idna hole", "requests hole"]  # once per threat, not per subscriber

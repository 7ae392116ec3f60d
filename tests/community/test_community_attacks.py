"""Hostile text shared anonymised, against a live server while a second client measures
`/healthz`: scrubbing is linear in the text's length, so the worst text a share may hold
leaves everyone else answered (it took minutes when a rule could restart inside a long run
of "a-a-a-…")."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from conftest import LiveServer
from stall_probe import HealthProbe

SHARE = """mutation($input: SharePatternInput!) { sharePattern(input: $input) {
  pattern { id description } errors { field message code } } }"""
#: Runs a rule could restart inside at every character, each near the size limits.
HOSTILE = ("a-" * 9_999, "a+" * 9_999, "a." * 9_999, "a/" * 9_999, "sk-" * 6_666,
           "eyJ" * 6_666, "x@" * 9_999)


def _share(server: LiveServer, text: str) -> httpx.Response:
    return httpx.post(
        f"{server.http_url}/graphql", headers=server.auth_headers, timeout=120,
        json={"query": SHARE, "variables": {"input": {
            "name": "Hostile", "category": "TESTING", "description": text,
            "pattern": {"note": text * 3, "metrics": []}, "anonymize": True,
            "visibility": "PRIVATE"}}})


def test_hostile_anonymised_text_does_not_stall_the_server(
    sqlite_live_server: LiveServer,
) -> None:
    with HealthProbe(sqlite_live_server.http_url) as probe, ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda text: _share(sqlite_live_server, text), HOSTILE))
    probe.assert_responsive()
    for response in responses:
        payload = response.json()["data"]["sharePattern"]
        assert payload["errors"] == [], payload
        assert len(payload["pattern"]["description"]) >= 1

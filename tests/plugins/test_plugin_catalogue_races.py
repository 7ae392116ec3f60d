"""Concurrent catalogue writes to one plugin on PostgreSQL, where READ COMMITTED lets two
read-check-write units interleave unless they queue on the plugin's lock."""

from __future__ import annotations

import asyncio

import pytest
from conftest import GraphQLClient, RunningApp
from plugin_kit import REGISTER, manifest

from arcos.plugins.models import PluginVersion

pytestmark = [pytest.mark.postgres,
              pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]

EMPTY_CODE = "def collect():\n    return []\n"


def registration(plugin_id: str, version: str) -> dict:
    return {"input": {"manifest": manifest(plugin_id=plugin_id, version=version, permissions=()),
                      "code": EMPTY_CODE}}


async def test_two_principals_racing_for_a_new_id_leave_one_owner(app: RunningApp):
    alice = await app.issue("alice", "plugins:write", "plugins:read")
    mallory = await app.issue("mallory", "plugins:write", "plugins:read")
    async with app.client(alice) as a, app.client(mallory) as m:
        for round_ in range(10):
            plugin_id = f"acme.contested{round_}"
            answers = await asyncio.gather(
                GraphQLClient(a)(REGISTER, registration(plugin_id, "1.0.0")),
                GraphQLClient(m)(REGISTER, registration(plugin_id, "1.0.1")))
            payloads = [answer["data"]["registerPlugin"] for answer in answers]
            won = [payload for payload in payloads if payload["plugin"] is not None]
            lost = [payload for payload in payloads if payload["plugin"] is None]
            assert len(won) == 1 and len(lost) == 1, payloads
            assert "is published by" in lost[0]["errors"][0]["message"], lost
            owners = await PluginVersion.filter(plugin_id=plugin_id).values_list(
                "registered_by", flat=True)
            assert len(set(owners)) == 1, owners


async def test_concurrent_versions_leave_one_latest(gql: GraphQLClient):
    for round_ in range(10):
        plugin_id = f"acme.raced{round_}"
        await gql(REGISTER, registration(plugin_id, "1.0.0"))
        answers = await asyncio.gather(*[gql(REGISTER, registration(plugin_id, version))
                                         for version in ("1.1.0", "1.2.0")])
        assert all(answer["data"]["registerPlugin"]["plugin"] for answer in answers), answers
        latest = await PluginVersion.filter(plugin_id=plugin_id, is_latest=True).values_list(
            "version", flat=True)
        assert latest == ["1.2.0"], (round_, latest)

"""A field's permission is checked once per operation and parent type (arcos/auth/
permission_memo.py), and that memo adds no way to leak: refusals, write allowance and other
operations and callers are checked as before."""

from __future__ import annotations

import pytest
from conftest import RunningApp, running_app

from arcos.auth import permission_memo, permissions
from arcos.settings import Settings

BATCH = ("mutation($i: SubmitEvidenceBatchInput!) { submitEvidenceBatch(input: $i) "
         "{ evidence { id relations { relation } } errors { message } } }")
ITEMS = {"i": {"items": [{"type": "build", "source": "ci", "data": {"n": n}} for n in range(4)]}}
#: Not a document the direct path answers: `relations` is guarded on every item.
LISTING = "{ evidenceList { id relations { relation } } }"


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """The scope checks that really ran (not answered from the memo)."""
    checks: list[str] = []
    original = permissions.check_scope

    def counting(caller, scope):
        checks.append(scope)
        original(caller, scope)

    monkeypatch.setattr(permissions, "check_scope", counting)
    return checks


def without_memo(monkeypatch) -> None:
    monkeypatch.setattr(permissions, "remembered", lambda key: False)


async def post(app: RunningApp, token: str, query: str, variables=None) -> dict:
    async with app.client(token) as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_listing_checks_a_nested_field_once_not_per_row(app, counted, monkeypatch):
    await post(app, app.admin_token, BATCH, ITEMS)
    counted.clear()
    remembered = await post(app, app.admin_token, LISTING)
    assert len(remembered["data"]["evidenceList"]) == 4
    # Query.evidenceList once, Evidence.relations once (not four times).
    assert counted == ["evidence:read", "evidence:read"]
    counted.clear()
    without_memo(monkeypatch)
    assert await post(app, app.admin_token, LISTING) == remembered
    assert len(counted) == 5


async def test_refusals_are_never_remembered(app, counted, monkeypatch):
    """A write-only token's batch returns items whose `relations` it may not read: every
    item is refused on its own, exactly as without the memo."""
    writer = await app.issue("writer", "evidence:write")
    refused = await post(app, writer, BATCH, ITEMS)
    codes = [error["extensions"]["code"] for error in refused["errors"]]
    assert codes and set(codes) == {"FORBIDDEN"}
    assert counted.count("evidence:read") == 4
    without_memo(monkeypatch)
    again = await post(app, writer, BATCH, ITEMS)
    assert [e["path"] for e in again["errors"]] == [e["path"] for e in refused["errors"]]
    assert [e["message"] for e in again["errors"]] == [e["message"] for e in refused["errors"]]


async def test_no_operation_or_caller_inherits_anothers_memo(app):
    await post(app, app.admin_token, BATCH, ITEMS)
    writer = await app.issue("writer", "evidence:write")
    reader = await app.issue("reader", "evidence:read")
    for _ in range(2):
        assert "errors" not in await post(app, reader, LISTING)
        refused = await post(app, writer, LISTING)
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert permission_memo.remembered(("anything",)) is False  # no memo outside operations


async def test_write_permissions_spend_allowance_for_every_field(tmp_path):
    settings = Settings(
        database_url=f"sqlite://{tmp_path / 'rate.db'}", write_rate_per_minute=60, write_burst=2
    )
    one = "submitEvidence(input: {type: \"build\", source: \"ci\", data: {}}) { replayed }"
    document = f"mutation {{ a: {one} b: {one} c: {one} }}"
    async with running_app(settings) as running:
        result = await post(running, running.admin_token, document)
    assert result["data"] is None or result["data"].get("c") is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["RATE_LIMITED"]
    assert result["errors"][0]["path"] == ["c"]

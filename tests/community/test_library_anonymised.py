"""Sharing anonymised: identifying strings are scrubbed from every text and JSON field
before the row is written, and the author is hidden from everyone but admins."""

from __future__ import annotations

import json
from typing import Any

import pytest
from library_kit import (
    ADD,
    PATTERNS,
    PRACTICES,
    SHARE,
    Community,
    add,
    community,
    pattern_input,
    practice_input,
    share,
)

from arcos.community.library_models import BestPractice, QualityPattern

#: What must never reach the store, and the label each becomes.
HOSTILE = {
    "jane.doe@globex.example.com": "[redacted:email]",
    "https://ci.internal.example.com/job/42?token=abc": "[redacted:url]",
    "10.20.30.40": "[redacted:ip]",
    "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8": "[redacted:secret]",
    "AKIA" + "IOSFODNN7EXAMPLE": "[redacted:secret]",
    "github.com/globex/payments-service": "[redacted:repo]",
    "@janedoe": "[redacted:handle]",
    "Jane Doe": "[redacted:name]",
    "Globex Industries": "[redacted:name]",
}
SENTENCE = "Ask " + ", ".join(HOSTILE) + " for details."
#: Pieces of the originals that must not survive anywhere in a stored row.
FRAGMENTS = ("jane", "globex", "10.20.30.40", "ghp_", "AKIA", "payments-service",
             "ci.internal")


def _assert_scrubbed(stored: str) -> None:
    lowered = stored.lower()
    for fragment in FRAGMENTS:
        assert fragment.lower() not in lowered, (fragment, stored)


@pytest.fixture
async def c(settings) -> Community:
    async with community(settings) as running:
        yield running


async def test_pattern_text_tags_and_nested_json_are_scrubbed_before_storage(
    c: Community
) -> None:
    nested = {
        "metrics": ["coverage.line_rate"],
        "contact": {"owner": "jane.doe@globex.example.com",
                    "jane.doe@globex.example.com": ["10.20.30.40", {"deep": SENTENCE}]},
        "steps": [SENTENCE, 3, True, None],
    }
    shared = await share(c.owner, **pattern_input(
        "Gate by Jane Doe", description=SENTENCE, tags=["@janedoe", "coverage"],
        pattern=nested, anonymize=True))
    row = await QualityPattern.get(name=shared["name"])
    stored = json.dumps([row.name, row.description, row.tags, row.pattern, row.keywords])
    _assert_scrubbed(stored)
    for label in set(HOSTILE.values()):
        assert label in stored, label
    assert row.pattern["metrics"] == ["coverage.line_rate"]
    assert row.pattern["steps"][1:] == [3, True, None]
    assert row.metrics == ["coverage.line_rate"]
    assert shared["name"] == "Gate by [redacted:name]"
    assert shared["anonymized"] is True and shared["author"] is None


async def test_author_hidden_from_all_but_admins_and_search_never_finds_originals(
    c: Community
) -> None:
    await add(c.owner, **practice_input("Rotate keys", description=SENTENCE,
                                        steps=[SENTENCE], examples=["AKIA" + "IOSFODNN7EXAMPLE"],
                                        references=["https://globex.example.com/policy"],
                                        anonymize=True))
    row = await BestPractice.first()
    _assert_scrubbed(json.dumps([row.title, row.description, row.steps, row.examples,
                                 row.references, row.keywords]))
    for reader in ("owner", "member", "anonymous"):
        node = (await c.readers[reader].data(PRACTICES, {"first": 5}))["practices"]["nodes"][0]
        assert node["author"] is None, reader
    admin = (await c.admin.data(PRACTICES, {"first": 5}))["practices"]["nodes"][0]
    assert admin["author"]["name"] == "alice"
    for word in ("globex", "jane", "akiaiosfodnn7example"):
        for query, key in ((PATTERNS, "patterns"), (PRACTICES, "practices")):
            found = (await c.admin.data(query, {"first": 5, "search": word}))[key]
            assert found["totalCount"] == 0, word
    assert (await c.member.data(PRACTICES, {"first": 5, "search": "redacted email"})
            )["practices"]["totalCount"] == 1


async def test_edits_to_an_anonymised_item_are_scrubbed_too(c: Community) -> None:
    shared = await share(c.owner, **pattern_input("Plain", anonymize=True))
    update = """mutation($id: String!, $input: UpdatePatternInput!) { updatePattern(id: $id,
      input: $input) { pattern { description } errors { message } } }"""
    edited = await c.owner.data(update, {"id": shared["id"], "input": {
        "description": "mail jane.doe@globex.example.com"}})
    assert edited["updatePattern"]["pattern"]["description"] == "mail [redacted:email]"
    _assert_scrubbed((await QualityPattern.first()).description)


async def test_not_anonymised_keeps_the_text_and_the_author(c: Community) -> None:
    shared = await share(c.owner, **pattern_input("Kept", description=SENTENCE))
    assert shared["description"] == SENTENCE
    assert shared["author"]["name"] == "alice"


def _addresses(length: int) -> str:
    """`length` characters of e-mail addresses: more than twice as long once scrubbed."""
    return ("x@y.io " * (length // 7 + 1))[:length].strip()


def _grown(payload: dict[str, Any]) -> list[tuple[str, str]]:
    for error in payload["errors"]:
        assert "scrubbed for anonymised sharing" in error["message"], error
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def test_anonymised_text_that_outgrows_its_limit_is_refused_naming_it(
        c: Community) -> None:
    pattern = (await c.owner.data(SHARE, {"input": pattern_input(
        _addresses(200), tags=["ci", _addresses(50)], anonymize=True)}))["sharePattern"]
    assert pattern["pattern"] is None
    assert _grown(pattern) == [("name", "TOO_LARGE"), ("tags.1", "TOO_LARGE")]
    practice = (await c.owner.data(ADD, {"input": practice_input(
        "Fine", steps=["ok", _addresses(2_000)], industry=_addresses(64),
        anonymize=True)}))["addPractice"]
    assert practice["practice"] is None
    assert _grown(practice) == [("industry", "TOO_LARGE"), ("steps.1", "TOO_LARGE")]
    assert (await QualityPattern.all().count(), await BestPractice.all().count()) == (0, 0)
    shared = await add(c.owner, **practice_input("Plain", anonymize=True))
    edit = """mutation($id: String!, $input: UpdatePracticeInput!) { updatePractice(id: $id,
      input: $input) { practice { title } errors { field message code } } }"""
    edited = (await c.owner.data(edit, {"id": shared["id"], "input": {
        "title": _addresses(200)}}))["updatePractice"]
    assert _grown(edited) == [("title", "TOO_LARGE")]
    assert (await BestPractice.first()).title == "Plain"

"""Reputation as the reader may see it: ratings and upvotes on items the reader cannot read
must not move the number that reader is shown (arcos/community/reputation.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from library_kit import (
    PATTERNS,
    PRACTICES,
    RATE,
    UPVOTE,
    Community,
    add,
    community,
    pattern_input,
    practice_input,
    share,
)

from arcos.settings import Settings


@pytest.fixture
async def c(settings: Settings) -> AsyncIterator[Community]:
    async with community(settings) as opened:
        yield opened


async def test_reputation_counts_only_items_the_reader_may_read(c: Community) -> None:
    await share(c.owner, **pattern_input("Public gate"))
    members_only = await add(c.owner, **practice_input("Members only", visibility="COMMUNITY"))
    private = await share(c.owner, **pattern_input("Private gate", visibility="PRIVATE"))
    assert (await c.member.data(UPVOTE, {"id": members_only["id"]}))["upvotePractice"]["changed"]
    rated = (await c.admin.data(RATE, {"id": private["id"], "stars": 5}))["ratePattern"]
    assert rated["errors"] == []

    def shown(data: dict, name: str) -> int:  # type: ignore[type-arg]
        return {n["name"]: n["author"]["reputation"] for n in data["patterns"]["nodes"]}[name]

    anonymous = await c.anonymous.data(PATTERNS, {"first": 10})
    member = await c.member.data(PATTERNS, {"first": 10})
    owner = await c.owner.data(PATTERNS, {"first": 10})
    # The anonymous reader may read neither the community practice nor the private pattern.
    assert shown(anonymous, "Public gate") == 0
    # A member reads the community practice (2 points) but not the private pattern.
    assert shown(member, "Public gate") == 2
    # The owner reads both: 2 for the upvote, 4 for the five stars.
    assert shown(owner, "Public gate") == 6 and shown(owner, "Private gate") == 6
    practices = (await c.anonymous.data(PRACTICES, {"first": 10}))["practices"]["nodes"]
    assert practices == []

"""Two processes on one SQLite file may both find the search structures missing; the one
that gets the write lock second must find them made, not fail creating them again."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from library_kit import PATTERNS, community, pattern_input, share

from arcos.community import library_search
from arcos.settings import Settings


async def test_structures_made_by_another_process_meanwhile_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "arcos.db"
    has = library_search._sqlite_has
    raced: list[str] = []

    async def another_process_won(connection: Any, index: library_search.SearchIndex) -> bool:
        """The first look finds nothing; by then another process has made them all."""
        if index.fts in raced:
            return await has(connection, index)
        raced.append(index.fts)
        with sqlite3.connect(store) as other:
            for statement in library_search._sqlite_ddl(index):
                other.execute(statement)
        return False

    monkeypatch.setattr(library_search, "_sqlite_has", another_process_won)
    settings = Settings(database_url=f"sqlite://{store}",
                        plugin_signing_key_path=str(tmp_path / "key"))
    async with community(settings) as c:
        shared = await share(c.owner, **pattern_input("Raced gate"))
        found = (await c.owner.data(PATTERNS, {"search": "raced", "first": 10}))["patterns"]
    assert raced == ["community_pattern_fts", "community_practice_fts"]
    assert [node["id"] for node in found["nodes"]] == [shared["id"]]
    assert found["totalCount"] == 1  # the trigger indexed it once

"""A new SQLite store's tables are created in one transaction (arcos/store/migrator.py, a
new store's path): one commit instead of one per statement, which was most of a cold
start's wall-clock time, and a failure part-way leaves no table half the store made (not
even the migration history)."""

from __future__ import annotations

import sqlite3

import pytest

from arcos.db import StoreUnavailable, open_store, store
from arcos.settings import Settings


def tables(path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


async def test_a_new_store_gets_every_table(tmp_path):
    path = tmp_path / "new.db"
    async with store(Settings(database_url=f"sqlite://{path}")):
        pass
    assert {"evidence", "principal", "api_token", "arcos_outbox"} <= tables(path)


async def test_a_failure_part_way_creates_no_table(tmp_path):
    path = tmp_path / "odd.db"
    with sqlite3.connect(path) as connection:
        # A view where a table goes: its CREATE TABLE fails, about halfway through the
        # script.
        connection.execute("CREATE VIEW plugin_panel AS SELECT 1 AS id")
    with pytest.raises(StoreUnavailable, match='"plugin_panel" already exists'):
        await open_store(Settings(database_url=f"sqlite://{path}"))
    assert tables(path) == set()

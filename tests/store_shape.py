"""A store's schema as comparable data: every table's columns (type, nullability,
default), indexes and constraints, read from the catalogue of SQLite or PostgreSQL.

Two stores with equal shapes have the same schema whatever built them (the models'
DDL, replayed migrations, the frozen baseline, an adopted older store), which is what the
migration tests compare. The migration history table is left out: it is bookkeeping.
Names are kept: Tortoise derives index and constraint names from tables and columns, so
a difference in a name is a difference in what is indexed.
"""

from __future__ import annotations

import sqlite3
from typing import Any

HISTORY = "tortoise_migrations"


def shape(url: str) -> dict[str, Any]:
    """The shape of the store at `url` (sqlite:// or postgres://)."""
    if url.startswith("sqlite://"):
        return _sqlite(url.removeprefix("sqlite://"))
    import asyncio

    return asyncio.run(_postgres(url))


def _sqlite(path: str) -> dict[str, Any]:
    connection = sqlite3.connect(path)
    try:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name <> ? ORDER BY name", (HISTORY,))]
        found: dict[str, Any] = {}
        for table in tables:
            columns = {
                name: (kind.upper(), bool(notnull), default, pk)
                for _, name, kind, notnull, default, pk in connection.execute(
                    "SELECT * FROM pragma_table_info(?)", (table,))
            }
            indexes = sorted(
                (name if origin == "c" else origin, bool(unique), tuple(
                    column for (column,) in connection.execute(
                        "SELECT name FROM pragma_index_info(?) ORDER BY seqno", (name,))))
                for _, name, unique, origin, _ in connection.execute(
                    "SELECT * FROM pragma_index_list(?)", (table,))
            )
            keys = sorted(
                (row[3], row[2], row[4], row[6])  # from, table, to, on delete
                for row in connection.execute(
                    "SELECT * FROM pragma_foreign_key_list(?)", (table,))
            )
            found[table] = {"columns": columns, "indexes": indexes, "foreign_keys": keys}
        return found
    finally:
        connection.close()


async def _postgres(url: str) -> dict[str, Any]:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        found: dict[str, Any] = {}
        for row in await connection.fetch(
            "SELECT table_name, column_name, data_type, character_maximum_length, "
            "is_nullable, column_default FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name <> $1", HISTORY):
            table = found.setdefault(row["table_name"], {
                "columns": {}, "indexes": [], "constraints": []})
            table["columns"][row["column_name"]] = (
                row["data_type"], row["character_maximum_length"], row["is_nullable"],
                row["column_default"])
        for row in await connection.fetch(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename <> $1", HISTORY):
            found[row["tablename"]]["indexes"].append((row["indexname"], row["indexdef"]))
        for row in await connection.fetch(
            "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def "
            "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace "
            "AND conrelid <> 0"):
            if row["tbl"].strip('"') != HISTORY:
                found[row["tbl"].strip('"')]["constraints"].append((row["conname"], row["def"]))
        for table in found.values():
            table["indexes"].sort()
            table["constraints"].sort()
        return found
    finally:
        await connection.close()


def differences(left: dict[str, Any], right: dict[str, Any]) -> list[str]:
    """What differs between two shapes, a line each (empty when equal)."""
    lines = [f"table {name} only in the first" for name in sorted(left.keys() - right.keys())]
    lines += [f"table {name} only in the second" for name in sorted(right.keys() - left.keys())]
    for name in sorted(left.keys() & right.keys()):
        for part in left[name]:
            if left[name][part] != right[name][part]:
                lines.append(f"{name}.{part}: {left[name][part]!r} != {right[name][part]!r}")
    return lines

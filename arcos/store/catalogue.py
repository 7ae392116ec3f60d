"""What a store holds, read from its own catalogue: tables, their columns, named indexes.

One reader for both dialects, used where the code must know the store's shape rather
than assume it: the migration history and the adoption of a store from before
migrations (arcos/store/migrator.py), /readyz (arcos/web/observability.py) and the
upgrades of older stores. Reading the catalogue never fails inside a PostgreSQL
transaction, where probing a column with a failing SELECT would abort it.
"""

from __future__ import annotations

from collections import defaultdict

from tortoise.backends.base.client import BaseDBAsyncClient

#: Every table of the connection's schema (SQLite's own tables excluded).
TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table' "
              "AND name NOT LIKE 'sqlite_%'",
    "postgres": "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()",
}
#: Every column of every table, as (table, column) rows.
COLUMNS = {
    "sqlite": "SELECT m.name AS tbl, p.name AS col FROM sqlite_master AS m "
              "JOIN pragma_table_info(m.name) AS p WHERE m.type = 'table'",
    "postgres": "SELECT table_name AS tbl, column_name AS col FROM information_schema.columns "
                "WHERE table_schema = current_schema()",
}
#: Every index made by a CREATE INDEX statement (not those SQLite makes for UNIQUE).
INDEXES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    "postgres": "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()",
}


def dialect(connection: BaseDBAsyncClient) -> str:
    """`sqlite` or `postgres`: the only two stores ARCOS runs on."""
    name = connection.capabilities.dialect
    if name not in TABLES:
        raise ValueError(f"ARCOS runs on SQLite or PostgreSQL, not {name}")
    return name


async def table_names(connection: BaseDBAsyncClient) -> set[str]:
    rows = await connection.execute_query_dict(TABLES[dialect(connection)])
    return {row["name"] for row in rows}


async def column_names(connection: BaseDBAsyncClient) -> dict[str, set[str]]:
    """Table -> the names of its columns, for every table, in one query."""
    found: dict[str, set[str]] = defaultdict(set)
    for row in await connection.execute_query_dict(COLUMNS[dialect(connection)]):
        found[row["tbl"]].add(row["col"])
    return dict(found)


async def index_names(connection: BaseDBAsyncClient) -> set[str]:
    rows = await connection.execute_query_dict(INDEXES[dialect(connection)])
    return {row["name"] for row in rows}

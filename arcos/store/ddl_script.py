"""Running a DDL script inside the current transaction, on SQLite and PostgreSQL.

Migrating runs every statement in one transaction (arcos/store/migrator.py), so a failure
leaves the store as it was. PostgreSQL runs a multi-statement script within the open
transaction. SQLite cannot: `sqlite3`'s `executescript` commits a pending transaction
before it runs anything, so each statement is executed on its own. Splitting on `;` is not
enough (Tortoise's own SQLite migration editor does, and fails on a table comment holding
one, as `ingestion_job`'s does): `sqlite3.complete_statement` tells where a statement
really ends, past semicolons in comments and strings.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from tortoise.backends.base.client import BaseDBAsyncClient

from arcos.store.catalogue import dialect


def sqlite_statements(script: str) -> Iterator[str]:
    """The statements of an SQLite `script`, each whole, in order."""
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \t\r\n;"):
                yield statement.strip()
            statement = ""


async def run_script(connection: BaseDBAsyncClient, script: str) -> None:
    """Run every statement of `script` on `connection` (a transaction's), committing none."""
    if dialect(connection) == "postgres":
        if script.strip():
            await connection.execute_script(script)
        return
    for statement in sqlite_statements(script):
        await connection.execute_query(statement)

"""Adopting a store made before migrations: bring it to the baseline, check it, record it.

Releases before migrations (up to main at 4b2f151) created missing tables and indexes
at every start (Tortoise's `generate_schemas(safe=True)`) and then ran each domain's
`upgrades` (columns added since a table was first created). Their stores have tables and
no history. Adopting one, in the migration's transaction (arcos/store/migrator.py):

1. runs the baseline DDL (`baseline_<dialect>.sql` beside the migrations: what those
   releases ran, frozen at the initial migration, `IF NOT EXISTS` throughout), so a store
   from an older release gets the tables and indexes it lacks, as its own start would
   have given it. Frozen rather than generated from the models: once a later migration
   adds a table, the models' DDL would create it here and that migration would then fail;
2. runs the domains' `upgrades` (arcos/registry.py: `Domain.upgrades`), which stay as
   they were, for stores from before migrations only: every later change is a migration;
3. checks the result against the baseline: every table, column and index it names must
   be there. Extra ones are left alone (the search structures arcos/community/
   library_search.py adds on first use are such). A store that still falls short is
   refused, naming what is missing, rather than recorded as something it is not.

The migrator then records the baseline migration as applied and applies the later ones.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import resources

from tortoise.backends.base.client import BaseDBAsyncClient

from arcos.store.catalogue import column_names, dialect, index_names
from arcos.store.ddl_script import run_script


class NotAdoptable(Exception):
    """A store from before migrations lacks part of the baseline; the message names it."""


@dataclass(frozen=True)
class BaselineShape:
    """The tables (with their columns) and named indexes the baseline creates."""

    columns: dict[str, frozenset[str]]
    indexes: frozenset[str]


def baseline_ddl(package: str, store_dialect: str) -> str:
    """The baseline DDL for `store_dialect`, shipped beside the migrations of `package`."""
    return (resources.files(package) / f"baseline_{store_dialect}.sql").read_text("utf-8")


def baseline_shape(package: str) -> BaselineShape:
    """What the baseline creates, read by building it in a scratch in-memory SQLite store
    (names are the same in both dialects: Tortoise derives index names from the table
    and columns)."""
    scratch = sqlite3.connect(":memory:")
    try:
        scratch.executescript(baseline_ddl(package, "sqlite"))
        tables = [name for (name,) in scratch.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        columns = {
            table: frozenset(row[1] for row in scratch.execute(
                "SELECT * FROM pragma_table_info(?)", (table,)))
            for table in tables
        }
        indexes = frozenset(name for (name,) in scratch.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
    finally:
        scratch.close()
    return BaselineShape(columns, indexes)


async def adopt(
    transaction: BaseDBAsyncClient, package: str,
    upgrades: Sequence[Callable[[], Awaitable[None]]],
) -> None:
    """Bring a store from before migrations to the baseline of `package`, in
    `transaction`, or raise NotAdoptable."""
    tables, comments = split_comments(baseline_ddl(package, dialect(transaction)))
    await run_script(transaction, tables)
    for upgrade in upgrades:
        await upgrade()
    gaps = await baseline_gaps(transaction, baseline_shape(package))
    if gaps:
        raise NotAdoptable(
            "the store was made before migrations, but it differs from the baseline they "
            f"start from: {'; '.join(gaps)}. Start this version on a new store and move "
            "the data over, or upgrade through the release that made this store's schema"
        )
    await run_script(transaction, comments)


def split_comments(ddl: str) -> tuple[str, str]:
    """`ddl` without its PostgreSQL COMMENT statements, and those statements: they run
    after the check, since a comment on a column the store lacks would fail before the
    check could say what the store lacks. (Tortoise writes each on one line.)"""
    parts: dict[bool, list[str]] = {False: [], True: []}
    for line in ddl.splitlines(keepends=True):
        parts[line.startswith("COMMENT ON ")].append(line)
    return "".join(parts[False]), "".join(parts[True])


async def baseline_gaps(connection: BaseDBAsyncClient, shape: BaselineShape) -> list[str]:
    """What the store on `connection` lacks of `shape`, a line each."""
    present = await column_names(connection)
    gaps = []
    for table, expected in sorted(shape.columns.items()):
        if table not in present:
            gaps.append(f"table {table} is missing")
            continue
        missing = sorted(expected - present[table])
        if missing:
            gaps.append(f"table {table} lacks columns {', '.join(missing)}")
    absent = sorted(shape.indexes - await index_names(connection))
    if absent:
        gaps.append(f"indexes missing: {', '.join(absent)}")
    return gaps

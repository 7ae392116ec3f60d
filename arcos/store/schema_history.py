"""Which migrations the code ships and which the store has applied: the cheap half of
migrating, read at every start-up and by /readyz.

The code's migrations are the modules of the migrations package, listed from its
directory without importing them (importing Tortoise's migration machinery and the
migration files costs tens of milliseconds a start-up does not need when nothing is
pending). The store's are the rows of `tortoise_migrations`, the table Tortoise's own
migration commands keep (same name and columns), so `tortoise history` reads it too.
Migration names sort in the order they apply (`0001_initial`, `0002_…`): the version of
a store or of the code is its last name.
"""

from __future__ import annotations

import importlib.util
import pkgutil
from dataclasses import dataclass
from enum import Enum
from functools import cache

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

from arcos.store.catalogue import dialect, table_names

#: The history table, as Tortoise's MigrationRecorder names it.
HISTORY_TABLE = "tortoise_migrations"
#: The Tortoise app label every ARCOS model belongs to (arcos/db.py: one app, "models").
APP_LABEL = "models"
#: The history table as Tortoise's recorder creates it (a row per applied migration).
HISTORY_DDL = {
    "sqlite": f'CREATE TABLE IF NOT EXISTS "{HISTORY_TABLE}" ('
              '"id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
              '"app" VARCHAR(255) NOT NULL, "name" VARCHAR(255) NOT NULL, '
              '"applied_at" TIMESTAMP NOT NULL, UNIQUE ("app", "name"))',
    "postgres": f'CREATE TABLE IF NOT EXISTS "{HISTORY_TABLE}" ('
                '"id" SERIAL NOT NULL PRIMARY KEY, '
                '"app" VARCHAR(255) NOT NULL, "name" VARCHAR(255) NOT NULL, '
                '"applied_at" TIMESTAMPTZ NOT NULL, UNIQUE ("app", "name"))',
}
_PLACEHOLDER = {"sqlite": "?", "postgres": "$1"}


@cache
def known_migrations(package: str) -> tuple[str, ...]:
    """The migrations `package` ships, in the order they apply, without importing them
    (Tortoise's loader skips names starting with `_` or `~`, and so does this)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        raise ValueError(f"{package} is not a package of migrations")
    return tuple(sorted(
        name for _, name, is_package in pkgutil.iter_modules(spec.submodule_search_locations)
        if not is_package and name[0] not in "_~"
    ))


def model_tables() -> frozenset[str]:
    """The tables of the models Tortoise was initialised with."""
    return frozenset(
        model._meta.db_table for app in Tortoise.apps.values() for model in app.values()
    )


class SchemaState(Enum):
    """Where a store stands against the code."""

    #: No table of the code's models and no history: a new store.
    EMPTY = "empty"
    #: Tables but no history: made by a release from before migrations.
    UNVERSIONED = "unversioned"
    #: Migrations the code ships are not applied yet.
    BEHIND = "behind"
    CURRENT = "current"
    #: The history holds a migration this code does not ship: a newer ARCOS migrated it.
    AHEAD = "ahead"


@dataclass(frozen=True)
class SchemaHistory:
    """The code's migrations against the store's history, and the store's tables."""

    known: tuple[str, ...]
    applied: tuple[str, ...]
    tables: frozenset[str]
    #: The tables of the code's models (to tell a new store from one made before migrations).
    model_tables: frozenset[str]

    @property
    def pending(self) -> tuple[str, ...]:
        return tuple(name for name in self.known if name not in self.applied)

    @property
    def unknown(self) -> tuple[str, ...]:
        """Applied migrations this code does not ship."""
        return tuple(name for name in self.applied if name not in self.known)

    @property
    def state(self) -> SchemaState:
        if self.unknown:
            return SchemaState.AHEAD
        if not self.applied:
            if self.tables & self.model_tables:
                return SchemaState.UNVERSIONED
            return SchemaState.EMPTY
        return SchemaState.BEHIND if self.pending else SchemaState.CURRENT

    @property
    def store_version(self) -> str:
        """The store's schema version: its last applied migration (by name)."""
        if self.applied:
            return max(self.applied)
        return "none (made before migrations)" if self.tables & self.model_tables else "none"

    @property
    def code_version(self) -> str:
        return self.known[-1] if self.known else "none"

    def describe(self) -> str:
        """One line saying where the store stands, and what to do about it."""
        state = self.state
        if state is SchemaState.CURRENT:
            return f"the store is current (schema {self.code_version})"
        if state is SchemaState.AHEAD:
            return (
                f"the store's schema is {self.store_version}, newer than this ARCOS "
                f"(schema {self.code_version}; the store has {', '.join(self.unknown)}, "
                "which this version does not ship): a newer ARCOS migrated it. Run that "
                "version or a newer one, or restore the backup taken before the upgrade; "
                "ARCOS never migrates a store backwards"
            )
        if state is SchemaState.EMPTY:
            return (f"the store is new (no tables): `arcos migrate` or `arcos serve` creates "
                    f"it at schema {self.code_version}")
        if state is SchemaState.UNVERSIONED:
            return ("the store was made by an ARCOS from before migrations: `arcos migrate` "
                    f"(or `arcos serve`) adopts it and brings it to schema {self.code_version}")
        return (f"the store's schema is {self.store_version}, this ARCOS needs "
                f"{self.code_version} (pending: {', '.join(self.pending)}): run "
                "`arcos migrate` (or restart a server, which migrates at start-up)")


async def read_history(
    connection: BaseDBAsyncClient, known: tuple[str, ...], model_tables: frozenset[str]
) -> SchemaHistory:
    """The store's history against `known`: one catalogue query, and one on the history
    table when it exists."""
    tables = frozenset(await table_names(connection))
    applied: tuple[str, ...] = ()
    if HISTORY_TABLE in tables:
        # The names are constants of this module, never input.
        rows = await connection.execute_query_dict(
            f'SELECT name FROM "{HISTORY_TABLE}" '  # noqa: S608
            f"WHERE app = {_PLACEHOLDER[dialect(connection)]} ORDER BY id",
            [APP_LABEL],
        )
        applied = tuple(row["name"] for row in rows)
    return SchemaHistory(known, applied, tables, model_tables)

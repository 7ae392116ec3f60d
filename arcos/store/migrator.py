"""Bringing a store to the code's schema: real migrations, safe with several instances.

Why Tortoise's own migrations (`tortoise.migrations`, Tortoise 1.1) and not aerich:
aerich writes each migration as SQL for the dialect it was generated on, so one set of
files cannot serve both SQLite and PostgreSQL stores; Tortoise's migrations are operations
(CreateModel, AddField, …) turned into each dialect's SQL when they run, from one file,
and they already know every field type the models use (our JSON columns, built in
arcos/store/json_field.py, are Tortoise JSONFields with their codec named, which the
migration writer records as it is) and the models' indexes and unique constraints. The
machinery is young, so ARCOS uses only its pieces (the loader, the migration graph, the
per-dialect schema editors) and keeps the rest to itself, here:

- **Which migrations to run** comes from arcos/store/schema_history.py: a store whose
  history lists every migration the code ships opens after two small queries, without
  importing Tortoise's migration machinery at all (cold start).
- **One transaction, one instance.** Everything below runs in one transaction, history
  rows included, so a failure leaves the store as it was and a crash never leaves a
  migration applied but unrecorded (Tortoise's executor records after its commit). On
  PostgreSQL the transaction first takes an advisory lock (`MIGRATION_LOCK_KEY`, distinct
  from the outbox's): instances starting together queue on it, and each reads the history
  again once it holds it, so the first migrates and the others find nothing to do. On
  SQLite the first statement is a write, which takes the store's write lock the same way.
- **A new store** is created from the models in one go (as Rails loads `schema.rb`), and
  every migration the code ships is recorded as applied. Replaying the migrations would
  build the same tables (tests/test_migrations.py proves it on both stores, and that every
  migration only changes the schema, which is why skipping them loses nothing on an empty
  store) but Tortoise's migration state is rebuilt per operation, about 2 s for the
  initial migration's 34 models: a new user's first `arcos serve` would pay it.
- **A store made before migrations** (tables, no history) is adopted at the baseline
  (arcos/store/adoption.py), then migrated from there.
- **A store newer than the code** (its history holds a migration this code does not ship)
  is refused (`SchemaAhead`), never touched.
- **Pending migrations** are applied in order with Tortoise's schema editors: the state
  before them is rebuilt from the applied ones (slow, but only when there is something
  to apply, once per upgrade, by one instance).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction
from tortoise.utils import get_schema_sql

from arcos.store.adoption import NotAdoptable, adopt
from arcos.store.catalogue import dialect
from arcos.store.ddl_script import run_script, sqlite_statements
from arcos.store.schema_history import (
    APP_LABEL,
    HISTORY_DDL,
    HISTORY_TABLE,
    SchemaHistory,
    SchemaState,
    known_migrations,
    model_tables,
    read_history,
)

if TYPE_CHECKING:
    from tortoise.migrations.schema_editor.base import BaseSchemaEditor

logger = logging.getLogger("arcos.store")

#: An arbitrary constant naming ARCOS's migration lock among PostgreSQL advisory locks
#: (the outbox's is arcos/store/outbox.py's OUTBOX_LOCK_KEY, "ARCOS").
MIGRATION_LOCK_KEY = 0x4152434F534D  # "ARCOSM"


class MigrationRefused(Exception):
    """The store cannot be brought to the code's schema; the message says why and what to
    do."""


class SchemaAhead(MigrationRefused):
    """The store's history holds a migration this code does not ship."""

    def __init__(self, history: SchemaHistory) -> None:
        super().__init__(history.describe())
        self.history = history


@dataclass(frozen=True)
class MigrationPlan:
    """What a store is migrated with."""

    #: The package of migration modules (Tortoise migration files).
    package: str
    #: The migration a store from before migrations is adopted at.
    baseline: str
    #: Upgrades of stores from before migrations (`Domain.upgrades`), run when one is
    #: adopted, before its tables are checked against the baseline.
    upgrades: Sequence[Callable[[], Awaitable[None]]] = ()


@dataclass(frozen=True)
class MigrationRun:
    """What migrating did: where the store stood, and the migrations applied (or, for a
    new or adopted store, recorded)."""

    before: SchemaHistory
    applied: tuple[str, ...]

    def report(self) -> list[str]:
        """What happened, a line each (printed by `arcos migrate`, logged by `serve`)."""
        state = self.before.state
        if not self.applied:
            return [f"the store is current (schema {self.before.code_version})"]
        if state is SchemaState.EMPTY:
            return [f"created a new store at schema {self.applied[-1]} "
                    f"(recorded {', '.join(self.applied)})"]
        lines = []
        applied = list(self.applied)
        if state is SchemaState.UNVERSIONED:
            baseline = applied.pop(0)
            lines.append(f"adopted a store made before migrations at baseline {baseline} "
                         "(its tables checked, older upgrades applied)")
        lines.extend(f"applied {name}" for name in applied)
        return lines


async def store_history(package: str) -> SchemaHistory:
    """Where the default connection's store stands against the migrations of `package`."""
    return await read_history(
        connections.get("default"), known_migrations(package), model_tables()
    )


async def migrate_store(plan: MigrationPlan) -> MigrationRun:
    """Bring the default connection's store to the code's schema (see the module's doc)."""
    history = await store_history(plan.package)
    if history.state is SchemaState.AHEAD:
        raise SchemaAhead(history)
    if history.state is SchemaState.CURRENT:
        return MigrationRun(history, ())
    async with in_transaction() as transaction:
        await _take_lock(transaction)
        # Again, now that no other instance can be migrating.
        history = await read_history(transaction, history.known, history.model_tables)
        state = history.state
        if state is SchemaState.AHEAD:
            raise SchemaAhead(history)
        if state is SchemaState.CURRENT:
            return MigrationRun(history, ())
        if state is SchemaState.EMPTY:
            await _create_from_models(transaction)
            await _record(transaction, history.known)
            return MigrationRun(history, history.known)
        applied = history.applied
        adopted: tuple[str, ...] = ()
        if state is SchemaState.UNVERSIONED:
            try:
                await adopt(transaction, plan.package, plan.upgrades)
            except NotAdoptable as error:
                raise MigrationRefused(str(error)) from None
            await _record(transaction, (plan.baseline,))
            applied = adopted = (plan.baseline,)
        done = await apply_pending(transaction, plan.package, applied)
    return MigrationRun(history, (*adopted, *done))


async def _take_lock(transaction: BaseDBAsyncClient) -> None:
    """Hold the migration lock until `transaction` ends, and make sure the history table
    exists."""
    if dialect(transaction) == "postgres":
        await transaction.execute_query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY])
        await transaction.execute_script(HISTORY_DDL["postgres"])
        return
    # A write, even of no row, takes SQLite's write lock (waiting up to the busy timeout
    # for another process's migration to commit) before anything is read.
    lock = f'DELETE FROM "{HISTORY_TABLE}" WHERE 0'  # noqa: S608 (a constant)
    try:
        await transaction.execute_query(lock)
    except OperationalError:  # no history table yet: creating it takes the lock
        await transaction.execute_query(HISTORY_DDL["sqlite"])
        await transaction.execute_query(lock)


async def _create_from_models(transaction: BaseDBAsyncClient) -> None:
    """Every table and index of the models, in `transaction`."""
    await run_script(transaction, get_schema_sql(transaction, safe=False))


async def _record(transaction: BaseDBAsyncClient, names: Sequence[str]) -> None:
    """Add `names` to the store's history as applied now."""
    now = datetime.now(UTC)
    if dialect(transaction) == "postgres":
        insert = f'INSERT INTO "{HISTORY_TABLE}" (app, name, applied_at) VALUES ($1, $2, $3)'  # noqa: S608
        values: list[Any] = [now]
    else:
        insert = f'INSERT INTO "{HISTORY_TABLE}" (app, name, applied_at) VALUES (?, ?, ?)'  # noqa: S608
        values = [now.isoformat(sep=" ")]
    for name in names:
        await transaction.execute_query(insert, [APP_LABEL, name, *values])


async def apply_pending(
    transaction: BaseDBAsyncClient, package: str, applied: Sequence[str],
    *, upto: str | None = None,
) -> tuple[str, ...]:
    """Apply, in order, the migrations of `package` not in `applied` (up to and including
    `upto`, when given), recording each. tests/test_migrations.py replays them on a new
    store through this, to compare with the store the models make."""
    from tortoise.migrations.graph import MigrationKey
    from tortoise.migrations.loader import MigrationLoader
    from tortoise.migrations.migration import Migration
    from tortoise.migrations.recorder import MigrationRecorder
    from tortoise.migrations.schema_generator.state import State
    from tortoise.migrations.schema_generator.state_apps import StateApps

    class Recorded(MigrationRecorder):
        """The history as read under the lock, for the loader's graph."""

        def __init__(self) -> None:
            super().__init__(connection=None)

        async def applied_migrations(self) -> list[MigrationKey]:
            return [MigrationKey(app_label=APP_LABEL, name=name) for name in applied]

    apps = {APP_LABEL: {"models": [], "migrations": package, "default_connection": "default"}}
    loader = MigrationLoader(apps, Recorded())
    await loader.build_graph()
    order: list[MigrationKey] = []
    for leaf in loader.graph.leaf_nodes():
        order.extend(key for key in loader.graph.forwards_plan(leaf) if key not in order)
    state = State(models={}, apps=StateApps(default_connections={APP_LABEL: "default"}))
    editor = _schema_editor(transaction)
    done: list[str] = []
    for key in order:
        migration = loader.graph.nodes[key]
        assert isinstance(migration, Migration), key
        if key.name in applied:
            await migration.apply(state, dry_run=True)  # the state it left, for the next
            continue
        logger.info("applying migration %s", key.name)
        await migration.apply(state, schema_editor=editor)
        await _record(transaction, (key.name,))
        done.append(key.name)
        if key.name == upto:
            break
    return tuple(done)


def _schema_editor(transaction: BaseDBAsyncClient) -> BaseSchemaEditor:
    """Tortoise's schema editor for the store's dialect, running its statements in
    `transaction` (atomic: Tortoise then opens no transaction of its own)."""
    from tortoise.migrations.schema_editor import AsyncpgSchemaEditor, SqliteSchemaEditor

    class SqliteEditor(SqliteSchemaEditor):
        """Runs each statement whole (arcos/store/ddl_script.py says why)."""

        async def _run_sql(self, sql: str) -> None:
            if self.collect_sql:
                await super()._run_sql(sql)
                return
            for statement in sqlite_statements(sql):
                await self.client.execute_query(statement)

    if dialect(transaction) == "postgres":
        return AsyncpgSchemaEditor(transaction, atomic=True)
    return SqliteEditor(transaction, atomic=True)

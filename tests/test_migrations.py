"""The store's migrations (arcos/migrations/, applied by arcos/store/migrator.py).

- The migrations build the models: a model changed without its migration fails here,
  saying which command writes it.
- A new store is made from the models, not by replaying the migrations (for cold start),
  and a store from before migrations is adopted with the frozen baseline DDL: all three
  build the same schema, on SQLite and PostgreSQL, compared through the catalogue.
- A later migration is applied once, in one transaction with its history row: a failing
  one leaves the store as it was.
- A store from before migrations that lacks part of the baseline is refused, not
  recorded as adopted.
"""

from __future__ import annotations

import asyncio
import importlib
import shutil
import sqlite3
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from store_shape import differences, shape
from tortoise import connections
from tortoise.transactions import in_transaction

from arcos.db import (
    BASELINE_MIGRATION,
    MIGRATIONS_PACKAGE,
    StoreUnavailable,
    close_store,
    open_store,
    store,
)
from arcos.migrate_cli import model_changes
from arcos.settings import Settings
from arcos.store.adoption import baseline_ddl
from arcos.store.ddl_script import run_script
from arcos.store.migrator import MigrationPlan, apply_pending, migrate_store
from arcos.store.schema_history import HISTORY_DDL, HISTORY_TABLE, known_migrations

MIGRATIONS_DIR = Path(importlib.import_module(MIGRATIONS_PACKAGE).__file__).parent
KNOWN = list(known_migrations(MIGRATIONS_PACKAGE))
#: Operations that change the schema only. A new store is made from the models without
#: replaying the migrations (arcos/store/migrator.py), which is the same store only while
#: no migration does anything else (seeds rows, runs SQL or Python of its own).
SCHEMA_OPERATIONS = frozenset({
    "CreateModel", "DeleteModel", "RenameModel", "AlterModelOptions", "AddField",
    "RemoveField", "AlterField", "RenameField", "AddIndex", "RemoveIndex", "RenameIndex",
    "AddConstraint", "RemoveConstraint", "RenameConstraint",
})


async def test_the_migrations_build_the_models() -> None:
    changes = await model_changes()
    assert not changes, (
        "the models differ from what arcos/migrations/ builds: "
        f"{changes}. Run `arcos make-migration --name what_changed` (from the checkout, "
        "with PYTHONPATH set to it), review the file it writes and commit it with the "
        "model change"
    )


def test_every_migration_only_changes_the_schema() -> None:
    for name in known_migrations(MIGRATIONS_PACKAGE):
        module = importlib.import_module(f"{MIGRATIONS_PACKAGE}.{name}")
        kinds = {type(operation).__name__ for operation in module.Migration.operations}
        assert kinds <= SCHEMA_OPERATIONS, (
            f"{name} runs {sorted(kinds - SCHEMA_OPERATIONS)}: a new store is made from the "
            "models without replaying migrations (arcos/store/migrator.py), so it would "
            "miss them; make the new-store path run them too before shipping this"
        )


def test_the_baseline_is_the_first_migration() -> None:
    assert known_migrations(MIGRATIONS_PACKAGE)[0] == BASELINE_MIGRATION
    assert (MIGRATIONS_DIR / "baseline_sqlite.sql").is_file()
    assert (MIGRATIONS_DIR / "baseline_postgres.sql").is_file()


async def _replayed(url: str, upto: str | None = None) -> None:
    """Build a store at `url` by replaying the migrations (up to `upto`)."""
    await open_store(Settings(database_url=url), migrate=False)
    try:
        async with in_transaction() as transaction:
            await transaction.execute_script(HISTORY_DDL[transaction.capabilities.dialect])
            await apply_pending(transaction, MIGRATIONS_PACKAGE, (), upto=upto)
    finally:
        await close_store()


async def _from_baseline(url: str) -> None:
    await open_store(Settings(database_url=url), migrate=False)
    try:
        connection = connections.get("default")
        async with in_transaction() as transaction:
            await run_script(transaction, baseline_ddl(
                MIGRATIONS_PACKAGE, connection.capabilities.dialect))
    finally:
        await close_store()


async def _history(url: str) -> list[str]:
    await open_store(Settings(database_url=url), migrate=False)
    try:
        rows = await connections.get("default").execute_query_dict(
            f"SELECT name FROM {HISTORY_TABLE} ORDER BY id")
        return [row["name"] for row in rows]
    finally:
        await close_store()


def test_migrations_the_models_and_the_baseline_build_the_same_store(
    new_store_urls: Callable[[], str],
) -> None:
    replayed, from_models, baseline, replayed_to_baseline = (
        new_store_urls() for _ in range(4))
    asyncio.run(_replayed(replayed))
    asyncio.run(_open_and_close(from_models))
    asyncio.run(_from_baseline(baseline))
    asyncio.run(_replayed(replayed_to_baseline, upto=BASELINE_MIGRATION))

    models_shape = shape(from_models)
    assert len(models_shape) > 30
    assert not differences(shape(replayed), models_shape)
    assert not differences(shape(replayed_to_baseline), shape(baseline))
    # Both ways of making a store record every migration the code ships.
    assert asyncio.run(_history(replayed)) == KNOWN
    assert asyncio.run(_history(from_models)) == KNOWN


async def _open_and_close(url: str) -> None:
    async with store(Settings(database_url=url)):
        pass


LATER = '''
from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "{last}")]

    operations = [
        ops.CreateModel(
            name="Gadget",
            fields=[("id", fields.IntField(primary_key=True)),
                    ("label", fields.CharField(max_length=20))],
            options={"table": "gadget", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.AddField(model_name="Project", name="{column}",
                     field=fields.CharField(max_length=50, null=True)),
    ]
'''


def later_package(root: Path, name: str, column: str) -> str:
    """A migrations package: the shipped ones and a `9000_later` after them that creates a
    table and adds `column` to `project` (which fails when the column exists)."""
    package = root / name
    shutil.copytree(MIGRATIONS_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    source = textwrap.dedent(LATER).replace("{column}", column).replace("{last}", KNOWN[-1])
    (package / "9000_later.py").write_text(source)
    return name


async def _migrate_with(url: str, package: str) -> tuple[str, ...]:
    await open_store(Settings(database_url=url), migrate=False)
    try:
        run = await migrate_store(MigrationPlan(package, BASELINE_MIGRATION))
        return run.applied
    finally:
        await close_store()


async def _project_rows(url: str) -> list[dict]:
    await open_store(Settings(database_url=url), migrate=False)
    try:
        return await connections.get("default").execute_query_dict(
            "SELECT * FROM project ORDER BY id")
    finally:
        await close_store()


async def _add_project(url: str) -> None:
    await open_store(Settings(database_url=url))
    try:
        await connections.get("default").execute_query(
            "INSERT INTO project (slug, created_at) VALUES ('github.com/a/b', "
            "CURRENT_TIMESTAMP)")
    finally:
        await close_store()


def test_a_later_migration_is_applied_once_with_the_data_kept(
    new_store_urls: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    package = later_package(tmp_path, f"later_{tmp_path.name}", "later_note")
    url = new_store_urls()
    asyncio.run(_add_project(url))

    assert asyncio.run(_migrate_with(url, package)) == ("9000_later",)
    assert asyncio.run(_migrate_with(url, package)) == ()  # once
    assert asyncio.run(_history(url)) == [*KNOWN, "9000_later"]
    (row,) = asyncio.run(_project_rows(url))
    assert row["slug"] == "github.com/a/b" and row["later_note"] is None
    assert "gadget" in shape(url)


def test_a_failing_migration_leaves_the_store_as_it_was(
    new_store_urls: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    # Adding `slug` again fails after `gadget` was created, in the same migration.
    package = later_package(tmp_path, f"failing_{tmp_path.name}", "slug")
    url = new_store_urls()
    asyncio.run(_open_and_close(url))
    before = shape(url)

    with pytest.raises(Exception, match="slug"):
        asyncio.run(_migrate_with(url, package))
    assert not differences(shape(url), before)  # no gadget table, no half migration
    assert asyncio.run(_history(url)) == KNOWN


def _make_previous_store(url: str, *statements: str) -> None:
    """A store as a release before migrations left it: the baseline's tables, no history,
    then `statements`."""
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as connection:
            connection.executescript(baseline_ddl(MIGRATIONS_PACKAGE, "sqlite"))
            for statement in statements:
                connection.execute(statement)
        return

    async def run() -> None:
        import asyncpg

        connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            await connection.execute(baseline_ddl(MIGRATIONS_PACKAGE, "postgres"))
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def test_a_store_from_before_migrations_is_adopted_at_the_baseline(
    new_store_urls: Callable[[], str],
) -> None:
    old, new = new_store_urls(), new_store_urls()
    # An older release's store: no size columns yet, and a table it did not have.
    _make_previous_store(old, "ALTER TABLE evidence DROP COLUMN data_size",
                         "ALTER TABLE evidence DROP COLUMN metadata_size",
                         "DROP TABLE assurance_snapshot")
    asyncio.run(_open_and_close(old))
    asyncio.run(_open_and_close(new))
    # Adopted at the baseline, then migrated from there.
    assert asyncio.run(_history(old)) == KNOWN
    # The upgrades added the columns as they always have (nullable, filled in SQL): the
    # rest is the store a new one is.
    old_shape, new_shape = shape(old), shape(new)
    for table in (old_shape, new_shape):
        del table["evidence"]["columns"]["data_size"], table["evidence"]["columns"][
            "metadata_size"]
    assert not differences(old_shape, new_shape)


def test_a_store_from_before_migrations_missing_a_column_is_refused(
    new_store_urls: Callable[[], str],
) -> None:
    url = new_store_urls()
    _make_previous_store(url, "ALTER TABLE principal DROP COLUMN kind")
    before = shape(url)
    with pytest.raises(StoreUnavailable, match="table principal lacks columns kind") as refused:
        asyncio.run(_open_and_close(url))
    assert "before migrations" in str(refused.value)
    assert not differences(shape(url), before)
    assert HISTORY_TABLE not in _tables(url)


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        from arcos.store.catalogue import table_names

        await open_store(Settings(database_url=url), migrate=False)
        try:
            return await table_names(connections.get("default"))
        finally:
            await close_store()

    return asyncio.run(read())

"""`arcos migrate` (apply or check the store's migrations) and `arcos make-migration`
(write the next migration from the models, for developers in a source checkout).

`arcos serve` migrates at start-up too (arcos/db.py, arcos/store/migrator.py); `arcos
migrate` is for deploy scripts that migrate once before starting new instances, and
`--check` for those that only want to know, answering with the exit codes of
`EXIT_CODES` (also in `arcos migrate --help` and the README).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from arcos.db import (
    MIGRATIONS_PACKAGE,
    StoreNewerThanCode,
    close_store,
    open_store,
    sqlite_file,
    tortoise_config,
)
from arcos.settings import Settings
from arcos.store.schema_history import SchemaState

if TYPE_CHECKING:
    from tortoise.migrations.writer import MigrationWriter

EXIT_CURRENT = 0
EXIT_NEEDS_MIGRATING = 3
EXIT_NEWER_THAN_CODE = 4
EXIT_CODES = """exit codes:
  0  the store is current (after migrating it, without --check)
  1  the store cannot be reached or migrated (the message says why)
  2  bad settings or arguments
  3  (--check) the store needs migrating: pending migrations, a new store,
     or one made before migrations
  4  the store is newer than this code (a newer ARCOS migrated it); left untouched
"""


def add_migrate_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add `migrate` and `make-migration` to the `arcos` command line."""
    migrate = commands.add_parser(
        "migrate", help="apply the store's pending migrations (or --check them)",
        description="Bring the store to this code's schema: create a new store, adopt one\n"
                    "made before migrations, apply pending migrations. `arcos serve` does\n"
                    "the same at start-up.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    migrate.add_argument(
        "--check", action="store_true",
        help="change nothing: say whether the store is current (exit 0) or not (3, 4)",
    )
    migrate.add_argument(
        "--database-url", help="sqlite://PATH or postgres://… (ARCOS_DATABASE_URL)"
    )
    migrate.set_defaults(handler=_migrate)

    make = commands.add_parser(
        "make-migration",
        help="developers: write the migration that brings the last one to the models",
        description="Compare the models with what arcos/migrations/ builds and write the "
                    "next migration file there (a source checkout only). Review it and "
                    "commit it with the model change.",
    )
    make.add_argument("--name", help="the migration's name after its number (default: auto)")
    make.set_defaults(handler=_make_migration)


def _migrate(args: argparse.Namespace) -> int:
    settings = Settings.from_env(database_url=args.database_url)
    if args.check:
        return asyncio.run(_check(settings))
    return asyncio.run(_apply(settings))


async def _apply(settings: Settings) -> int:
    try:
        run = await open_store(settings)
    except StoreNewerThanCode as error:
        print(f"arcos: {error}", file=sys.stderr)
        return EXIT_NEWER_THAN_CODE
    try:
        assert run is not None
        for line in run.report():
            print(line)
    finally:
        await close_store()
    return EXIT_CURRENT


async def _check(settings: Settings) -> int:
    from arcos.store.migrator import store_history

    path = sqlite_file(settings)
    if path is not None and not path.exists():
        # Opening it would create the file: a check changes nothing.
        print(f"there is no store at {path} yet: `arcos migrate` or `arcos serve` creates it")
        return EXIT_NEEDS_MIGRATING
    await open_store(settings, migrate=False)
    try:
        history = await store_history(MIGRATIONS_PACKAGE)
    finally:
        await close_store()
    print(history.describe())
    if history.state is SchemaState.CURRENT:
        return EXIT_CURRENT
    if history.state is SchemaState.AHEAD:
        return EXIT_NEWER_THAN_CODE
    return EXIT_NEEDS_MIGRATING


def _make_migration(args: argparse.Namespace) -> int:
    written = asyncio.run(write_migration(args.name))
    if not written:
        print("no changes: the migrations already build the models")
    for path in written:
        print(f"wrote {path}")
    return 0


async def model_changes() -> list[str]:
    """What a new migration would have to do for the migrations to build the models, an
    operation each (empty when they already do). tests/test_migrations.py fails on any."""
    return [operation.describe() for writer in await _writers()
            for operation in writer.operations]


async def write_migration(name: str | None) -> list[Path]:
    """Write the next migration into the migrations package; the files written."""
    from tortoise.migrations.writer import format_migration_name

    writers = await _writers()
    for writer in writers:
        if name:
            number = int(writer.name.split("_", 1)[0])
            writer.name = format_migration_name(number, name)
    return [writer.write() for writer in writers]


async def _writers() -> list[MigrationWriter]:
    """Tortoise's autodetector over the models against the migrations package."""
    from tortoise import Tortoise
    from tortoise.migrations.autodetector import MigrationAutodetector

    config = tortoise_config(Settings(database_url="sqlite://:memory:"))
    await Tortoise.init(config=config, init_connections=False)
    try:
        return await MigrationAutodetector(Tortoise.apps, config["apps"]).changes()
    finally:
        await Tortoise.close_connections()

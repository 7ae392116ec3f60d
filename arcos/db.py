"""The Tortoise store: one config for SQLite and PostgreSQL, opened (and migrated) and
closed by the app and the commands.

SQLite durability promise: WAL with `synchronous=FULL` (the default here), so a write the
API acknowledged survives both a killed server process and a power cut. `NORMAL` keeps
process-crash safety but may lose the last transactions on power loss; see the README.

Every model sets `_no_comments = True`. Otherwise Tortoise reads each model class's source
at import (`inspect.getsource`, which parses the whole module again for every class) to
turn `#:` comments into column descriptions: a tenth of importing the domains, for
comments that only end up inside the DDL. The `#:` comments stay for readers.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.exceptions import DBConnectionError, OperationalError

from arcos.domains import REGISTRY
from arcos.registry import Registry
from arcos.settings import Settings, redacted_url
from arcos.store.migrator import (
    MigrationPlan,
    MigrationRefused,
    MigrationRun,
    SchemaAhead,
    migrate_store,
)

logger = logging.getLogger("arcos.store")

#: Models of the store itself, beside every domain's (the outbox every writer fills).
STORE_MODELS: tuple[str, ...] = ("arcos.store.outbox",)
#: The store's migrations (Tortoise migration files; `arcos make-migration` writes the
#: next one), for every model of the one Tortoise app, "models".
MIGRATIONS_PACKAGE = "arcos.migrations"
#: The migration a store made before migrations is adopted at (arcos/store/adoption.py).
BASELINE_MIGRATION = "0001_initial"


#: What opening an unreachable or misconfigured store raises: a refused or unresolvable
#: host, an SQLite file that cannot be opened (and, for PostgreSQL, `connection_failures`
#: adds the server refusing the role or database).
CONNECTION_FAILURES: tuple[type[BaseException], ...] = (
    OSError, sqlite3.Error, DBConnectionError, OperationalError,
)


def connection_failures(url: str) -> tuple[type[BaseException], ...]:
    """CONNECTION_FAILURES for the store at `url`: asyncpg is imported only for a
    PostgreSQL store (an SQLite server never loads it)."""
    if not url.startswith(("postgres://", "postgresql://")):
        return CONNECTION_FAILURES
    import asyncpg

    return (*CONNECTION_FAILURES, asyncpg.PostgresError)


class StoreUnavailable(Exception):
    """The store could not be opened; the message says which store and why, in one line."""


class StoreNewerThanCode(StoreUnavailable):
    """The store was migrated by a newer ARCOS: this code refuses it (the message names
    both versions and what to do)."""


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite file `settings` name, or None for PostgreSQL and in-memory stores."""
    if not settings.database_url.startswith("sqlite://"):
        return None
    path = expand_db_url(settings.database_url)["credentials"]["file_path"]
    return None if path == ":memory:" else Path(path).resolve()


def tortoise_config(
    settings: Settings, models: Sequence[str] = REGISTRY.model_modules
) -> dict[str, Any]:
    """The Tortoise config dict for `settings.database_url`, with our SQLite pragmas, holding
    the registered domains' `models` modules and the store's own."""
    url = settings.database_url
    if url.startswith("postgresql://"):
        url = "postgres://" + url.removeprefix("postgresql://")
    connection = expand_db_url(url)
    if connection["engine"] == "tortoise.backends.sqlite":
        credentials = connection["credentials"]
        credentials["journal_mode"] = "WAL"
        credentials["foreign_keys"] = "ON"
        credentials["synchronous"] = settings.sqlite_synchronous.upper()
        credentials["busy_timeout"] = settings.sqlite_busy_timeout_ms
    return {
        "connections": {"default": connection},
        "apps": {"models": {
            "models": [*models, *STORE_MODELS], "default_connection": "default",
            "migrations": MIGRATIONS_PACKAGE,
        }},
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_store(
    settings: Settings, models: Sequence[str] | None = None, registry: Registry = REGISTRY,
    *, migrate: bool = True,
) -> MigrationRun | None:
    """Connect, bring the store to the code's schema (arcos/store/migrator.py: a new store
    is created, one from before migrations adopted, pending migrations applied, a store
    newer than the code refused) and register the context for every request task.
    `models` defaults to the registry's; `migrate=False` only connects (`arcos migrate
    --check` reads where the store stands without changing it).

    Tortoise 1.x keeps its state in a context variable; uvicorn runs the lifespan and the
    requests in different tasks, so the context is registered as the global fallback.
    """
    # Tortoise caches generated SQL per connection *name*, not per backend: a process that
    # opens SQLite and later PostgreSQL (the test suite does) would reuse `?` placeholders.
    EXECUTOR_CACHE.clear()
    target = redacted_url(settings.database_url)
    try:
        await Tortoise.init(
            config=tortoise_config(
                settings, registry.model_modules if models is None else models
            ),
            _enable_global_fallback=True,
        )
        if not migrate:
            return None
        run = await migrate_store(migration_plan(registry))
    except connection_failures(settings.database_url) as error:
        await Tortoise.close_connections()
        reason = " ".join(str(error).split()) or type(error).__name__
        raise StoreUnavailable(f"cannot open the store {target}: {reason}") from None
    except SchemaAhead as error:
        await Tortoise.close_connections()
        raise StoreNewerThanCode(f"refusing the store {target}: {error}") from None
    except MigrationRefused as error:
        await Tortoise.close_connections()
        raise StoreUnavailable(f"cannot migrate the store {target}: {error}") from None
    if run.applied:
        logger.info("store %s: %s", target, "; ".join(run.report()))
    return run


def migration_plan(registry: Registry = REGISTRY) -> MigrationPlan:
    """How this code migrates a store: its migrations package and baseline, and the
    `registry`'s upgrades of stores from before migrations."""
    return MigrationPlan(MIGRATIONS_PACKAGE, BASELINE_MIGRATION, registry.upgrades)


async def close_store() -> None:
    """Close every connection the store opened."""
    await Tortoise.close_connections()


@asynccontextmanager
async def store(
    settings: Settings, models: Sequence[str] | None = None, registry: Registry = REGISTRY
) -> AsyncIterator[None]:
    """Open the store for the duration of a block (used by the lifespan and the CLI)."""
    await open_store(settings, models, registry)
    try:
        yield
    finally:
        await close_store()

"""The Tortoise store: one config for SQLite and PostgreSQL, opened and closed by the app.

SQLite durability promise: WAL with `synchronous=FULL` (the default here), so a write the
API acknowledged survives both a killed server process and a power cut. `NORMAL` keeps
process-crash safety but may lose the last transactions on power loss; see the README.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE

from arcos.evidence.upgrade import add_size_columns
from arcos.settings import Settings

#: Every module holding Tortoise models; later domains append theirs here.
MODEL_MODULES: list[str] = [
    "arcos.evidence.models",
    "arcos.auth.models",
    "arcos.webhooks.models",
    "arcos.intake.models",
]


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """The Tortoise config dict for `settings.database_url`, with our SQLite pragmas."""
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
        "apps": {"models": {"models": list(MODEL_MODULES), "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_store(settings: Settings) -> None:
    """Connect, create missing tables, and register the context for every request task.

    Tortoise 1.x keeps its state in a context variable; uvicorn runs the lifespan and the
    requests in different tasks, so the context is registered as the global fallback.
    """
    # Tortoise caches generated SQL per connection *name*, not per backend: a process that
    # opens SQLite and later PostgreSQL (the test suite does) would reuse `?` placeholders.
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    await Tortoise.generate_schemas(safe=True)
    await add_size_columns()


async def close_store() -> None:
    """Close every connection the store opened."""
    await Tortoise.close_connections()


@asynccontextmanager
async def store(settings: Settings) -> AsyncIterator[None]:
    """Open the store for the duration of a block (used by the lifespan and the CLI)."""
    await open_store(settings)
    try:
        yield
    finally:
        await close_store()

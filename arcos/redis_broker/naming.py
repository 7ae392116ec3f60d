"""The Redis names one ARCOS deployment uses, so two deployments sharing a Redis never mix.

A deployment is its store: instances that write the same outbox must hear each other, and
instances of another store must not (their positions would interleave and their events
reach the wrong subscribers). Redis pub/sub channels ignore the database number in the
broker URL, so the names carry a digest of the store's identity instead: the PostgreSQL
host, port and database (never the user or password), or the SQLite file's absolute path.
Every instance must therefore spell the store's address the same way; one that does not
is not silent: its commits never arrive at the others, which report the positions lost.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from tortoise.backends.base.config_generator import expand_db_url

from arcos.settings import Settings


def store_identity(settings: Settings) -> str:
    """The store `settings` name, spelled the same however the URL was written (scheme
    alias, default port, credentials and options left out)."""
    url = settings.database_url
    if url.startswith("sqlite://"):
        path = expand_db_url(url)["credentials"]["file_path"]
        # An in-memory store is this process's alone: it shares no events with anyone.
        return f"memory:{uuid.uuid4()}" if path == ":memory:" else f"sqlite:{Path(path).resolve()}"
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"postgres://{host}:{parts.port or 5432}{parts.path}"


def deployment_key(settings: Settings) -> str:
    """`arcos:<digest>`: the prefix of every Redis name this deployment uses."""
    digest = hashlib.sha256(store_identity(settings).encode()).hexdigest()[:16]
    return f"arcos:{digest}"


def events_channel(settings: Settings) -> str:
    """The one pub/sub channel every instance publishes its committed events on."""
    return f"{deployment_key(settings)}:events"

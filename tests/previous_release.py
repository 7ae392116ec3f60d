"""The stores the previous release (main at 4b2f151, the last before migrations) made and
filled, as dumps in tests/fixtures/previous_release/ (make_fixtures.py says how), for the
tests that need a store from before migrations: a real one, not a current store with its
history deleted, which stops being one as soon as a later migration changes the schema."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "previous_release"


def load_previous_store(url: str) -> dict:
    """Restore the previous release's dump into the empty store at `url`; what that
    release answered for it."""
    if url.startswith("sqlite://"):
        dump = (FIXTURES / "store_sqlite.sql").read_text(encoding="utf-8")
        with sqlite3.connect(url.removeprefix("sqlite://")) as connection:
            connection.executescript(dump)
    else:
        dump = (FIXTURES / "store_postgres.sql").read_text(encoding="utf-8")

        async def restore() -> None:
            import asyncpg

            connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
            try:
                await connection.execute(dump)
            finally:
                await connection.close()

        asyncio.run(restore())
    expected = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
    return expected["sqlite" if url.startswith("sqlite://") else "postgres"]

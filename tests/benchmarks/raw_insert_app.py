"""The raw-stack baseline of bench_scale_out.py's write part: a uvicorn factory.

What ARCOS's fixed stack (Starlette under uvicorn, asyncpg, on this machine) can do at best
for the write pgbench measures: one POST route that reads a small JSON object, inserts it
as one row with asyncpg from a pool and answers a small JSON. No GraphQL, no auth, no ORM,
no broker. A second route does the same inside a transaction that also appends an outbox
row under one transaction-scoped advisory lock, the way arcos/store/outbox.py commits (the
commit protocol without the rest of ARCOS).

Served by `python -m uvicorn raw_insert_app:raw_insert_app_from_env --factory` with
uvicorn's defaults, which are what `arcos serve` runs: loop and HTTP implementation `auto`
(uvloop and httptools when installed; arcos's DrainingHttpProtocol subclasses uvicorn's
auto protocol), lifespan on, 1 worker. Configured from the environment (uvicorn builds the
app): RAW_INSERT_DATABASE_URL, RAW_INSERT_POOL_SIZE, RAW_INSERT_TABLE,
RAW_INSERT_OUTBOX_TABLE and RAW_INSERT_LOCK_KEY. The driver creates the tables.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DATABASE_URL = "RAW_INSERT_DATABASE_URL"
POOL_SIZE = "RAW_INSERT_POOL_SIZE"
TABLE = "RAW_INSERT_TABLE"
OUTBOX_TABLE = "RAW_INSERT_OUTBOX_TABLE"
LOCK_KEY = "RAW_INSERT_LOCK_KEY"


def raw_insert_app_from_env() -> Starlette:
    """The app (uvicorn factory): `/insert`, `/insert-outbox` and `/healthz`."""
    import asyncpg

    url = os.environ[DATABASE_URL].replace("postgres://", "postgresql://", 1)
    pool_size = int(os.environ.get(POOL_SIZE, "4"))
    table = os.environ[TABLE]
    outbox = os.environ[OUTBOX_TABLE]
    lock_key = int(os.environ[LOCK_KEY])
    # asyncpg prepares each statement once per connection (its statement cache), as
    # `pgbench -M prepared` does.
    insert = f'INSERT INTO "{table}" (payload) VALUES ($1::jsonb) RETURNING id'
    append = (f'INSERT INTO "{outbox}" (topic, key, payload, created_at) '
              "VALUES ($1, $2, $3, $4) RETURNING position")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(url, min_size=pool_size, max_size=pool_size)
        try:
            yield
        finally:
            await app.state.pool.close()

    async def payload_of(request: Request) -> str | Response:
        """The body as compact JSON text, or a 400 saying what to send."""
        try:
            document = json.loads(await request.body())
        except ValueError:
            document = None
        if not isinstance(document, dict):
            return JSONResponse({"error": "send a JSON object"}, status_code=400)
        return json.dumps(document, separators=(",", ":"))

    async def insert_row(request: Request) -> Response:
        payload = await payload_of(request)
        if isinstance(payload, Response):
            return payload
        async with request.app.state.pool.acquire() as connection:
            row_id = await connection.fetchval(insert, payload)
        return JSONResponse({"id": row_id})

    async def insert_with_outbox(request: Request) -> Response:
        """The row, then the advisory lock and the outbox row, then the commit: the lock is
        held from the append to the commit, so every commit of the database waits its turn,
        as in arcos/store/outbox.py."""
        payload = await payload_of(request)
        if isinstance(payload, Response):
            return payload
        async with request.app.state.pool.acquire() as connection, connection.transaction():
            row_id = await connection.fetchval(insert, payload)
            await connection.execute("SELECT pg_advisory_xact_lock($1)", lock_key)
            position = await connection.fetchval(
                append, "bench.inserted", str(row_id), payload, datetime.now(UTC))
        return JSONResponse({"id": row_id, "position": position})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/insert", insert_row, methods=["POST"]),
            Route("/insert-outbox", insert_with_outbox, methods=["POST"]),
            Route("/healthz", health),
        ],
        lifespan=lifespan,
    )

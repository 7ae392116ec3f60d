"""The raw-stack baseline of bench_webhooks.py: a uvicorn factory.

The least a Python server on ARCOS's fixed stack (Starlette under uvicorn, aiosqlite, on
this machine) does for a signed GitHub delivery: read the body, verify X-Hub-Signature-256
in constant time with the same secret, require X-GitHub-Event and X-GitHub-Delivery, parse
the JSON, insert one row (dedupe key, event, repository, body) into a SQLite file opened
with ARCOS's pragmas (arcos/db.py: WAL, `synchronous` as ARCOS_SQLITE_SYNCHRONOUS,
foreign keys, busy timeout) and answer a small JSON once the row is committed: 200, or 200
with `"duplicate": true` for a delivery id seen before. No GraphQL, no ORM, no outbox, no
broker.

Two routes, so one process serves both lines in the same run:

- `/hook`: one transaction per delivery (one INSERT in autocommit mode: one hop to the
  aiosqlite thread, one commit and its fsync per request);
- `/hook-group`: group commit, the design of arcos/store/group_commit.py: deliveries that
  arrive while a transaction is in progress are written together by the next one (one
  multi-row INSERT, up to 128 rows), and each is answered only after that commit.

Served by `python -m uvicorn raw_webhook_app:raw_webhook_app_from_env --factory` with the
options `arcos serve` runs uvicorn with (loop and HTTP `auto`, lifespan on, 1 worker).
Configured from the environment (uvicorn builds the app): RAW_WEBHOOK_DATABASE_PATH,
RAW_WEBHOOK_SECRET, and ARCOS_SQLITE_SYNCHRONOUS as arcos reads it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import aiosqlite
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DATABASE_PATH = "RAW_WEBHOOK_DATABASE_PATH"
SECRET = "RAW_WEBHOOK_SECRET"
SYNCHRONOUS = "ARCOS_SQLITE_SYNCHRONOUS"
#: The most deliveries one group transaction carries (arcos's GroupCommit default).
MAX_GROUP = 128

#: One delivery's row: (dedupe key, event, repository full name, body).
Row = tuple[str, str, str | None, bytes]


async def open_database(path: str, synchronous: str) -> aiosqlite.Connection:
    """One connection (SQLite has one writer; Tortoise's SQLite client keeps one too) in
    autocommit mode, so a single INSERT is its own transaction, with arcos's pragmas."""
    db = await aiosqlite.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", f"synchronous={synchronous.upper()}",
                   "foreign_keys=ON", "busy_timeout=5000"):
        await db.execute(f"PRAGMA {pragma}")
    await db.execute("CREATE TABLE IF NOT EXISTS delivery (id INTEGER PRIMARY KEY, "
                     "key TEXT NOT NULL UNIQUE, event TEXT NOT NULL, repository TEXT, "
                     "body BLOB NOT NULL)")
    return db


async def insert_rows(db: aiosqlite.Connection, rows: Sequence[Row]) -> set[str]:
    """Insert `rows` in one statement, hence one transaction and one commit (autocommit);
    returns the keys it inserted, so a key missing from it was a duplicate."""
    values = ", ".join("(?, ?, ?, ?)" for _ in rows)
    inserted = await db.execute_fetchall(
        f"INSERT INTO delivery (key, event, repository, body) VALUES {values} "
        "ON CONFLICT (key) DO NOTHING RETURNING key",
        [value for row in rows for value in row],
    )
    return {key for (key,) in inserted}


class GroupInsert:
    """Group commit in its least form: a drain task writes what is pending, one statement
    per group; each writer's future is resolved after its group committed."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self._pending: list[tuple[Row, asyncio.Future[bool]]] = []
        self._drain: asyncio.Task[None] | None = None

    async def insert(self, row: Row) -> bool:
        """Insert `row` with whatever else is pending; True if it was new."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        if self._drain is None or self._drain.done():
            self._drain = asyncio.create_task(self._write_pending())
        return await future

    async def _write_pending(self) -> None:
        while self._pending:
            group = self._pending[:MAX_GROUP]
            del self._pending[:MAX_GROUP]
            try:
                inserted = await insert_rows(self.db, [row for row, _ in group])
            except Exception as error:  # every writer of the group hears of it
                for _, future in group:
                    if not future.done():
                        future.set_exception(error)
                continue
            for row, future in group:
                if not future.done():
                    future.set_result(row[0] in inserted)


def verified_row(secret: bytes, body: bytes, request: Request) -> Row | Response:
    """The delivery's row, or the 4xx that says what is wrong with it."""
    presented = request.headers.get("x-hub-signature-256", "")
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), presented.encode()):
        return JSONResponse({"error": "X-Hub-Signature-256 does not match the body"}, 401)
    event = request.headers.get("x-github-event")
    delivery = request.headers.get("x-github-delivery")
    if not event or not delivery:
        return JSONResponse(
            {"error": "X-GitHub-Event and X-GitHub-Delivery headers are required"}, 400)
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return JSONResponse({"error": "send a JSON object"}, 400)
    repository = payload.get("repository")
    name = repository.get("full_name") if isinstance(repository, dict) else None
    key = f"{request.headers.get('x-github-hook-id', '')}:{delivery}"
    return key, event, name if isinstance(name, str) else None, body


def raw_webhook_app_from_env() -> Starlette:
    """The app (uvicorn factory): `/hook`, `/hook-group` and `/healthz`."""
    path = os.environ[DATABASE_PATH]
    secret = os.environ[SECRET].encode()
    synchronous = os.environ.get(SYNCHRONOUS, "FULL")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.db = await open_database(path, synchronous)
        app.state.group = GroupInsert(app.state.db)
        try:
            yield
        finally:
            await app.state.db.close()

    async def row_of(request: Request) -> Row | Response:
        return verified_row(secret, await request.body(), request)

    def answer(row: Row, new: bool) -> Response:
        return JSONResponse({"duplicate": not new, "delivery": row[0]})

    async def hook(request: Request) -> Response:
        row = await row_of(request)
        if isinstance(row, Response):
            return row
        return answer(row, row[0] in await insert_rows(request.app.state.db, [row]))

    async def hook_group(request: Request) -> Response:
        row = await row_of(request)
        if isinstance(row, Response):
            return row
        return answer(row, await request.app.state.group.insert(row))

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/hook", hook, methods=["POST"]),
            Route("/hook-group", hook_group, methods=["POST"]),
            Route("/healthz", health),
        ],
        lifespan=lifespan,
    )

"""`arcos migrate`, `arcos migrate --check` and `arcos serve` against where a store stands,
through the real command line and real uvicorn processes, on SQLite and PostgreSQL.

- `--check` changes nothing and answers with the documented exit codes, for a new store,
  a current one and one the previous release made (tests/previous_release.py), which
  `arcos migrate` adopts;
- three servers started at once on a new store all become healthy and the store is
  created once (PostgreSQL: the migration's advisory lock; SQLite: its write lock);
- a store newer than the code is refused by every command, naming both versions;
- /readyz answers not ready, with the reason, while the store's migrations are not
  current (the previous release's backup restored under a running server), and stays
  ready when a newer instance has migrated ahead of it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from conftest import LiveServer, free_port, start_server, stop_server
from previous_release import load_previous_store

from arcos.db import MIGRATIONS_PACKAGE, sqlite_file
from arcos.settings import Settings
from arcos.store.schema_history import HISTORY_TABLE, known_migrations

CODE_VERSION = known_migrations(MIGRATIONS_PACKAGE)[-1]
BASELINE = known_migrations(MIGRATIONS_PACKAGE)[0]
FUTURE = "9999_from_a_newer_arcos"


def arcos(*arguments: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "arcos", *arguments, "--database-url", url],
        capture_output=True, text=True, timeout=120, check=False,
    )


def sql(url: str, statement: str) -> list[tuple]:
    """Run one statement on the store directly (as an operator or another version would)."""
    if url.startswith("sqlite://"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite://")) as connection:
            return connection.execute(statement).fetchall()

    async def run() -> list[tuple]:
        import asyncpg

        connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            return [tuple(row) for row in await connection.fetch(statement)]
        finally:
            await connection.close()

    return asyncio.run(run())


def empty(url: str) -> None:
    """Drop every table of the store (as restoring a backup over it would)."""
    if url.startswith("sqlite://"):
        tables = sql(url, "SELECT name FROM sqlite_master WHERE type = 'table' "
                          "AND name NOT LIKE 'sqlite_%'")
        for (table,) in tables:
            sql(url, f'DROP TABLE "{table}"')
    else:
        sql(url, "DROP SCHEMA public CASCADE")
        sql(url, "CREATE SCHEMA public")


def history(url: str) -> list[str]:
    return [name for (name,) in sql(url, f"SELECT name FROM {HISTORY_TABLE} ORDER BY id")]


def test_check_and_migrate_say_where_the_store_stands(new_store_urls: Callable[[], str]):
    url = new_store_urls()
    check = arcos("migrate", "--check", url=url)
    assert check.returncode == 3, check
    path = sqlite_file(Settings(database_url=url))
    if path is not None:
        assert "no store" in check.stdout and not path.exists()  # a check creates nothing
    else:
        assert "the store is new" in check.stdout

    migrate = arcos("migrate", url=url)
    assert migrate.returncode == 0, migrate
    assert f"created a new store at schema {CODE_VERSION}" in migrate.stdout
    again = arcos("migrate", url=url)
    assert (again.returncode, again.stdout.strip()) == (
        0, f"the store is current (schema {CODE_VERSION})")
    check = arcos("migrate", "--check", url=url)
    assert (check.returncode, check.stdout.strip()) == (
        0, f"the store is current (schema {CODE_VERSION})")
    assert history(url) == list(known_migrations(MIGRATIONS_PACKAGE))

    # A store the previous release made (tables, no history) is adopted at the baseline,
    # then brought through every later migration.
    old = new_store_urls()
    load_previous_store(old)
    check = arcos("migrate", "--check", url=old)
    assert check.returncode == 3 and "before migrations" in check.stdout, check
    adopt = arcos("migrate", url=old)
    assert adopt.returncode == 0, adopt
    assert f"adopted a store made before migrations at baseline {BASELINE}" in adopt.stdout
    assert history(old) == list(known_migrations(MIGRATIONS_PACKAGE))


def test_a_store_newer_than_the_code_is_refused_by_every_command(
    new_store_urls: Callable[[], str], tmp_path: Path,
):
    url = new_store_urls()
    assert arcos("migrate", url=url).returncode == 0
    sql(url, f"INSERT INTO {HISTORY_TABLE} (app, name, applied_at) "
             f"VALUES ('models', '{FUTURE}', CURRENT_TIMESTAMP)")

    check = arcos("migrate", "--check", url=url)
    migrate = arcos("migrate", url=url)
    serve = arcos("serve", "--port", str(free_port()), url=url)  # refused, never serving
    token = arcos("token", "list", url=url)
    assert (check.returncode, migrate.returncode, serve.returncode, token.returncode) == (
        4, 4, 1, 1), (check, migrate, serve, token)
    for message in (check.stdout, migrate.stderr, serve.stderr, token.stderr):
        assert f"schema is {FUTURE}, newer than this ARCOS (schema {CODE_VERSION}" in message
        assert "Run that version or a newer one, or restore the backup" in message
        assert "Traceback" not in message
    assert history(url)[-1] == FUTURE  # untouched


def test_servers_starting_together_on_a_new_store_create_it_once(
    new_store_urls: Callable[[], str], tmp_path: Path,
):
    url = new_store_urls()
    # No token through the CLI first (it would create the store): the servers race for it.
    env = {"ARCOS_LOG_LEVEL": "info", "ARCOS_BOOTSTRAP_ADMIN": "false"}

    def start(number: int) -> LiveServer:
        return start_server(url, tmp_path / f"server-{number}.log", extra_env=env,
                            token="not-used")

    with ThreadPoolExecutor(3) as pool:
        starting = [pool.submit(start, number) for number in range(3)]
        servers = [future.result() for future in starting]
    try:
        for server in servers:
            assert httpx.get(f"{server.http_url}/readyz").json() == {"status": "ready"}
        assert history(url) == list(known_migrations(MIGRATIONS_PACKAGE))
        created = [server for server in servers
                   if "created a new store at schema" in server.log()]
        assert len(created) == 1, [server.log() for server in servers]
    finally:
        for server in servers:
            stop_server(server)


def test_readyz_is_not_ready_while_the_store_is_behind(
    new_store_urls: Callable[[], str], tmp_path: Path,
):
    url = new_store_urls()
    server = start_server(url, tmp_path / "server.log")
    try:
        ready = f"{server.http_url}/readyz"
        assert httpx.get(ready).status_code == 200
        # An operator restores a backup the previous release took, under the server.
        empty(url)
        load_previous_store(url)
        answer = httpx.get(ready)
        assert answer.status_code == 503
        assert "before migrations" in answer.json()["problems"]["migrations"]
        assert "`arcos migrate`" in answer.json()["problems"]["migrations"]

        assert arcos("migrate", url=url).returncode == 0
        assert httpx.get(ready).status_code == 200
        # A newer instance migrated ahead (a rolling deploy): this one stays in rotation.
        sql(url, f"INSERT INTO {HISTORY_TABLE} (app, name, applied_at) "
                 f"VALUES ('models', '{FUTURE}', CURRENT_TIMESTAMP)")
        assert httpx.get(ready).status_code == 200
    finally:
        stop_server(server)

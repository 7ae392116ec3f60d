"""Shared fixtures: a store per test (SQLite file, and PostgreSQL when configured), an
in-process client, and a real uvicorn process on a free port."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from arcos.app import create_app
from arcos.settings import Settings

POSTGRES_URL_VARIABLE = "ARCOS_TEST_POSTGRES_URL"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _postgres_base_url() -> str | None:
    return os.environ.get(POSTGRES_URL_VARIABLE) or None


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session, dropped at the end."""
    base = _postgres_base_url()
    if base is None:
        pytest.skip(
            f"{POSTGRES_URL_VARIABLE} is not set; set it (e.g. postgres://postgres@127.0.0.1:5432/"
            "test) to run the PostgreSQL half of the suite"
        )
    import asyncpg

    name = f"arcos_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin_url = base.replace("postgres://", "postgresql://", 1)

    async def run(statement: str) -> None:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    root, _, _ = base.rpartition("/")
    try:
        yield f"{root}/{name}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_postgres(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        # The migration history stays: the tables are the same, only emptied.
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'tortoise_migrations'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that uses this runs once on a fresh SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'arcos.db'}"
        return
    url = request.getfixturevalue("postgres_database")
    asyncio.run(_truncate_postgres(url))
    yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url, plugin_signing_key_path=str(tmp_path / "plugin-signing.key")
    )


@dataclass
class RunningApp:
    """An app with its lifespan running, an admin token, and clients for it."""

    app: Any
    admin_token: str

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        """An in-process client; with `token`, every request carries it as a bearer token."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://arcos.test",
            headers=headers,
        )

    async def issue(self, name: str, *scopes: str, expires_in: str | None = None) -> str:
        """A new token with `scopes`, issued the way an admin would."""
        from arcos.auth.expiry import parse_duration
        from arcos.auth.service import create_token
        from arcos.domains import REGISTRY

        issued = await create_token(
            name, REGISTRY.scopes.parse(scopes), self.app.state.writer,
            expires_in=parse_duration(expires_in) if expires_in else None,
        )
        return issued.secret


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[RunningApp]:
    """Run an app's lifespan (store open) and issue an admin token on it."""
    application = create_app(settings.replace(bootstrap_admin=False))
    async with application.router.lifespan_context(application):
        running = RunningApp(application, admin_token="")
        running.admin_token = await running.issue("test-admin", "admin")
        yield running


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[RunningApp]:
    """The ASGI app with its lifespan running (store open) for the test's duration."""
    async with running_app(settings) as running:
        yield running


@pytest.fixture
async def client(app: RunningApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client authenticated with an admin token."""
    async with app.client(app.admin_token) as http:
        yield http


@pytest.fixture
async def anonymous_client(app: RunningApp) -> AsyncIterator[httpx.AsyncClient]:
    async with app.client() as http:
        yield http


class GraphQLClient:
    """Posts operations to /graphql and returns the decoded JSON response."""

    def __init__(self, http: httpx.AsyncClient, headers: dict[str, str] | None = None) -> None:
        self.http = http
        self.headers = headers or {}

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, **extra: Any
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}, **extra},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """A real `arcos serve` process."""

    process: subprocess.Popen[bytes]
    port: int
    database_url: str
    log_path: Path
    token: str

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def issue_token_with_cli(database_url: str, name: str, *scopes: str) -> str:
    """A token made by `arcos token create` on the store, as an operator would (creating
    the store when the server has not started on it yet)."""
    arguments = [sys.executable, "-m", "arcos", "token", "create", "--name", name,
                 "--database-url", database_url, "--create-store"]
    for scope in scopes:
        arguments += ["--scope", scope]
    result = subprocess.run(arguments, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def start_server(
    database_url: str, log_path: Path, extra_env: dict[str, str] | None = None,
    token: str | None = None, command: list[str] | None = None,
) -> LiveServer:
    """Start `python -m arcos serve` (or `command`, which must serve the same way) and
    wait until /healthz answers.

    An admin token is issued through the CLI first (unless one is given), so the server
    starts on a store that already has a principal and prints no bootstrap token.
    """
    if token is None:
        token = issue_token_with_cli(database_url, f"admin-{uuid.uuid4().hex[:8]}", "admin")
    port = free_port()
    env = {
        **os.environ,
        "ARCOS_DATABASE_URL": database_url,
        "ARCOS_PORT": str(port),
        "ARCOS_LOG_LEVEL": "warning",
        **(extra_env or {}),
    }
    log = log_path.open("ab")
    process = subprocess.Popen(
        command or [sys.executable, "-m", "arcos", "serve"], env=env, stdout=log, stderr=log,
        cwd=log_path.parent,
    )
    server = LiveServer(process, port, database_url, log_path, token)
    # A wait, not a measurement: a shared 2-core machine at load 9 has taken over 30 s to
    # start a server (cold start is measured by tests/benchmarks/bench_cold_start.py).
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"arcos serve exited early:\n{server.log()}")
        try:
            health = httpx.get(f"{server.http_url}/healthz", timeout=1)
            # Warm: the deferred imports, which grow the heap once, are done, so tests that
            # measure the server's memory see only what they cause.
            if health.status_code == 200 and health.json().get("warm", True):
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"arcos serve did not become healthy:\n{server.log()}")


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, and SIGKILL if it has not exited within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stop_server(server: LiveServer) -> None:
    stop_process(server.process)


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A real uvicorn serving ARCOS on a free port, over the test's store."""
    server = start_server(database_url, tmp_path / "server.log")
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def sqlite_live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A live server on SQLite only, for websocket tests that need no PostgreSQL run."""
    server = start_server(f"sqlite://{tmp_path / 'arcos.db'}", tmp_path / "server.log")
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_store_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A factory of new, empty stores (SQLite files; PostgreSQL databases created for the
    test and dropped after it), for tests about creating and migrating stores, where the
    session's shared PostgreSQL database would already hold every table."""
    made: list[str] = []
    base = _postgres_base_url() if request.param == "postgres" else None
    if request.param == "postgres" and base is None:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set")

    async def admin(statement: str) -> None:
        import asyncpg

        assert base is not None
        connection = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    def make() -> str:
        name = f"arcos_new_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        if base is None:
            return f"sqlite://{tmp_path / f'{name}.db'}"
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return f"{base.rpartition('/')[0]}/{name}"

    yield make
    for name in made:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

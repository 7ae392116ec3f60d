"""How tests reach Redis: the shared one (127.0.0.1:6379, or ARCOS_TEST_REDIS_URL), used
under a key prefix of each test's own so that runs sharing it never share budgets or
epochs; a throw-away `redis-server` for tests that stop, restart or flush Redis (the
shared one belongs to everyone); and the skip reasons when Redis is absent."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import free_port, stop_process

#: The Redis everyone on this machine (and CI) shares; tests use unique names on it.
SHARED_REDIS_URL = os.environ.get("ARCOS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def answers_ping(host: str, port: int) -> bool:
    """Whether a Redis at host:port answers PING now."""
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def unique_prefix() -> str:
    """A key prefix no other test or run uses."""
    return f"arcos-test-{uuid.uuid4().hex[:12]}:"


def require_redis_server() -> str:
    """The path of `redis-server`, or skip the test saying why."""
    path = shutil.which("redis-server")
    if path is None:
        pytest.skip("redis-server is not on PATH; install Redis to run the shared-broker tests")
    return path


def require_shared_redis() -> str:
    """SHARED_REDIS_URL when Redis answers there, or skip the test saying why."""
    parsed = urlparse(SHARED_REDIS_URL)
    if answers_ping(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        return SHARED_REDIS_URL
    pytest.skip(f"no Redis answers at {SHARED_REDIS_URL}; start one (or set "
                "ARCOS_TEST_REDIS_URL) to run the shared-broker tests")


class RedisServer:
    """One `redis-server --save ''` on a free port, in `directory`, stoppable and
    restartable on the same port."""

    def __init__(self, directory: Path) -> None:
        self.binary = require_redis_server()
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--bind", "127.0.0.1", "--dir", str(self.directory)],
            stdout=log, stderr=log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.directory / "redis.log").read_text())
            if answers_ping("127.0.0.1", self.port):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING")

    def stop(self) -> None:
        """Stop the server (its clients' connections close, as in a Redis restart)."""
        if self.process is not None:
            stop_process(self.process)
        self.process = None

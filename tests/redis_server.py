"""A throw-away `redis-server` for tests that stop, restart or flush Redis (the shared one
on 127.0.0.1:6379 belongs to everyone), and the skip reasons when Redis is absent."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from conftest import free_port, stop_process

#: The Redis everyone on this machine (and CI) shares; tests use unique names on it.
SHARED_REDIS_URL = "redis://127.0.0.1:6379/0"


def require_redis_server() -> str:
    """The path of `redis-server`, or skip the test saying why."""
    path = shutil.which("redis-server")
    if path is None:
        pytest.skip("redis-server is not on PATH; install Redis to run the shared-broker tests")
    return path


def require_shared_redis() -> str:
    """SHARED_REDIS_URL when something answers there, or skip the test saying why."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return SHARED_REDIS_URL
    except OSError:
        pass
    pytest.skip("no Redis answers on 127.0.0.1:6379; start one to run the shared-broker tests")


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
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING")

    def stop(self) -> None:
        """Stop the server (its clients' connections close, as in a Redis restart)."""
        if self.process is not None:
            stop_process(self.process)
        self.process = None

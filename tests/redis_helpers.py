"""The shared Redis tests use (127.0.0.1:6379, or ARCOS_TEST_REDIS_URL), each under a key
prefix of its own so that runs sharing one Redis never share budgets or epochs."""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlparse

import pytest

REDIS_URL = os.environ.get("ARCOS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_or_skip() -> str:
    """The test Redis's URL; skips the test (saying why) when nothing listens there."""
    parsed = urlparse(REDIS_URL)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 1):
            pass
    except OSError:
        pytest.skip(f"no Redis at {REDIS_URL} (set ARCOS_TEST_REDIS_URL)")
    return REDIS_URL


def unique_prefix() -> str:
    return f"arcos-test-{uuid.uuid4().hex[:12]}:"

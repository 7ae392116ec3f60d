"""`arcos serve --workers N`: refused on the in-process broker with the reason, served by
N uvicorn workers when Redis is configured, and /metrics merging every worker's counts
from a directory the command creates and removes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import _truncate_postgres, start_server, stop_server
from prometheus_client.mmap_dict import MmapedDict
from redis_server import require_shared_redis, unique_prefix

from arcos.web.worker_metrics import MULTIPROC_DIR

REQUESTS = 240


def test_workers_need_a_shared_broker(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARCOS_")}
    result = subprocess.run(
        [sys.executable, "-m", "arcos", "serve", "--workers", "2",
         "--database-url", f"sqlite://{tmp_path / 'arcos.db'}"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 2
    assert "--workers 2 needs ARCOS_BROKER_URL" in result.stderr
    assert "in-process broker" in result.stderr  # says why, not only what
    assert not (tmp_path / "arcos.db").exists()  # refused before touching the store


def _metrics_dir(supervisor: int) -> Path:
    """The directory the workers (children of the command) were told to count in."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            if parent != supervisor:
                continue
            with open(f"/proc/{entry}/environ", "rb") as environ:
                variables = dict(
                    item.split(b"=", 1) for item in environ.read().split(b"\0") if b"=" in item
                )
        except OSError:
            continue
        if MULTIPROC_DIR.encode() in variables:
            return Path(variables[MULTIPROC_DIR.encode()].decode())
    raise AssertionError("no worker names a metrics directory")


def _graphql_requests_by_pid(directory: Path) -> dict[str, float]:
    """Each worker's own count of 200 answers on /graphql, read from its counter file."""
    counts: dict[str, float] = {}
    for path in directory.glob("counter_*.db"):
        pid = path.stem.split("_")[-1]
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            _, name, labels, _ = json.loads(key)
            if (name == "arcos_http_requests_total" and labels.get("route") == "/graphql"
                    and labels.get("status") == "200"):
                counts[pid] = counts.get(pid, 0.0) + value
    return counts


@pytest.mark.postgres
async def test_two_workers_serve_and_metrics_add_up(
    postgres_database: str, tmp_path: Path
) -> None:
    await _truncate_postgres(postgres_database)
    env = {"ARCOS_BROKER_URL": require_shared_redis(), "ARCOS_REDIS_KEY_PREFIX": unique_prefix(),
           "ARCOS_METRICS_ALLOW_LOOPBACK": "true"}
    server = await asyncio.to_thread(
        start_server, postgres_database, tmp_path / "server.log", env, None,
        [sys.executable, "-m", "arcos", "serve", "--workers", "2"],
    )
    try:
        directory = _metrics_dir(server.process.pid)
        # A new connection per request, many at once, so both workers accept some.
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=30, limits=limits,
                                     headers=server.auth_headers) as http:
            for _ in range(REQUESTS // 20):
                answers = await asyncio.gather(*(
                    http.post(f"{server.http_url}/graphql", json={"query": "{ viewer { name } }"})
                    for _ in range(20)
                ))
                assert [answer.status_code for answer in answers] == [200] * 20
            by_pid = _graphql_requests_by_pid(directory)
            assert len([n for n in by_pid.values() if n > 0]) == 2, by_pid  # both answered
            assert sum(by_pid.values()) == REQUESTS
            scraped = (await http.get(f"{server.http_url}/metrics")).text
        line = re.search(r'^arcos_http_requests_total\{[^}]*route="/graphql"[^}]*status="200"'
                         r'[^}]*\} (\S+)$', scraped, re.MULTILINE)
        assert line is not None, scraped
        assert float(line.group(1)) == REQUESTS  # every worker's, whichever one answered
        assert "arcos_active_subscriptions 0.0" in scraped  # live gauges merged too
    finally:
        stop_server(server)
    assert not directory.exists()  # removed with the server: the next start counts afresh

"""What the shared revocation check costs an authenticated request (issue #15): with
ARCOS_BROKER_URL set, every cache hit first reads the deployment's revocation epoch from
Redis (arcos/shared_state/epoch.py), one round trip.

Two figures, medians of alternating rounds in one process: the epoch read alone (a GET on
the Redis named by --redis), and `{ viewer { name } }` answered in process (httpx's ASGI
transport, SQLite store, a cached token) by an app without Redis and one with it; the
difference is what the check adds per request. Reads spend no rate-limit allowance, so
the epoch read is the only Redis call either app makes for them.

    PYTHONPATH=. python tests/benchmarks/bench_revocation_check.py --redis redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from arcos.app import create_app
from arcos.auth.service import create_token
from arcos.domains import REGISTRY
from arcos.settings import Settings
from arcos.shared_state import shared_redis
from arcos.shared_state.epoch import SharedEpoch

QUERY = {"query": "{ viewer { name } }"}


async def per_request(app, token: str, requests: int) -> float:
    """Seconds per request over `requests` sequential viewer queries."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://arcos.test",
                                 headers={"authorization": f"Bearer {token}"}) as http:
        started = time.perf_counter()
        for _ in range(requests):
            response = await http.post("/graphql", json=QUERY)
            assert response.status_code == 200, response.text
        return (time.perf_counter() - started) / requests


async def epoch_read(redis_url: str, reads: int) -> float:
    shared = shared_redis(Settings(broker_url=redis_url, redis_key_prefix="bench:"))
    assert shared is not None
    epoch = SharedEpoch(shared, "bench")
    try:
        await epoch.read()
        started = time.perf_counter()
        for _ in range(reads):
            await epoch.read()
        return (time.perf_counter() - started) / reads
    finally:
        await shared.close()


async def main(redis_url: str, rounds: int, requests: int) -> None:
    store = Path(tempfile.mkdtemp()) / "arcos.db"
    base = Settings(database_url=f"sqlite://{store}", bootstrap_admin=False,
                    plugin_signing_key_path=str(store.parent / "key"))
    apps = {"no Redis": create_app(base),
            "Redis": create_app(base.replace(broker_url=redis_url,
                                             redis_key_prefix=f"bench-{uuid.uuid4().hex}:"))}
    timings: dict[str, list[float]] = {name: [] for name in apps}
    token = ""
    for _ in range(rounds):
        for name, app in apps.items():
            # One store open at a time: the apps share Tortoise's connections.
            async with app.router.lifespan_context(app):
                if not token:
                    token = (await create_token(
                        "bench", REGISTRY.scopes.parse(["evidence:read"]), app.state.writer
                    )).secret
                await per_request(app, token, 50)  # warm: the token is cached
                timings[name].append(await per_request(app, token, requests))
    read = statistics.median([await epoch_read(redis_url, requests) for _ in range(rounds)])
    without, with_redis = (statistics.median(timings[name]) for name in apps)
    print(f"epoch read alone:          {read * 1e6:8.1f} µs")
    print(f"viewer query, no Redis:    {without * 1e6:8.1f} µs/request")
    print(f"viewer query, with Redis:  {with_redis * 1e6:8.1f} µs/request")
    print(f"added per request:         {(with_redis - without) * 1e6:8.1f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.redis, args.rounds, args.requests))

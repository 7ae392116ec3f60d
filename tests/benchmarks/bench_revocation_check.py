"""What the shared revocation check costs an authenticated request (issue #15): with
ARCOS_BROKER_URL set, every principal-cache hit first reads the deployment's revocation
epoch from Redis (arcos/shared_state/epoch.py), one round trip.

Two real `arcos serve` on one SQLite store, one without Redis and one with it, answer
`{ viewer { name } }` for the same (cached) token over one keep-alive connection each,
in alternating rounds; the figure is the difference of the medians. Reads spend no
rate-limit allowance, so the epoch read is the only Redis call either server makes for
them. The GET alone, from this process, is reported beside it, and so is a cache hit of
`authenticate` itself in this process, with and without the epoch read: steadier than the
HTTP figure on a busy machine, where a request that waits for Redis once also waits for
its turn on the event loop.

    PYTHONPATH=. python tests/benchmarks/bench_revocation_check.py --redis redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx

QUERY = {"query": "{ viewer { name } }"}


def per_request(url: str, token: str, requests: int) -> float:
    """Seconds per request over `requests` sequential viewer queries on one connection."""
    with httpx.Client(headers={"authorization": f"Bearer {token}"}, timeout=30) as http:
        for _ in range(20):  # warm: the token is cached, the connection open
            http.post(f"{url}/graphql", json=QUERY)
        started = time.perf_counter()
        for _ in range(requests):
            assert http.post(f"{url}/graphql", json=QUERY).status_code == 200
        return (time.perf_counter() - started) / requests


def get_alone(redis_url: str, requests: int) -> float:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.get("bench:epoch")
    started = time.perf_counter()
    for _ in range(requests):
        client.get("bench:epoch")
    return (time.perf_counter() - started) / requests


async def authenticate_hits(workdir: Path, redis_env: dict[str, str], token: str,
                            calls: int) -> tuple[float, float]:
    """Seconds per cached `authenticate` without and with the shared epoch."""
    from arcos.app import create_app
    from arcos.auth.principal_cache import PRINCIPAL_CACHE
    from arcos.auth.service import authenticate
    from arcos.settings import Settings

    base = Settings(database_url=f"sqlite://{workdir / 'arcos.db'}", bootstrap_admin=False,
                    plugin_signing_key_path=str(workdir / "plugin-signing.key"))
    figures = []
    for settings in (base, base.replace(broker_url=redis_env["ARCOS_BROKER_URL"],
                                        redis_key_prefix=redis_env["ARCOS_REDIS_KEY_PREFIX"])):
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            cache = app.state.services.domain_services[PRINCIPAL_CACHE]
            await authenticate(token, cache)
            rounds = []
            for _ in range(5):
                started = time.perf_counter()
                for _ in range(calls):
                    await authenticate(token, cache)
                rounds.append((time.perf_counter() - started) / calls)
            figures.append(statistics.median(rounds))
    return figures[0], figures[1]


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import harness

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    workdir = harness.make_workdir(args.workdir)
    database_url = f"sqlite://{workdir / 'arcos.db'}"
    redis_env = {"ARCOS_BROKER_URL": args.redis,
                 "ARCOS_REDIS_KEY_PREFIX": f"bench-{uuid.uuid4().hex}:"}
    with harness.running([]) as servers:
        servers.append(harness.start_arcos(database_url, workdir, core=None))
        servers.append(harness.start_arcos(database_url, workdir, extra_env=redis_env,
                                           core=None))
        token = servers[0].token
        assert token is not None
        timings: list[list[float]] = [[], []]
        for _ in range(args.rounds):
            for index, server in enumerate(servers):
                timings[index].append(per_request(server.http_url, token, args.requests))
    hit_without, hit_with = asyncio.run(
        authenticate_hits(workdir, redis_env, token, args.requests)
    )
    without, with_redis = (statistics.median(series) for series in timings)
    alone = statistics.median(get_alone(args.redis, args.requests) for _ in range(args.rounds))
    print(f"Redis GET alone (client):  {alone * 1e6:8.1f} µs")
    print(f"viewer query, no Redis:    {without * 1e6:8.1f} µs/request")
    print(f"viewer query, with Redis:  {with_redis * 1e6:8.1f} µs/request")
    print(f"added per request:         {(with_redis - without) * 1e6:8.1f} µs")
    print(f"authenticate hit:          {hit_without * 1e6:8.1f} µs without Redis, "
          f"{hit_with * 1e6:.1f} µs with (added {(hit_with - hit_without) * 1e6:.1f} µs)")


if __name__ == "__main__":
    main()

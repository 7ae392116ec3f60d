"""Trivial plugin calls through `executePlugin` over HTTP on a real `arcos serve`, beside an
ordinary GraphQL read measured in the same run.

Each call is the whole path a client pays for: authentication and rate limit, the checks
before any fork (standing, code hash, Ed25519 signature), one sandboxed child from the
pool, and the unit of work recording the execution (one SQLite commit) and publishing it.
The pool's own figures (issue #11's target: >= 200 calls/s and p50 <= 5 ms with two slots)
come from bench_plugin_pool.py; this script reports the HTTP figure to set beside them.

Run: .venv/bin/python tests/benchmarks/bench_plugin_http.py [--rounds 3] [--connections 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import harness
import httpx

POOL_TARGET = "pool target (bench_plugin_pool.py): >= 200 calls/s, p50 <= 5 ms"
PLUGIN = {
    "manifest": {
        "id": "bench.echo", "name": "Echo", "version": "1.0.0", "type": "collector",
        "description": "Returns no drafts.", "author": "bench", "permissions": [],
        "entry_point": "run",
    },
    "code": "def run(data):\n    return []\n",
}
REGISTER = ("mutation($i: RegisterPluginInput!) { registerPlugin(input: $i) "
            "{ plugin { state } errors { message } } }")
EXECUTE = ('mutation { executePlugin(input: {plugin: "bench.echo", input: {n: 1}}) '
           "{ execution { status durationMs } errors { message } } }")
READ = "{ plugins(first: 1) { totalCount nodes { pluginId } } }"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    harness.add_load_arguments(parser, connections=4)
    return parser.parse_args(argv)


def plugin_token(database_url: str, workdir: Path) -> str:
    """A token that may register and execute plugins (the harness's holds evidence scopes)."""
    created = subprocess.run(
        [sys.executable, "-m", "arcos", "token", "create", "--name", f"bench-plugins-{os.getpid()}",
         "--scope", "plugins:read", "--scope", "plugins:write", "--scope", "plugins:execute"],
        env={**os.environ, "ARCOS_DATABASE_URL": database_url, "ARCOS_LOG_LEVEL": "warning"},
        cwd=workdir, capture_output=True, text=True, check=True,
    )
    return created.stdout.strip().splitlines()[0].strip()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tool, workdir = harness.prepare(args)
    database_url = f"sqlite://{workdir / 'plugins.db'}"
    cases = {
        "graphql read": json.dumps({"query": READ}),
        "executePlugin": json.dumps({"query": EXECUTE}),
    }
    results: dict[str, list[harness.LoadResult]] = {key: [] for key in cases}
    with harness.running([]) as servers:
        arcos = harness.start_arcos(database_url, workdir, synchronous=args.synchronous)
        servers.append(arcos)
        arcos.token = plugin_token(database_url, workdir)
        with httpx.Client() as client:
            registered = harness.graphql(client, arcos, REGISTER, {"i": PLUGIN})
            state = registered["registerPlugin"]["plugin"]["state"]
            ran = harness.graphql(client, arcos, EXECUTE)["executePlugin"]
            if state != "ACTIVE" or ran["execution"]["status"] != "SUCCEEDED":
                raise RuntimeError(f"the plugin does not run here: {registered} {ran}")
        for round_number in range(1, args.rounds + 1):
            for key, body in cases.items():
                result = harness.run_load(
                    tool, f"{arcos.http_url}/graphql", body.encode(),
                    connections=args.connections, duration=args.duration, warmup=args.warmup,
                    headers=arcos.auth_headers, server=arcos, workdir=workdir,
                )
                results[key].append(result)
                print(f"round {round_number} {key:14} {result.rps:8.0f} req/s  "
                      f"p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "
                      f"errors {result.errors}", flush=True)
    print()
    rows = [
        [key, harness.Spread.of([r.rps for r in runs]).show(0),
         harness.Spread.of([r.p50_ms for r in runs]).show(1),
         harness.Spread.of([r.p99_ms for r in runs]).show(1)]
        for key, runs in results.items()
    ]
    harness.print_table(["over HTTP", "calls/s", "p50 ms", "p99 ms"], rows)
    print(f"\n{POOL_TARGET}; the HTTP figure adds the server around it (no target).")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())

"""Benchmark S1: GraphQL `evidenceList(limit: 100)` against the same rows from plain Starlette.

Run on demand (not part of pytest):

    .venv/bin/python tests/benchmarks/bench_evidence_list.py            # ~95 s
    .venv/bin/python tests/benchmarks/bench_evidence_list.py --rounds 5 --duration 10

What it does:

1. Seeds a fresh SQLite file with `--rows` evidence items (default 1,000) through a real
   `python -m arcos serve`, using `submitEvidenceBatch` with 100 items per batch.
2. Starts a second server on the same SQLite file: the small Starlette app in this file
   (`raw_app_from_env`), served by uvicorn with the same defaults, which runs the same
   Tortoise query (`Evidence.all().order_by("seq").limit(100)`) and returns the
   byte-identical JSON document (checked before timing).
3. Interleaves rounds (A/B/A/B...): GraphQL 100 rows, raw 100 rows, GraphQL 1 row (parser
   and validation caches warm), raw 1 row, GraphQL 1 row with a unique document per
   request (caches miss), each a closed-loop run with wrk (or the harness's asyncio
   client) pinned to the other core. Then, for reference, single-item `submitEvidence`
   writes per second.
4. Prints medians with min-max over rounds, the GraphQL/raw cost ratio per round, and
   whether the targets of issue #13 (S1) were met. No pass/fail exit code.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import harness
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FIELDS = "id type source commitSha ref sha256 createdAt submittedBy"
LIST_100 = f"{{ evidenceList(limit: 100) {{ {FIELDS} }} }}"
LIST_1 = f"{{ evidenceList(limit: 1) {{ {FIELDS} }} }}"
#: A comment in front shifts every token's location, so neither the parser cache (keyed
#: by text) nor the validation cache (keyed by the parsed document) can hit.
LIST_1_UNCACHED = "# request __N__\n" + LIST_1
SUBMIT_ONE = (
    "mutation($i: SubmitEvidenceInput!){ submitEvidence(input:$i){ evidence{id} "
    "errors{message} } }"
)
SUBMIT_BATCH = (
    "mutation($i: SubmitEvidenceBatchInput!){ submitEvidenceBatch(input:$i){ evidence{id} "
    "errors{message} } }"
)
BATCH_SIZE = 100
TYPES = ("test_results", "security_scan", "coverage", "build")

#: Issue #13's S1 targets: GraphQL at least 0.7x the raw route's req/s (a cost ratio of at
#: most 1/0.7 = 1.43x), its p99 at most 1.5x the raw p99 at the same concurrency, and a
#: 1-row query at least 4x faster when its document is prepared than when it is new.
TARGET_THROUGHPUT_SHARE = 0.7
TARGET_P99_RATIO = 1.5
TARGET_CACHE_GAIN = 4.0

DATABASE_URL_VARIABLE = "BENCH_DATABASE_URL"


# --------------------------------------------------------------------------- baseline app


def _global_id(uid: Any) -> str:
    """The relay id strawberry renders for an Evidence node."""
    return base64.b64encode(f"Evidence:{uid}".encode()).decode()


def _row(evidence: Any) -> dict[str, Any]:
    return {
        "id": _global_id(evidence.uid),
        "type": evidence.type,
        "source": evidence.source,
        "commitSha": evidence.commit_sha,
        "ref": evidence.ref,
        "sha256": evidence.sha256,
        "createdAt": evidence.created_at.isoformat(),
        "submittedBy": evidence.submitted_by,
    }


def raw_app_from_env() -> Starlette:
    """The baseline: the same Tortoise query and JSON bytes, no GraphQL (uvicorn factory).

    arcos is imported here, not at module level, so the driver never imports it and
    `--arcos-src` decides which arcos the servers run.
    """
    from arcos.db import store
    from arcos.evidence.models import Evidence
    from arcos.settings import Settings

    settings = Settings(
        database_url=os.environ[DATABASE_URL_VARIABLE],
        sqlite_synchronous=os.environ.get("ARCOS_SQLITE_SYNCHRONOUS", "FULL"),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with store(settings):
            yield

    async def evidence_list(request: Request) -> Response:
        await request.body()  # read the POSTed document like /graphql does, then ignore it
        limit = int(request.query_params.get("limit", "100"))
        rows = await Evidence.all().order_by("seq").limit(limit)
        payload = {"data": {"evidenceList": [_row(row) for row in rows]}}
        # strawberry encodes with json.dumps(separators=(",", ":")): same bytes here.
        return Response(json.dumps(payload, separators=(",", ":")), media_type="application/json")

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/raw", evidence_list, methods=["GET", "POST"]),
            Route("/healthz", health),
        ],
        lifespan=lifespan,
    )


def start_raw(
    database_url: str, workdir: Path, synchronous: str
) -> harness.ServerProcess:
    port = harness.free_port()
    command = [
        sys.executable, "-m", "uvicorn", "bench_evidence_list:raw_app_from_env", "--factory",
        "--app-dir", str(Path(__file__).resolve().parent), "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning", "--lifespan", "on",
    ]
    env = {DATABASE_URL_VARIABLE: database_url, "ARCOS_SQLITE_SYNCHRONOUS": synchronous}
    return harness.start_server(
        "raw", command, port, workdir / f"raw-{port}.log", env=env, cwd=harness.REPO_ROOT
    )


# --------------------------------------------------------------------------- seeding


def seed(client: httpx.Client, server: harness.ServerProcess, rows: int) -> float:
    """Insert `rows` evidence items in batches of 100; returns the seconds it took."""
    start = time.perf_counter()
    for first in range(0, rows, BATCH_SIZE):
        items = [
            {
                "type": TYPES[n % len(TYPES)],
                "source": "bench-ci",
                "data": {
                    "suite": f"suite-{n % 37}", "passed": n, "failed": n % 3,
                    "duration_ms": 1000 + n, "runner": "ubuntu-24.04",
                    "notes": "seeded by tests/benchmarks/bench_evidence_list.py",
                },
                "project": f"github.com/example/bench-{n % 5}",
                "commitSha": f"{n:040x}",
                "ref": "refs/heads/main",
            }
            for n in range(first, min(rows, first + BATCH_SIZE))
        ]
        data = harness.graphql(client, server, SUBMIT_BATCH, {"i": {"items": items}})
        payload = data["submitEvidenceBatch"]
        if payload["errors"] or len(payload["evidence"]) != len(items):
            raise RuntimeError(f"seeding failed: {payload['errors']}")
    return time.perf_counter() - start


def document(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def check_payloads(
    client: httpx.Client, arcos: harness.ServerProcess, raw: harness.ServerProcess
) -> tuple[int, bool]:
    """Both servers answer the 100-row request; returns (size, byte-identical)."""
    headers = {"content-type": "application/json", **arcos.auth_headers}
    graphql_bytes = client.post(
        f"{arcos.http_url}/graphql", content=document(LIST_100), headers=headers
    ).content
    raw_bytes = client.post(
        f"{raw.http_url}/raw", content=document(LIST_100), headers=headers
    ).content
    listed = json.loads(graphql_bytes)
    if listed.get("errors") or len(listed["data"]["evidenceList"]) != 100:
        raise RuntimeError(f"unexpected GraphQL answer: {graphql_bytes[:500]!r}")
    if json.loads(raw_bytes) != listed:
        raise RuntimeError("the raw baseline does not return the same JSON as GraphQL")
    for query in (LIST_1, LIST_1_UNCACHED.replace("__N__", "0")):
        one = client.post(
            f"{arcos.http_url}/graphql", content=document(query), headers=headers
        ).json()
        if one.get("errors") or len(one["data"]["evidenceList"]) != 1:
            raise RuntimeError(f"unexpected GraphQL answer: {one}")
    raw_one = client.post(f"{raw.http_url}/raw?limit=1", content=document(LIST_1)).json()
    if raw_one != one:
        raise RuntimeError("the raw baseline's 1-row answer differs from GraphQL's")
    return len(graphql_bytes), graphql_bytes == raw_bytes


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1000, help="evidence rows seeded")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved A/B rounds")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each")
    parser.add_argument("--connections", type=int, default=32, help="read concurrency")
    parser.add_argument("--write-connections", type=int, default=8, help="write concurrency")
    parser.add_argument("--synchronous", default="FULL", choices=["FULL", "NORMAL", "EXTRA"])
    parser.add_argument("--load-tool", default="auto", choices=["auto", "wrk", "python"])
    parser.add_argument("--no-writes", action="store_true", help="skip the write line")
    parser.add_argument("--workdir", help="where the SQLite file goes (default: temp dir)")
    parser.add_argument("--arcos-src", help="import arcos from this directory (see README)")
    return parser.parse_args(argv)


CASES = (
    ("graphql100", "GraphQL evidenceList(limit:100)"),
    ("raw100", "raw Starlette + Tortoise, 100 rows"),
    ("graphql1", "GraphQL evidenceList(limit:1), caches warm"),
    ("raw1", "raw Starlette + Tortoise, 1 row"),
    ("graphql1_miss", "GraphQL limit:1, new document each (miss)"),
    ("write", "POST submitEvidence, 1 item per request"),
)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tool, workdir = harness.prepare(
        args, "ARCOS benchmark S1: evidenceList over GraphQL vs the same rows from Starlette"
    )
    database_url = f"sqlite://{workdir / 'bench.db'}"
    print(
        f"run             {args.rounds} rounds x {args.duration:g}s (+{args.warmup:g}s warm-up) "
        f"per case, {args.rows} rows seeded"
    )
    print()

    results: dict[str, list[harness.LoadResult]] = {key: [] for key, _ in CASES}
    ratios: list[float] = []
    p99_ratios: list[float] = []
    ratios_one: list[float] = []
    cache_gains: list[float] = []
    with harness.running([]) as servers, httpx.Client() as client:
        arcos = harness.start_arcos(database_url, workdir, synchronous=args.synchronous)
        servers.append(arcos)
        print(f"auth            {_auth_line(arcos)}")
        seconds = seed(client, arcos, args.rows)
        print(f"seeded {args.rows} rows in {seconds:.1f}s "
              f"({args.rows / seconds:,.0f} rows/s via submitEvidenceBatch x{BATCH_SIZE})")
        raw = start_raw(database_url, workdir, args.synchronous)
        servers.append(raw)
        size, identical = check_payloads(client, arcos, raw)
        print(f"100-row answer: {size:,} bytes, raw baseline byte-identical: "
              f"{'yes' if identical else 'NO (same JSON, different bytes)'}")
        print()

        targets = {
            "graphql100": (arcos, f"{arcos.http_url}/graphql", document(LIST_100), False),
            "raw100": (raw, f"{raw.http_url}/raw", document(LIST_100), False),
            "graphql1": (arcos, f"{arcos.http_url}/graphql", document(LIST_1), False),
            "raw1": (raw, f"{raw.http_url}/raw?limit=1", document(LIST_1), False),
            "graphql1_miss": (
                arcos, f"{arcos.http_url}/graphql", document(LIST_1_UNCACHED), True
            ),
        }
        for round_number in range(1, args.rounds + 1):
            for key, (server, url, body, vary) in targets.items():
                result = harness.run_load(
                    tool, url, body, connections=args.connections, duration=args.duration,
                    warmup=args.warmup, vary=vary, headers=arcos.auth_headers, server=server,
                    workdir=workdir,
                )
                results[key].append(result)
                _progress(round_number, key, result)
            ratios.append(results["raw100"][-1].rps / results["graphql100"][-1].rps)
            p99_ratios.append(results["graphql100"][-1].p99_ms / results["raw100"][-1].p99_ms)
            ratios_one.append(results["raw1"][-1].rps / results["graphql1"][-1].rps)
            cache_gains.append(results["graphql1"][-1].rps / results["graphql1_miss"][-1].rps)

        if not args.no_writes:
            write_body = document(SUBMIT_ONE, {"i": {
                "type": "test_results", "source": "bench-writes",
                "data": {"passed": 10, "failed": 0, "suite": "writes"},
                "project": "github.com/example/bench-writes", "commitSha": "ab" * 20,
                "ref": "refs/heads/main",
            }})
            for round_number in range(1, args.rounds + 1):
                result = harness.run_load(
                    tool, f"{arcos.http_url}/graphql", write_body,
                    connections=args.write_connections, duration=args.duration,
                    warmup=args.warmup, headers=arcos.auth_headers, server=arcos,
                    workdir=workdir,
                )
                results["write"].append(result)
                _progress(round_number, "write", result)
        count = harness.graphql(
            client, arcos, "{ evidenceConnection(first: 1) { totalCount } }"
        )["evidenceConnection"]["totalCount"]

    print()
    report(args, results, ratios, p99_ratios, ratios_one, cache_gains, tool)
    print(f"\nrows in the store at the end: {count:,}; files and logs in {workdir}")
    print(harness.load_average_line("after the run"))
    return 0


def _auth_line(arcos: harness.ServerProcess) -> str:
    if arcos.token is None:
        return "none (this arcos has no tokens); no Authorization header sent"
    return (
        "every request carries 'Authorization: Bearer <token>' made with `arcos token "
        "create` (the raw baseline gets the header too and ignores it); write rate limit "
        "lifted (ARCOS_WRITE_RATE_PER_MINUTE, ARCOS_WRITE_BURST)"
    )


def _progress(round_number: int, key: str, result: harness.LoadResult) -> None:
    errors = f", {result.errors} ERRORS {result.notes}" if result.errors else ""
    print(
        f"  round {round_number} {key:<14} {result.rps:>9,.0f} req/s  "
        f"p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "
        f"server CPU {result.server_cpu_pct:3.0f}%  client CPU {result.client_cpu_pct:3.0f}%"
        f"{errors}",
        flush=True,
    )


def report(
    args: argparse.Namespace,
    results: dict[str, list[harness.LoadResult]],
    ratios: list[float],
    p99_ratios: list[float],
    ratios_one: list[float],
    cache_gains: list[float],
    tool: str,
) -> None:
    rows = []
    for key, label in CASES:
        runs = results[key]
        if not runs:
            continue
        connections = args.write_connections if key == "write" else args.connections
        rows.append([
            f"{label} [c={connections}]",
            harness.Spread.of([r.rps for r in runs]).show(0),
            harness.Spread.of([r.p50_ms for r in runs]).show(1),
            harness.Spread.of([r.p99_ms for r in runs]).show(1),
            f"{harness.Spread.of([r.server_cpu_pct for r in runs]).median:.0f}%",
            f"{harness.Spread.of([r.client_cpu_pct for r in runs]).median:.0f}%",
            str(sum(r.errors for r in runs)),
        ])
    print(f"Results: median (min-max) of {args.rounds} rounds, load tool {tool}")
    harness.print_table(
        ["case", "req/s", "p50 ms", "p99 ms", "server CPU", "client CPU", "errors"], rows
    )
    ratio = harness.Spread.of(ratios)
    gain = harness.Spread.of(cache_gains)
    share = harness.Spread.of([1 / r for r in ratios])
    p99_ratio = harness.Spread.of(p99_ratios)
    print()
    print(f"GraphQL/raw cost ratio (raw req/s / GraphQL req/s, per round): {ratio.show(2, 'x')}")
    print(f"same ratio for 1 row (raw1 / GraphQL limit:1, caches warm): "
          f"{harness.Spread.of(ratios_one).show(2, 'x')}")
    print(f"GraphQL p99 / raw p99, 100 rows (per round): {p99_ratio.show(2, 'x')}")
    print(f"1-row cached/uncached throughput (per round): {gain.show(2, 'x')}")
    if results["write"]:
        writes = harness.Spread.of([r.rps for r in results["write"]])
        print(f"single-item writes: {writes.show(0)} writes/s "
              f"(synchronous={args.synchronous.upper()}, one transaction per request)")
    print()
    print("Targets (issue #13, S1; reported, never enforced):")
    harness.print_table(
        ["target", "measured", "verdict"],
        [
            [f"GraphQL 100 rows >= {TARGET_THROUGHPUT_SHARE}x the raw route's req/s "
             f"(cost ratio <= {1 / TARGET_THROUGHPUT_SHARE:.2f}x)",
             f"{share.median:.2f}x (cost {ratio.median:.2f}x)",
             harness.verdict(share.median >= TARGET_THROUGHPUT_SHARE)],
            [f"GraphQL 100 rows p99 <= {TARGET_P99_RATIO}x the raw p99 "
             f"[c={args.connections}]",
             f"{p99_ratio.median:.2f}x", harness.verdict(p99_ratio.median <= TARGET_P99_RATIO)],
            [f"1-row cached/uncached >= {TARGET_CACHE_GAIN}x", f"{gain.median:.2f}x",
             harness.verdict(gain.median >= TARGET_CACHE_GAIN)],
        ],
    )

if __name__ == "__main__":
    raise SystemExit(main())

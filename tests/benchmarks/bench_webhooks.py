"""Webhook throughput: signed GitHub `push` deliveries per second through the full path
(verify HMAC -> IngestWebhookDelivery mutation -> SQLite commit -> publish), next to two
baselines measured in the same run, in interleaved rounds:

- the raw stack (raw_webhook_app.py): a plain Starlette route under uvicorn with the
  options `arcos serve` uses, doing the least any server on this stack does for the same
  delivery (verify the HMAC in constant time, check the headers, parse the JSON, insert one
  row through aiosqlite with arcos's pragmas, commit, answer), with one transaction per
  delivery and, the design arcos uses, with group commit; same load tool, connections,
  bodies and headers. Below 2,000/s the target exceeds the stack on this machine;
- a raw `sqlite3` loop inserting one row per transaction with the same pragmas (no HTTP).

Target: >= 2,000 deliveries/s per worker on SQLite (issue #13; the raw loop did about
5,900 rows/s on an idle machine then, so the target is about 0.34x of it: on a busy
machine, where all fall, read the ratios as well).

Run: .venv/bin/python tests/benchmarks/bench_webhooks.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import harness
import httpx

TARGET_RATE = 2000.0
#: The raw loop's rate when the target was set (issue #13), to read the ratio against.
TARGET_RAW_RATE = 5900.0
SECRET = "bench-webhook-secret-0123456789"
PUSH = harness.REPO_ROOT / "tests" / "webhook_payloads" / "github" / "push.branch.json"


def raw_sqlite_rate(path: Path, synchronous: str, row: bytes, seconds: float) -> float:
    """Rows/s for one-row transactions on a fresh SQLite file with ARCOS's pragmas."""
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", f"synchronous={synchronous}", "foreign_keys=ON",
                   "busy_timeout=5000"):
        connection.execute(f"PRAGMA {pragma}")
    connection.execute("CREATE TABLE delivery (id INTEGER PRIMARY KEY, key TEXT UNIQUE, "
                       "body BLOB)")
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        connection.execute("BEGIN")
        connection.execute("INSERT INTO delivery (key, body) VALUES (?, ?)", (str(count), row))
        connection.execute("COMMIT")
        count += 1
    elapsed = time.perf_counter() - start
    connection.close()
    return count / elapsed


@dataclass(frozen=True)
class Deliveries:
    """The signed delivery every server receives: the same body and headers."""

    body: bytes
    signature: str

    def headers(self, run: str) -> dict[str, str]:
        """Headers with a delivery id new to every request of every load run: the load
        tool's `__N__` counter restarts at 1 on each run (the warm-up too), and a repeated
        id is a duplicate, which every server answers without writing a row."""
        return {
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": f"bench-{run}-__N__",
            "X-GitHub-Hook-ID": "1",
            "X-Hub-Signature-256": self.signature,
        }


def measure(
    tool: str, url: str, deliveries: Deliveries, run: str, args: argparse.Namespace,
    server: harness.ServerProcess, workdir: Path,
) -> harness.LoadResult:
    """An unmeasured warm-up, then the measured run, each with delivery ids of its own."""
    common = {"connections": args.connections, "warmup": 0.0, "vary": True,
              "server": server, "workdir": workdir}
    if args.warmup > 0:
        harness.run_load(tool, url, deliveries.body, duration=args.warmup,
                         headers=deliveries.headers(f"{run}w"), **common)
    return harness.run_load(tool, url, deliveries.body, duration=args.duration,
                            headers=deliveries.headers(run), **common)


def start_raw_stack(workdir: Path, synchronous: str) -> harness.ServerProcess:
    """raw_webhook_app.py under uvicorn with the options `arcos serve` runs it with (loop
    and HTTP `auto`, lifespan on, 1 worker, warning log level, so no access log), pinned
    to the server core like arcos, on a SQLite file of its own."""
    import raw_webhook_app as raw

    port = harness.free_port()
    command = [
        sys.executable, "-m", "uvicorn", "raw_webhook_app:raw_webhook_app_from_env",
        "--factory", "--app-dir", str(Path(__file__).resolve().parent), "--host",
        "127.0.0.1", "--port", str(port), "--loop", "auto", "--http", "auto",
        "--lifespan", "on", "--log-level", "warning",
    ]
    env = {raw.DATABASE_PATH: str(workdir / "raw-hooks.db"), raw.SECRET: SECRET,
           raw.SYNCHRONOUS: synchronous}
    return harness.start_server("raw", command, port, workdir / f"raw-{port}.log", env=env)


def check_raw_stack(url: str, deliveries: Deliveries) -> None:
    """Before timing: the raw route accepts a signed delivery once, answers the same id
    again as a duplicate and refuses a wrong signature, so it does what it claims."""
    headers = {**deliveries.headers(f"check-{url.rsplit('/', 1)[1]}"),
               "Content-Type": "application/json"}
    first = httpx.post(url, content=deliveries.body, headers=headers)
    again = httpx.post(url, content=deliveries.body, headers=headers)
    forged = httpx.post(url, content=deliveries.body + b" ", headers=headers)
    seen = (first.status_code, first.json().get("duplicate"), again.status_code,
            again.json().get("duplicate"), forged.status_code)
    if seen != (200, False, 200, True, 401):
        raise RuntimeError(f"raw stack at {url} misbehaves: {seen}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    harness.add_load_arguments(parser, connections=16)
    return parser.parse_args(argv)


def stack_verdict(one: float, group: float) -> str:
    """Whether the target is within reach of the stack at all on this machine."""
    if one >= TARGET_RATE:
        return "within reach of the stack here (even one transaction per delivery)"
    if group >= TARGET_RATE:
        return "within reach of the stack here only with group commit (arcos's design)"
    return ("exceeds the stack here: the raw stack itself does < "
            f"{TARGET_RATE:,.0f}/s, group commit included")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tool, workdir = harness.prepare(args)
    body = PUSH.read_bytes()
    deliveries = Deliveries(
        body, "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest())
    print(f"payload: {PUSH.name}, {len(body):,} bytes (octokit example)")
    cases = ("arcos", "raw stack", "raw stack, group commit")
    results: dict[str, list[harness.LoadResult]] = {case: [] for case in cases}
    raw: list[float] = []
    with harness.running([]) as servers:
        arcos = harness.start_arcos(
            f"sqlite://{workdir / 'hooks.db'}", workdir, synchronous=args.synchronous,
            extra_env={"ARCOS_GITHUB_WEBHOOK_SECRET": SECRET},
        )
        servers.append(arcos)
        stack = start_raw_stack(workdir, args.synchronous)
        servers.append(stack)
        targets = {
            "arcos": (arcos, f"{arcos.http_url}/api/webhooks/github"),
            "raw stack": (stack, f"{stack.http_url}/hook"),
            "raw stack, group commit": (stack, f"{stack.http_url}/hook-group"),
        }
        for _, url in list(targets.values())[1:]:
            check_raw_stack(url, deliveries)
        for round_number in range(1, args.rounds + 1):
            # Alternate the order, so neither side always runs right after the other.
            order = cases if round_number % 2 else tuple(reversed(cases))
            for case in order:
                server, url = targets[case]
                run = f"r{round_number}c{cases.index(case)}"
                results[case].append(measure(tool, url, deliveries, run, args, server, workdir))
            harness.pin_self(harness.SERVER_CORE)  # the raw loop gets the server's core
            raw.append(raw_sqlite_rate(workdir / "raw.db", args.synchronous, body,
                                       args.duration))
            harness.pin_self(harness.CLIENT_CORE)
            shown = "  ".join(
                f"{case} {results[case][-1].rps:6.0f}/s (p99 {results[case][-1].p99_ms:.1f} ms, "
                f"err {results[case][-1].errors}, CPU {results[case][-1].server_cpu_pct:.0f}%)"
                for case in cases)
            print(f"round {round_number}: {shown}  raw sqlite3 {raw[-1]:6.0f} rows/s",
                  flush=True)
    rates = {case: harness.Spread.of([r.rps for r in results[case]]) for case in cases}
    raw_rate = harness.Spread.of(raw)
    print()
    harness.print_table(
        ["path", "per second", "p50 ms", "p99 ms", "server CPU %", "CPU ms/delivery"],
        [*([label, rates[case].show(0),
            harness.Spread.of([r.p50_ms for r in results[case]]).show(1),
            harness.Spread.of([r.p99_ms for r in results[case]]).show(1),
            harness.Spread.of([r.server_cpu_pct for r in results[case]]).show(0),
            # Server CPU per delivery: what the route costs, apart from waiting on the disk.
            harness.Spread.of([r.server_cpu_pct * 10 / max(r.rps, 1e-9) for r in results[case]]).show(2)]
           for case, label in zip(cases, (
               "arcos: signed push -> evidence", "raw stack: 1 tx per delivery",
               "raw stack: group commit"), strict=True)),
         ["raw sqlite3 1-row tx (no HTTP)", raw_rate.show(0), "-", "-", "-", "-"]],
    )

    def ratio(case: str) -> harness.Spread:
        """arcos / `case`, taken within each round."""
        return harness.Spread.of([a.rps / b.rps for a, b in zip(
            results["arcos"], results[case], strict=True)])

    print(f"\narcos / raw stack (1 tx per delivery): {ratio('raw stack').show(3, 'x')}")
    print(f"arcos / raw stack (group commit): {ratio('raw stack, group commit').show(3, 'x')}")
    ratios = harness.Spread.of([w.rps / r for w, r in zip(results["arcos"], raw, strict=True)])
    print(f"arcos / raw insert loop: {ratios.show(3, 'x')} (the target as a ratio: "
          f"{TARGET_RATE / TARGET_RAW_RATE:.2f}x, {TARGET_RATE:,.0f} against "
          f"{TARGET_RAW_RATE:,.0f} rows/s: "
          f"{harness.verdict(ratios.median >= TARGET_RATE / TARGET_RAW_RATE)})")
    print(f"stack: the >= {TARGET_RATE:,.0f}/s target is "
          f"{stack_verdict(rates['raw stack'].median, rates['raw stack, group commit'].median)}")
    met = harness.verdict(rates["arcos"].median >= TARGET_RATE)
    print(f"deliveries/s target >= {TARGET_RATE:,.0f}: {met}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())

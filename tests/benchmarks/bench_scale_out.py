"""Issue #15 scale-out: cross-instance delivery latency, and write throughput of one and two
instances on PostgreSQL against `pgbench`, in one run.

Run on demand (not part of pytest):

    .venv/bin/python tests/benchmarks/bench_scale_out.py            # ~2-3 min
    .venv/bin/python tests/benchmarks/bench_scale_out.py --quick    # smoke run, ~1 min
    .venv/bin/python tests/benchmarks/bench_scale_out.py --instances 3

What it does:

* Creates two scratch PostgreSQL databases (`arcos_bench_<pid>_<hex>_shared` and `..._alone`)
  on the server `--postgres-url` names (its user must be allowed to create databases, like
  tests/conftest.py's `postgres_database`), and drops them at the end, on errors and on
  Ctrl-C too (`--keep-db` keeps them). The shared one holds one deployment: `--instances`
  `arcos serve` processes (A, B[, C]) with ARCOS_BROKER_URL=`--redis-url`. A deployment's
  Redis channel is named after its store, so a new database is a new deployment on a Redis
  shared with others. The other database holds one more instance with the in-process broker,
  the single-process baseline.
* Latency, per round (the cases interleave): `--subscribers` graphql-transport-ws clients
  (one client process, bench_subscription_fanout.py's) subscribe to `evidenceAdded` on one
  instance, and the driver posts `--events` items with `submitEvidence` at `--rate` per
  second on an absolute schedule; each item carries the time taken just before its POST,
  and every client records receipt time minus that time. Cases:
    - `cross-instance`: subscribers on A, posts to B (and C in turn): PostgreSQL commit on B,
      B's relay publishes to Redis, A's broker restores commit order and fans out;
    - `same instance, Redis`: subscribers and posts on A: an instance hears its own events
      back from Redis, so this is the deployment's path minus the second instance;
    - `in-process broker`: subscribers and posts on the lone instance (no Redis), the path
      of a one-process deployment on PostgreSQL.
  Deliveries a client never got (after `--grace` seconds), got twice, or got after a later
  event (the driver posts one at a time, so index order is commit order) are counted.
* A raw Redis baseline: the bytes B published for one such event (captured from the
  deployment's channel before the rounds) PUBLISHed `--events` times at `--rate` on a
  scratch channel to one SUBSCRIBEr in the driver: what the Redis hop alone costs.
* Writes, per round: `pgbench -n -M prepared -f insert.sql -c C -j 2 -T S` doing one
  single-row INSERT per transaction into a scratch table (payload jsonb, bigserial key,
  created_at default now()) in the shared database; then `submitEvidence` (one item per
  request, one transaction each) from C closed-loop connections to A alone, and then split
  over A and B. Rows counted in the table before and after each measured run check that
  every answered request wrote. For reference, pgbench also runs the same insert with a
  transaction-scoped advisory lock held through its commit, the way arcos/store/outbox.py
  keeps outbox positions in commit order: that serialises every commit of the deployment,
  and this line is the ceiling of any writer doing so on this machine.
* A raw-stack baseline for the writes, in the same rounds: raw_insert_app.py, a plain
  Starlette app under uvicorn with the options `arcos serve` uses (loop and HTTP `auto`,
  1 worker), whose POST route inserts pgbench's row (the same JSON, its own `n` per
  request) with asyncpg from a pool of C connections and answers a small JSON: x1 (one
  process, C clients) and x2 (two processes, clients split as for arcos x2), and once more
  with the row, the advisory lock and an outbox row in one transaction (arcos's commit
  protocol without arcos). Same load tool, same C. Its ratio to pgbench says whether the
  target is within this stack's reach at all on this machine; arcos / raw says how much of
  the stack's throughput arcos keeps.
* At the end, the warnings and errors the servers logged (e.g. broker positions reported
  lost) are counted and the first few shown.

Targets (issue #15), printed with MET / NOT MET and never enforced: cross-instance p99 <
50 ms at 100 subscribers with nothing lost, repeated or reordered; each arcos write line
>= 0.5x pgbench's TPS at the same client count. The raw-stack lines carry no target: a
"Stack ceiling" line says whether the better of raw x1 and x2 reaches 0.5x pgbench.

Servers are not pinned (N instances, PostgreSQL and Redis share this machine's cores the
way a one-box deployment would); the subscriber client and the HTTP load generator run on
core 1 when `taskset` exists. pgbench must be installed (Debian: the `postgresql-15`
server package ships it, `postgresql-contrib` depends on it); without it the pgbench line
says so and the write ratios are not computed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import bench_subscription_fanout as fanout
import harness
import httpx

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

#: Issue #15's targets.
TARGET_SUBSCRIBERS = 100
TARGET_P99_MS = 50.0
TARGET_PGBENCH_SHARE = 0.5

#: Full run and --quick defaults; a flag given on the command line wins over both.
DEFAULTS: dict[str, dict[str, Any]] = {
    "full": {"subscribers": 100, "events": 80, "rate": 10.0, "rounds": 2, "clients": 8,
             "duration": 5.0, "warmup": 1.0},
    "quick": {"subscribers": 20, "events": 20, "rate": 10.0, "rounds": 1, "clients": 4,
              "duration": 2.0, "warmup": 1.0},
}

WRITE = ("mutation($i: SubmitEvidenceInput!){ submitEvidence(input:$i){ evidence{id} "
         "errors{message} } }")
#: `__N__` is replaced by the load generator's request counter, so every item differs.
WRITE_ITEM = {"type": "test_results", "source": "bench-scale-out", "ref": "refs/heads/main",
              "data": {"n": "__N__", "suite": "scale-out"}}
PGBENCH_TABLE = "bench_insert"
#: The same JSON the arcos writes carry as `data`, as pgbench's row payload.
PGBENCH_PAYLOAD = '{"n": 1, "suite": "scale-out"}'
#: A transaction-scoped advisory lock taken after the insert and held through the commit,
#: as arcos/store/outbox.py does to keep outbox positions in commit order: commits then
#: run one at a time across every instance. Its own key (advisory locks are per database
#: anyway, and this is a scratch one).
PGBENCH_LOCK_KEY = 0x42454E4348  # "BENCH"
INSERT_STATEMENT = f"INSERT INTO {PGBENCH_TABLE} (payload) VALUES ('{PGBENCH_PAYLOAD}');"
#: pgbench scripts: the target's baseline, and the same insert committed under one lock
#: (the ceiling of any writer that serialises its commits that way; printed for reference).
PGBENCH_SCRIPTS = {
    "pgbench, 1-row INSERT": INSERT_STATEMENT,
    "pgbench, INSERT + commit under one advisory lock": "\n".join([
        "BEGIN;", INSERT_STATEMENT, f"SELECT pg_advisory_xact_lock({PGBENCH_LOCK_KEY});",
        "COMMIT;",
    ]),
}
PLAIN_PGBENCH = next(iter(PGBENCH_SCRIPTS))
#: The raw stack's outbox rows (raw_insert_app.py's /insert-outbox), shaped like arcos_outbox.
RAW_OUTBOX_TABLE = "bench_outbox"
#: What the raw stack's clients POST: pgbench's payload, with its own `n` per request.
RAW_BODY = PGBENCH_PAYLOAD.replace('"n": 1', '"n": __N__').encode()

#: The write cases, in the order they run within a round. Only the arcos ones carry the
#: target; the raw-stack ones (raw_insert_app.py) say what the stack reaches without arcos.
ARCOS_X1 = "arcos x1 (A), submitEvidence"
ARCOS_X2 = "arcos x2 (A+B), submitEvidence"
RAW_X1 = "raw stack x1, 1-row INSERT"
RAW_X2 = "raw stack x2, 1-row INSERT"
RAW_OUTBOX = "raw stack x1, INSERT + outbox row under the lock"
TARGET_CASES = (ARCOS_X1, ARCOS_X2)
RAW_STACK_CASES = (RAW_X1, RAW_X2)

LATENCY_CASES = ("cross-instance", "same instance, Redis", "in-process broker")


# --------------------------------------------------------------------------- PostgreSQL


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` instead (credentials and options kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _asyncpg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def _execute(url: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_url(url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _fetchval(url: str, query: str) -> Any:
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_url(url))
    try:
        return await connection.fetchval(query)
    finally:
        await connection.close()


def count_rows(url: str, table: str) -> int:
    return int(asyncio.run(_fetchval(url, f'SELECT count(*) FROM "{table}"')))


@contextlib.contextmanager
def scratch_databases(admin_url: str, suffixes: Sequence[str], keep: bool) -> Iterator[
    dict[str, str]
]:
    """New databases, one per suffix, dropped on the way out (whatever happened) unless
    `keep`: every run starts from empty stores and leaves nothing behind."""
    stem = f"arcos_bench_{os.getpid()}_{secrets.token_hex(4)}"
    created: dict[str, str] = {}
    try:
        for suffix in suffixes:
            name = f"{stem}_{suffix}"
            asyncio.run(_execute(admin_url, f'CREATE DATABASE "{name}"'))
            created[suffix] = with_database(admin_url, name)
        yield created
    finally:
        for url in created.values():
            name = urlsplit(url).path.lstrip("/")
            if keep:
                print(f"kept scratch database {name}")
                continue
            try:
                asyncio.run(_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception as error:  # report, and go on dropping the others
                print(f"could not drop scratch database {name}: {error}", file=sys.stderr)


def postgres_lines(admin_url: str) -> list[str]:
    """Version and the settings a commit's cost depends on."""
    async def read() -> list[str]:
        import asyncpg

        connection = await asyncpg.connect(_asyncpg_url(admin_url))
        try:
            version = await connection.fetchval("SHOW server_version")
            names = ("synchronous_commit", "fsync", "wal_sync_method", "max_connections",
                     "shared_buffers")
            values = [f"{n}={await connection.fetchval(f'SHOW {n}')}" for n in names]
        finally:
            await connection.close()
        return [f"postgresql      {version} at {urlsplit(admin_url).hostname}:"
                f"{urlsplit(admin_url).port or 5432}: {', '.join(values)}"]
    return asyncio.run(read())


# --------------------------------------------------------------------------- pgbench


@dataclass(frozen=True)
class PgbenchResult:
    tps: float
    latency_ms: float
    failed: int
    machine_busy_pct: float


def pgbench_version() -> str | None:
    if shutil.which("pgbench") is None:
        return None
    return subprocess.run(["pgbench", "--version"], capture_output=True, text=True,
                          check=False).stdout.strip()


def prepare_pgbench(database_url: str, workdir: Path) -> dict[str, Path]:
    """The scratch tables (pgbench's and the raw stack's outbox) and the script files
    pgbench runs (one transaction each)."""
    asyncio.run(_execute(
        database_url,
        f"CREATE TABLE {PGBENCH_TABLE} (id bigserial PRIMARY KEY, payload jsonb NOT NULL, "
        "created_at timestamptz NOT NULL DEFAULT now())",
        f"CREATE TABLE {RAW_OUTBOX_TABLE} (position bigserial PRIMARY KEY, "
        "topic varchar(128) NOT NULL, key varchar(64), payload text NOT NULL, "
        "created_at timestamptz NOT NULL)",
        f"CREATE INDEX ON {RAW_OUTBOX_TABLE} (topic, key)",
    ))
    scripts = {}
    for number, (case, text) in enumerate(PGBENCH_SCRIPTS.items()):
        scripts[case] = workdir / f"pgbench-{number}.sql"
        scripts[case].write_text(text + "\n")
    return scripts


def run_pgbench(database_url: str, script: Path, clients: int, seconds: float) -> PgbenchResult:
    """One `pgbench -n -M prepared` run of `script` (TPS without connection time)."""
    command = [
        "pgbench", "-n", "-M", "prepared", "-f", str(script), "-c", str(clients),
        "-j", str(min(2, clients)), "-T", str(max(1, round(seconds))), database_url,
    ]
    with MachineCpu() as cpu:
        completed = subprocess.run(command, capture_output=True, text=True, check=False,
                                   timeout=seconds + 120)
    tps = re.search(r"^tps = ([\d.]+)", completed.stdout, re.MULTILINE)
    if completed.returncode != 0 or tps is None:
        raise RuntimeError(f"pgbench failed:\n{completed.stdout}\n{completed.stderr}")
    latency = re.search(r"^latency average = ([\d.]+) ms", completed.stdout, re.MULTILINE)
    failed = re.search(r"^number of failed transactions: (\d+)", completed.stdout, re.MULTILINE)
    return PgbenchResult(float(tps.group(1)), float(latency.group(1)) if latency else 0.0,
                         int(failed.group(1)) if failed else 0, cpu.busy_pct)


# --------------------------------------------------------------------------- machine CPU


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat (0, 0 without it)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


class MachineCpu:
    """The machine's busy share over an interval: near 100 % means the run was CPU-bound
    (which the servers, PostgreSQL, the load generator and other work share)."""

    def __enter__(self) -> MachineCpu:
        self._start = _cpu_ticks()
        self.busy_pct = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        busy, total = _cpu_ticks()
        if total > self._start[1]:
            self.busy_pct = 100 * (busy - self._start[0]) / (total - self._start[1])


# --------------------------------------------------------------------------- servers


def start_instance(
    name: str, database_url: str, broker_url: str, workdir: Path, subscribers: int,
    compression: str,
) -> harness.ServerProcess:
    """One `arcos serve` (unpinned) on `database_url`; `broker_url` empty means the
    in-process broker. Limits made for one principal and address are lifted to let one
    token hold every benchmark subscriber."""
    server = harness.start_arcos(database_url, workdir, core=None, extra_env={
        "ARCOS_BROKER_URL": broker_url,
        "ARCOS_MAX_LIVE_CONNECTIONS_PER_PRINCIPAL": str(subscribers),
        "ARCOS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL": str(subscribers),
        "ARCOS_WS_MAX_PENDING_PER_ADDRESS": str(subscribers),
        "ARCOS_WS_COMPRESSION": "true" if compression == "deflate" else "false",
    })
    server.name = name
    return server


def start_raw(name: str, database_url: str, workdir: Path, pool_size: int) -> harness.ServerProcess:
    """One raw-stack process (raw_insert_app.py), unpinned like the arcos instances, under
    uvicorn with the options `arcos serve` runs it with (loop and HTTP `auto`, lifespan on,
    1 worker, warning log level, so no access log)."""
    import raw_insert_app as raw

    port = harness.free_port()
    command = [
        sys.executable, "-m", "uvicorn", "raw_insert_app:raw_insert_app_from_env", "--factory",
        "--app-dir", str(Path(__file__).resolve().parent), "--host", "127.0.0.1",
        "--port", str(port), "--loop", "auto", "--http", "auto", "--lifespan", "on",
        "--log-level", "warning",
    ]
    env = {
        raw.DATABASE_URL: database_url, raw.POOL_SIZE: str(pool_size),
        raw.TABLE: PGBENCH_TABLE, raw.OUTBOX_TABLE: RAW_OUTBOX_TABLE,
        raw.LOCK_KEY: str(PGBENCH_LOCK_KEY),
    }
    return harness.start_server(name, command, port, workdir / f"{name}-{port}.log", env=env,
                                core=None)


def wait_ready(server: harness.ServerProcess, timeout: float = 30.0) -> None:
    """Wait for /readyz (store and broker reachable): a deployment instance not connected
    to Redis would turn every latency figure into a lost-event count."""
    deadline = time.monotonic() + timeout
    answer = "no answer"
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            response = httpx.get(f"{server.http_url}/readyz", timeout=5)
            if response.status_code == 200:
                return
            answer = f"{response.status_code} {response.text[:300]}"
        except httpx.HTTPError as error:
            answer = str(error)
        time.sleep(0.2)
    raise RuntimeError(f"instance {server.name} is not ready after {timeout:g} s: {answer}")


def events_channel(database_url: str) -> str:
    """The deployment's Redis channel, named by the arcos the servers import."""
    code = ("import sys\nfrom arcos.settings import Settings\n"
            "from arcos.redis_broker.naming import events_channel\n"
            "print(events_channel(Settings(database_url=sys.argv[1])))")
    completed = subprocess.run([sys.executable, "-c", code, database_url], capture_output=True,
                               text=True, check=False, cwd=tempfile.gettempdir())
    if completed.returncode != 0:
        raise RuntimeError(f"this arcos has no shared broker naming: {completed.stderr[-500:]}")
    return completed.stdout.strip()


# --------------------------------------------------------------------------- Redis


def capture_published(redis_url: str, channel: str, poster: harness.ServerProcess) -> bytes:
    """Post one item to `poster` and return the bytes its broker PUBLISHed for it: proof
    the deployment's instances really talk through this Redis, and the payload of the raw
    baseline."""
    import redis

    client = redis.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    try:
        pubsub.subscribe(channel)
        if pubsub.get_message(timeout=5) is None:
            raise RuntimeError(f"could not subscribe to {channel} on {redis_url}")
        sender = fanout.Sender("arcos", poster)
        try:
            sender.send(-1)
        finally:
            sender.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=1)
            if message and message["type"] == "message" and b"bench-fanout" in message["data"]:
                return bytes(message["data"])
        raise RuntimeError(f"instance {poster.name} committed an item but nothing carrying it "
                           f"arrived on {channel} within 10 s: its broker does not publish")
    finally:
        pubsub.close()
        client.close()


@dataclass
class RedisRound:
    latencies_ms: list[float]
    lost: int


async def _redis_round(url: str, payload: bytes, count: int, rate: float,
                       grace: float) -> RedisRound:
    from redis.asyncio import Redis

    channel = f"arcos-bench:{secrets.token_hex(8)}:raw"
    publisher = Redis.from_url(url)
    subscriber = Redis.from_url(url)
    pubsub = subscriber.pubsub()
    received: list[float] = []
    try:
        await pubsub.subscribe(channel)
        while (await pubsub.get_message(timeout=5)) is None:
            pass

        async def receive() -> None:
            while len(received) < count:
                message = await pubsub.get_message(timeout=1)
                if message is not None and message["type"] == "message":
                    received.append(time.perf_counter())

        receiver = asyncio.create_task(receive())
        sent: list[float] = []
        start = time.perf_counter()
        for index in range(count):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent.append(time.perf_counter())
            await publisher.publish(channel, payload)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(receiver, grace)
        # Redis delivers one channel's messages in order, so the n-th arrival is the n-th send.
        latencies = sorted((r - s) * 1000 for s, r in zip(sent, received, strict=False))
        return RedisRound(latencies, count - len(received))
    finally:
        await pubsub.aclose()
        await publisher.aclose()
        await subscriber.aclose()


def redis_round(url: str, payload: bytes, args: argparse.Namespace) -> RedisRound:
    return asyncio.run(_redis_round(url, payload, args.events, args.rate, args.grace))


# --------------------------------------------------------------------------- writes


@dataclass
class WriteResult:
    """One closed-loop write measurement over one or more instances."""

    case: str
    tps: float
    p50_ms: float
    p99_ms: float
    requests: int
    rows: int
    errors: int
    machine_busy_pct: float
    server_cpu_pct: list[float]
    #: CPU of the load generator processes over the run, in % of one core: next to the
    #: servers' and the machine's, it says who used the cores.
    client_cpu_pct: float
    notes: list[str]


@dataclass(frozen=True)
class WriteCase:
    """Where one write case's clients post, what, and which table each answer adds a row to."""

    servers: Sequence[harness.ServerProcess]
    path: str
    body: bytes
    table: str


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _children_cpu_seconds() -> float:
    """CPU the driver's reaped children have used (the load generators of a run are)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_writes(
    case: str, target: WriteCase, database_url: str, args: argparse.Namespace, workdir: Path,
) -> WriteResult:
    """`args.clients` connections split over the case's servers, each posting its body in a
    closed loop (a warm-up first, then the measured run, all servers at once)."""
    servers = target.servers
    shares = _split(args.clients, len(servers))

    def load(duration: float) -> list[harness.LoadResult]:
        def one(pair: tuple[harness.ServerProcess, int]) -> harness.LoadResult:
            server, connections = pair
            return harness.run_load(
                args.load_tool, f"{server.http_url}{target.path}", target.body,
                connections=connections,
                duration=duration, warmup=0, vary=True, headers=server.auth_headers,
                server=server, workdir=workdir,
            )
        with ThreadPoolExecutor(len(servers)) as pool:
            return list(pool.map(one, zip(servers, shares, strict=True)))

    if args.warmup > 0:
        load(args.warmup)
    before = count_rows(database_url, target.table)
    clients_before = _children_cpu_seconds()
    started = time.perf_counter()
    with MachineCpu() as cpu:
        results = load(args.duration)
    client_cpu_pct = 100 * (_children_cpu_seconds() - clients_before) / (
        time.perf_counter() - started)
    rows = count_rows(database_url, target.table) - before
    latencies = [r for r in results if r.requests]
    return WriteResult(
        case=case,
        tps=sum(r.rps for r in results),
        p50_ms=max((r.p50_ms for r in latencies), default=0.0),
        p99_ms=max((r.p99_ms for r in latencies), default=0.0),
        requests=sum(r.requests for r in results),
        rows=rows,
        errors=sum(r.errors for r in results),
        machine_busy_pct=cpu.busy_pct,
        server_cpu_pct=[r.server_cpu_pct for r in results],
        client_cpu_pct=client_cpu_pct,
        notes=sorted({n for r in results for n in r.notes}),
    )


# --------------------------------------------------------------------------- the run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: fewer subscribers, events and seconds, one round")
    parser.add_argument("--instances", type=int, default=2, choices=(2, 3),
                        help="deployment instances; with 3, posts alternate between B and C")
    parser.add_argument("--subscribers", type=int, help="subscribers on A (default 100)")
    parser.add_argument("--events", type=int, help="events per latency round (default 80)")
    parser.add_argument("--rate", type=float, help="events per second (default 10)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds of each part (default 2)")
    parser.add_argument("--clients", type=int,
                        help="write concurrency: pgbench -c and HTTP connections (default 8)")
    parser.add_argument("--duration", type=float, help="seconds per write run (default 5)")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds first (default 1)")
    parser.add_argument("--grace", type=float, default=5.0,
                        help="seconds to wait for late messages before counting them lost")
    parser.add_argument("--compression", default="deflate", choices=["deflate", "none"],
                        help="permessage-deflate offered by the subscribers (browsers do)")
    parser.add_argument("--postgres-url",
                        default=os.environ.get("ARCOS_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL,
                        help="a PostgreSQL database whose user may create databases "
                        "(default: $ARCOS_TEST_POSTGRES_URL, else %(default)s)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help="the deployment's broker (ARCOS_BROKER_URL; default %(default)s)")
    parser.add_argument("--keep-db", action="store_true",
                        help="keep the scratch databases (their names are printed)")
    parser.add_argument("--skip-latency", action="store_true", help="only the write part")
    parser.add_argument("--skip-writes", action="store_true", help="only the latency part")
    parser.add_argument("--load-tool", default="auto", choices=("auto", "wrk", "python"))
    parser.add_argument("--workdir", help="where the logs go (default: temp dir)")
    parser.add_argument("--arcos-src", help="import arcos from this directory (see README)")
    args = parser.parse_args(argv)
    for key, value in DEFAULTS["quick" if args.quick else "full"].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.load_tool = harness.load_tool_name(args.load_tool)
    return args


def fanout_args(args: argparse.Namespace, workdir: Path) -> argparse.Namespace:
    """The namespace bench_subscription_fanout.run_round expects."""
    return argparse.Namespace(
        clients=args.subscribers, events=args.events, rate=args.rate,
        compression=args.compression, grace=args.grace, connect_gap=0.001,
        py_spy=None, workdir_path=str(workdir),
    )


def header(args: argparse.Namespace, workdir: Path, pgbench: str | None) -> None:
    import redis

    versions = harness.package_versions()
    for package in ("asyncpg", "redis"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[package] = importlib.metadata.version(package)
    client = redis.Redis.from_url(args.redis_url)
    try:
        redis_version = client.info("server").get("redis_version", "?")
    finally:
        client.close()
    pinning = (f"servers unpinned; subscriber client and load generator on core "
               f"{harness.CLIENT_CORE} (taskset)" if harness.can_pin()
               else "off (no taskset or fewer than 2 cores)")
    lines = [
        f"date            {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"arcos           {harness.arcos_source_line()}",
        f"machine         {harness.cpu_model()}, {os.cpu_count()} cores",
        harness.load_average_line("before the run; the benchmark itself adds 2-3"),
        "versions        " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        *postgres_lines(args.postgres_url),
        f"redis           {redis_version} at {urlsplit(args.redis_url).netloc}",
        f"pgbench         {pgbench or 'NOT INSTALLED: the pgbench line is skipped'}",
        f"servers         python -m arcos serve: uvicorn, 1 worker each; {args.instances} "
        "instances sharing one database and Redis, plus one instance with the in-process "
        "broker on its own database; for the write part, 2 raw-stack processes "
        "(raw_insert_app.py: Starlette + asyncpg under uvicorn, same options, pool = "
        f"{args.clients} connections each)",
        f"pinning         {pinning}",
        f"load tool       {harness.describe_load_tool(args.load_tool, args.clients)}",
        f"work directory  {workdir}",
    ]
    for line in lines:
        print(line)
    mode = "quick (smoke run)" if args.quick else "full"
    print(f"run             {mode}: {args.rounds} round(s); latency {args.subscribers} "
          f"subscribers x {args.events} events at {args.rate:g}/s, compression "
          f"{args.compression}; writes {args.clients} clients x {args.duration:g} s "
          f"(+{args.warmup:g} s warm-up)")


def _exit_on_sigterm() -> None:
    """A SIGTERM unwinds like Ctrl-C, so servers stop and scratch databases are dropped."""
    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _exit_on_sigterm()
    harness.use_arcos_source(args.arcos_src)
    harness.raise_fd_limit()
    workdir = harness.make_workdir(args.workdir)
    pgbench = pgbench_version()
    print("ARCOS benchmark: issue #15 scale-out (cross-instance delivery, writes vs pgbench)")
    header(args, workdir, pgbench)
    latency: dict[str, list[fanout.RoundResult]] = {case: [] for case in LATENCY_CASES}
    raw_redis: list[RedisRound] = []
    writes: dict[str, list[WriteResult]] = {}
    pgbench_runs: dict[str, list[PgbenchResult]] = {}
    names = "ABC"[:args.instances]
    started: list[harness.ServerProcess] = []
    with scratch_databases(args.postgres_url, ("shared", "alone"), args.keep_db) as databases, \
            harness.running(started) as servers:
        shared = databases["shared"]
        print(f"databases       {', '.join(urlsplit(u).path.lstrip('/') for u in databases.values())}"
              " (scratch, dropped at the end)")
        # One after another: the first creates the tables, the others find them.
        deployment = []
        for name in names:
            server = start_instance(name, shared, args.redis_url, workdir, args.subscribers,
                                    args.compression)
            servers.append(server)
            deployment.append(server)
        alone = start_instance("alone", databases["alone"], "", workdir, args.subscribers,
                               args.compression)
        servers.append(alone)
        for server in servers:
            wait_ready(server)
        channel = events_channel(shared)
        payload = capture_published(args.redis_url, channel, deployment[1])
        print(f"redis channel   {channel}; one event as B published it: {len(payload)} bytes")
        print()
        if not args.skip_latency:
            run_latency(args, workdir, deployment, alone, payload, latency, raw_redis)
        if not args.skip_writes:
            raw = [start_raw(f"raw{n}", shared, workdir, args.clients) for n in (1, 2)]
            servers.extend(raw)
            run_write_rounds(args, workdir, deployment, raw, shared, pgbench is not None,
                             writes, pgbench_runs)
    report_server_logs(started)
    print()
    if not args.skip_latency:
        report_latency(args, latency, raw_redis)
    if not args.skip_writes:
        report_writes(args, writes, pgbench_runs)
    print(f"\nlogs in {workdir}")
    print(harness.load_average_line("after the run"))
    return 0


def run_latency(
    args: argparse.Namespace, workdir: Path, deployment: Sequence[harness.ServerProcess],
    alone: harness.ServerProcess, payload: bytes,
    latency: dict[str, list[fanout.RoundResult]], raw_redis: list[RedisRound],
) -> None:
    a, others = deployment[0], list(deployment[1:])
    plan: dict[str, tuple[harness.ServerProcess, Sequence[harness.ServerProcess]]] = {
        "cross-instance": (a, others),
        "same instance, Redis": (a, ()),
        "in-process broker": (alone, ()),
    }
    round_args = fanout_args(args, workdir)
    print("Latency rounds (send -> subscriber receipt, ms)")
    for number in range(1, args.rounds + 1):
        for case, (subscribed, posted) in plan.items():
            result = fanout.run_round("arcos", subscribed, round_args, post_to=posted)
            latency[case].append(result)
            for server in deployment:
                server.check_alive()
            problems = "".join([
                f"  {result.errors} ERRORS e.g. {result.error_samples[:1]}" if result.errors
                else "",
                f"  {result.duplicates} DUPLICATES" if result.duplicates else "",
                f"  {result.out_of_order} OUT OF ORDER" if result.out_of_order else "",
            ])
            print(f"  round {number} {case:<21} p50 {result.pct(50):6.1f}  p99 "
                  f"{result.pct(99):6.1f}  max {result.pct(100):6.1f}  lost "
                  f"{result.lost}/{result.expected}{problems}", flush=True)
        raw = redis_round(args.redis_url, payload, args)
        raw_redis.append(raw)
        print(f"  round {number} {'raw Redis pub/sub':<21} p50 "
              f"{harness.percentile(raw.latencies_ms, 50):6.2f}  p99 "
              f"{harness.percentile(raw.latencies_ms, 99):6.2f}  max "
              f"{harness.percentile(raw.latencies_ms, 100):6.2f}  lost {raw.lost}/{args.events}",
              flush=True)


def run_write_rounds(
    args: argparse.Namespace, workdir: Path, deployment: Sequence[harness.ServerProcess],
    raw: Sequence[harness.ServerProcess], shared: str, have_pgbench: bool,
    writes: dict[str, list[WriteResult]], pgbench_runs: dict[str, list[PgbenchResult]],
) -> None:
    scripts = prepare_pgbench(shared, workdir)
    graphql = json.dumps({"query": WRITE, "variables": {"i": WRITE_ITEM}}).encode()
    cases = {
        ARCOS_X1: WriteCase(deployment[:1], "/graphql", graphql, "evidence"),
        ARCOS_X2: WriteCase(deployment[:2], "/graphql", graphql, "evidence"),
        RAW_X1: WriteCase(raw[:1], "/insert", RAW_BODY, PGBENCH_TABLE),
        RAW_X2: WriteCase(raw[:2], "/insert", RAW_BODY, PGBENCH_TABLE),
        RAW_OUTBOX: WriteCase(raw[:1], "/insert-outbox", RAW_BODY, PGBENCH_TABLE),
    }
    print(f"\nWrite rounds ({args.clients} clients)")
    for number in range(1, args.rounds + 1):
        for case, script in scripts.items() if have_pgbench else ():
            if args.warmup > 0:
                run_pgbench(shared, script, args.clients, args.warmup)
            result = run_pgbench(shared, script, args.clients, args.duration)
            pgbench_runs.setdefault(case, []).append(result)
            print(f"  round {number} {case}: {result.tps:.0f} TPS  latency avg "
                  f"{result.latency_ms:.2f} ms  failed {result.failed}  machine busy "
                  f"{result.machine_busy_pct:.0f}%", flush=True)
        for case, target in cases.items():
            result = run_writes(case, target, shared, args, workdir)
            writes.setdefault(case, []).append(result)
            cpu = "+".join(f"{pct:.0f}%" for pct in result.server_cpu_pct)
            unwritten = result.requests - result.rows
            print(f"  round {number} {case}: {result.tps:.0f} TPS  p50 {result.p50_ms:6.1f} "
                  f"ms  p99 {result.p99_ms:6.1f} ms  errors {result.errors}  rows "
                  f"{result.rows}/{result.requests} answered"
                  + (f" ({unwritten} ANSWERED WITHOUT A ROW)" if unwritten > 0 else "")
                  + f"  server CPU {cpu}  load generator CPU {result.client_cpu_pct:.0f}%"
                  + f"  machine busy {result.machine_busy_pct:.0f}%"
                  + (f"  notes {result.notes[:2]}" if result.notes else ""), flush=True)


#: Log lines worth showing after the run (uvicorn and arcos log at WARNING and above here).
LOG_PROBLEM = re.compile(r"WARNING|ERROR|CRITICAL|Traceback")


def report_server_logs(servers: Sequence[harness.ServerProcess]) -> None:
    """Count the servers' warnings and errors: a lost or reordered event is also logged."""
    print()
    for server in servers:
        lines = [line for line in server.log().splitlines() if LOG_PROBLEM.search(line)]
        shown = "".join(f"\n    {line[:300]}" for line in lines[:5])
        print(f"server log {server.name} ({server.log_path.name}): {len(lines)} warning/error "
              f"lines{shown}")


def _spread(values: Sequence[float], digits: int = 1) -> str:
    return harness.Spread.of(values).show(digits)


def report_latency(args: argparse.Namespace, latency: dict[str, list[fanout.RoundResult]],
                   raw_redis: list[RedisRound]) -> None:
    rows = []
    for case, runs in latency.items():
        rows.append([
            case, _spread([r.pct(50) for r in runs]), _spread([r.pct(95) for r in runs]),
            _spread([r.pct(99) for r in runs]), _spread([r.pct(100) for r in runs]),
            f"{sum(r.lost for r in runs)}/{sum(r.expected for r in runs)}",
            str(sum(r.duplicates for r in runs)), str(sum(r.out_of_order for r in runs)),
            _spread([harness.percentile(r.first_ms, 100) for r in runs]),
            _spread([harness.percentile(r.post_ms, 50) for r in runs]),
        ])
    rows.append([
        "raw Redis PUBLISH->SUBSCRIBE",
        _spread([harness.percentile(r.latencies_ms, 50) for r in raw_redis], 2),
        _spread([harness.percentile(r.latencies_ms, 95) for r in raw_redis], 2),
        _spread([harness.percentile(r.latencies_ms, 99) for r in raw_redis], 2),
        _spread([harness.percentile(r.latencies_ms, 100) for r in raw_redis], 2),
        f"{sum(r.lost for r in raw_redis)}/{args.events * len(raw_redis)}", "-", "-", "-", "-",
    ])
    print(f"Delivery latency, send -> receipt, ms: median (min-max) of {args.rounds} round(s); "
          f"each pools {args.subscribers} subscribers x {args.events} events at {args.rate:g}/s")
    harness.print_table(["case", "p50", "p95", "p99", "max", "lost", "dup", "out of order",
                         "slowest first", "POST p50"], rows)
    print("  slowest first: the latest first receipt of any event (the fastest subscriber's\n"
          "    latency for the slowest event): near `max`, the delay came before the fan-out\n"
          "    (request, commit, broker, a stalled process), not from serving subscribers")
    print("  POST p50: the submitEvidence round trip, part of every arcos latency above")
    print("  raw Redis: the bytes B published for one event, one subscriber, no arcos")
    cross, same, local = (latency[c] for c in LATENCY_CASES)

    def ratio(over: list[fanout.RoundResult], q: float) -> harness.Spread:
        return harness.Spread.of([a.pct(q) / max(b.pct(q), 1e-9)
                                  for a, b in zip(cross, over, strict=True)])
    print()
    print(f"cross-instance / in-process broker, per round: p50 {ratio(local, 50).show(2, 'x')}, "
          f"p99 {ratio(local, 99).show(2, 'x')}")
    print(f"cross-instance / same instance via Redis:      p50 {ratio(same, 50).show(2, 'x')}, "
          f"p99 {ratio(same, 99).show(2, 'x')}")
    raw_p99 = harness.Spread.of([harness.percentile(r.latencies_ms, 99) for r in raw_redis])
    cross_p99 = harness.Spread.of([r.pct(99) for r in cross]).median
    print(f"cross-instance p99 / raw Redis p99:            "
          f"{cross_p99 / max(raw_p99.median, 1e-9):.1f}x (raw p99 {raw_p99.median:.2f} ms)")
    lost = sum(r.lost for r in cross)
    disorder = sum(r.duplicates + r.out_of_order for r in cross)
    stated = args.subscribers == TARGET_SUBSCRIBERS
    print()
    print(f"Targets (issue #15; stated for {TARGET_SUBSCRIBERS} subscribers; this run: "
          f"{args.subscribers}" + ("" if stated else ", NOT the stated load: indicative only")
          + "; never enforced):")
    harness.print_table(["target", "measured", "verdict"], [
        [f"cross-instance p99 < {TARGET_P99_MS:.0f} ms", f"{cross_p99:.1f} ms",
         harness.verdict(cross_p99 < TARGET_P99_MS)],
        ["cross-instance: 0 lost", str(lost), harness.verdict(lost == 0)],
        ["cross-instance: 0 repeated or out of order", str(disorder),
         harness.verdict(disorder == 0)],
    ])


def _ratio(over: Sequence[WriteResult | PgbenchResult],
           under: Sequence[WriteResult | PgbenchResult]) -> harness.Spread:
    """TPS of one case over another's, taken within each round, then summarised."""
    return harness.Spread.of([a.tps / max(b.tps, 1e-9) for a, b in zip(over, under, strict=True)])


def report_writes(args: argparse.Namespace, writes: dict[str, list[WriteResult]],
                  pgbench_runs: dict[str, list[PgbenchResult]]) -> None:
    print()
    print(f"Writes, {args.clients} clients, {args.duration:g} s each: median (min-max) of "
          f"{args.rounds} round(s)")
    plain = pgbench_runs.get(PLAIN_PGBENCH)
    rows = []
    for case, runs in pgbench_runs.items():
        rows.append([case, _spread([r.tps for r in runs], 0),
                     "-" if runs is plain else _ratio(runs, plain or runs).show(2, "x"),
                     _spread([r.latency_ms for r in runs], 2) + " (avg)", "-",
                     _spread([r.machine_busy_pct for r in runs], 0)])
    for case, runs in writes.items():
        rows.append([case, _spread([r.tps for r in runs], 0),
                     _ratio(runs, plain).show(2, "x") if plain else "-",
                     _spread([r.p50_ms for r in runs]), _spread([r.p99_ms for r in runs]),
                     _spread([r.machine_busy_pct for r in runs], 0)])
    harness.print_table(["case", "TPS", "/ pgbench", "p50 ms", "p99 ms", "machine busy %"],
                        rows)
    print("  raw stack: raw_insert_app.py, Starlette + asyncpg under uvicorn with arcos's "
          "options, no\n    GraphQL, auth, ORM or broker: what this stack reaches for the same "
          "write; `INSERT +\n    outbox row under the lock` adds arcos/store/outbox.py's commit "
          "protocol to it")
    print()
    for label, top, bottom in (("arcos x2 / x1", ARCOS_X2, ARCOS_X1),
                               ("raw stack x2 / x1", RAW_X2, RAW_X1),
                               ("arcos x1 / raw stack x1", ARCOS_X1, RAW_X1),
                               ("arcos x1 / raw stack x1 with the lock", ARCOS_X1, RAW_OUTBOX)):
        if top in writes and bottom in writes:
            print(f"{label + ', per round:':<45} "
                  f"{_ratio(writes[top], writes[bottom]).show(2, 'x')}")
    if plain is None:
        print("\npgbench is not installed: no ratios (Debian: apt-get install postgresql-15 "
              "or postgresql-contrib).")
        return
    verdicts = []
    for case in TARGET_CASES:
        share = _ratio(writes[case], plain).median
        verdicts.append([f"{case} >= {TARGET_PGBENCH_SHARE:g}x pgbench TPS", f"{share:.2f}x",
                         harness.verdict(share >= TARGET_PGBENCH_SHARE)])
    print()
    print(f"Targets (issue #15, at the same client count on this machine; never enforced; load "
          f"average {harness.load_average_line('now').split(maxsplit=2)[2]}):")
    harness.print_table(["target", "measured", "verdict"], verdicts)
    print(stack_verdict(writes, plain))


def stack_verdict(writes: dict[str, list[WriteResult]], plain: Sequence[PgbenchResult]) -> str:
    """Whether the target is within this stack's reach at all: the better raw-stack line
    against pgbench, and how much of that arcos gets."""
    best = max(RAW_STACK_CASES, key=lambda case: _ratio(writes[case], plain).median)
    stack = _ratio(writes[best], plain).median
    arcos = max(_ratio(writes[case], plain).median for case in TARGET_CASES)
    of_stack = f"arcos's better line reaches {arcos / max(stack, 1e-9):.2f}x of it"
    if stack < TARGET_PGBENCH_SHARE:
        return (f"Stack ceiling: {best} / pgbench = {stack:.2f}x < {TARGET_PGBENCH_SHARE:g}x: "
                "the target exceeds what a Python HTTP server on this stack reaches on this "
                f"machine; {of_stack}")
    return (f"Stack ceiling: {best} / pgbench = {stack:.2f}x >= {TARGET_PGBENCH_SHARE:g}x: the "
            f"stack can reach the target here, the gap is arcos's own cost; {of_stack}")

if __name__ == "__main__":
    raise SystemExit(main())

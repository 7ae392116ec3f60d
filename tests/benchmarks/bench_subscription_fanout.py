"""Benchmark S4: `evidenceAdded` subscription fan-out latency against raw websockets.broadcast.

Run on demand (not part of pytest):

    .venv/bin/python tests/benchmarks/bench_subscription_fanout.py             # ~70 s
    .venv/bin/python tests/benchmarks/bench_subscription_fanout.py --clients 1000
    .venv/bin/python tests/benchmarks/bench_subscription_fanout.py --clients 1000 --rate 10

What it does, per round (rounds interleave A/B/A/B...):

A. arcos: a real `python -m arcos serve` (core 0). A client process (core 1, plain
   `websockets`, uvloop) opens `--clients` graphql-transport-ws connections 1 ms apart,
   each subscribed to `subscription { evidenceAdded { id data createdAt } }`. Once the
   server's /healthz counts every subscription, the driver posts `--events` evidence items
   at `--rate` per second (absolute schedule) with `submitEvidence`; each item's `data`
   carries `t = time.time()` taken just before the POST. Every client records
   `receive time - t` for each `next` message.
B. raw: a tiny `websockets` server from this file (core 0) speaking just enough
   graphql-transport-ws (ack, subscribe, ping/pong) to the same client code; the driver
   sends `{t, i}` over a control websocket and the server builds the same `next`
   message shape and sends it with one `websockets.broadcast()` call.

Reported: delivery latency p50/p95/p99/max over all deliveries of a round (median and
min-max over rounds), lost messages (must be 0), server CPU per event, RSS per client,
the time to the insert (createdAt - t), the fan-out spread (last minus first receipt of
one event) and the submitEvidence POST latency, plus the arcos/raw ratios and the
targets of issue #13 (p99 <= 100 ms and <= 4x the raw p99 at 1,000 clients and 10
events/s, 0 lost) with MET / NOT MET.

The client process is also a mode of this file (`client`), and so is the raw server
(`rawserver`); the driver starts both as subprocesses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import harness
import httpx

SUBSCRIPTION = "subscription { evidenceAdded { id data createdAt } }"
SUBMIT_ONE = (
    "mutation($i: SubmitEvidenceInput!){ submitEvidence(input:$i){ evidence{id} "
    "errors{message} } }"
)
PROTOCOL = "graphql-transport-ws"
THIS_FILE = Path(__file__).resolve()
#: The client process reads the bearer token from here (not argv, which `ps` shows).
TOKEN_VARIABLE = "BENCH_ARCOS_TOKEN"
#: The relay id the raw server puts in its messages (any Evidence id of the same length).
RAW_ID = "RXZpZGVuY2U6MDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAw"

#: Issue #13's targets (and performance.md S4's), stated for 1,000 clients at 10 events/s.
TARGET_CLIENTS = 1000
TARGET_RATE = 10.0
TARGET_P99_MS = 100.0
TARGET_RAW_MULTIPLE = 4.0
TARGET_RSS_KIB_PER_CLIENT = 100.0
HASURA_AVERAGE_MS = 1000.0


# --------------------------------------------------------------------------- client mode


async def _client_main(args: argparse.Namespace) -> None:
    import websockets
    from websockets.asyncio.client import connect

    harness.raise_fd_limit()
    compression = None if args.compression == "none" else "deflate"
    deliveries: list[list[tuple[int, float]]] = [[] for _ in range(args.clients)]
    errors: list[str] = []
    sizes: list[int] = []
    extensions: set[str] = set()
    #: event index -> createdAt - t (ms): the server's time from the send to its insert.
    stamped: dict[int, float] = {}

    async def receive(index: int, ws: Any) -> None:
        sink = deliveries[index]
        try:
            async for raw in ws:
                now = time.time()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    payload = message["payload"]
                    if payload.get("errors"):
                        errors.append(json.dumps(payload["errors"])[:300])
                        continue
                    added = payload["data"]["evidenceAdded"]
                    data = added["data"]
                    sink.append((int(data["i"]), now - float(data["t"])))
                    if int(data["i"]) not in stamped:
                        created = datetime.fromisoformat(added["createdAt"]).timestamp()
                        stamped[int(data["i"])] = (created - float(data["t"])) * 1000
                    if not sizes:
                        sizes.append(len(raw))
                elif kind == "ping":
                    await ws.send('{"type":"pong"}')
                elif kind in ("error", "complete"):
                    errors.append(str(raw)[:300])
        except websockets.ConnectionClosed as closed:
            if not stopping.is_set():
                errors.append(f"connection {index} closed: {closed}")

    token = os.environ.get(TOKEN_VARIABLE)
    init_payload = {"authorization": f"Bearer {token}"} if token else {}

    async def open_one(index: int) -> Any:
        ws = await connect(
            args.url, subprotocols=[PROTOCOL], compression=compression, max_size=None,
            ping_interval=None, open_timeout=60, close_timeout=2,
        )
        await ws.send(json.dumps({"type": "connection_init", "payload": init_payload}))
        ack = json.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"expected connection_ack, got {ack}")
        await ws.send(json.dumps({
            "id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION},
        }))
        for header in ws.response.headers.get_all("Sec-WebSocket-Extensions"):
            extensions.add(header.split(";")[0].strip())
        return ws

    stopping = asyncio.Event()
    opening = []
    for index in range(args.clients):
        opening.append(asyncio.create_task(open_one(index)))
        await asyncio.sleep(args.connect_gap)
    connections = await asyncio.gather(*opening)
    receivers = [asyncio.create_task(receive(i, ws)) for i, ws in enumerate(connections)]
    print("READY", flush=True)
    cpu_ready = time.process_time()

    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    cpu_events = time.process_time() - cpu_ready
    expected = int(line.split()[1]) if line.startswith("DONE") else 0
    deadline = time.monotonic() + args.grace
    while time.monotonic() < deadline and any(len(d) < expected for d in deliveries):
        await asyncio.sleep(0.05)
    stopping.set()
    await asyncio.gather(*(ws.close() for ws in connections), return_exceptions=True)
    for task in receivers:
        task.cancel()
    await asyncio.gather(*receivers, return_exceptions=True)
    print(json.dumps({
        "deliveries": [[[i, round(lat * 1000, 3)] for i, lat in d] for d in deliveries],
        "created_after_ms": sorted(stamped.values()),
        "errors": errors[:20],
        "error_count": len(errors),
        "message_bytes": sizes[0] if sizes else 0,
        "extensions": sorted(extensions),
        "event_phase_cpu_seconds": cpu_events,
    }), flush=True)


# --------------------------------------------------------------------------- raw server mode


async def _raw_server_main(args: argparse.Namespace) -> None:
    from websockets.asyncio.server import broadcast, serve
    from websockets.http11 import Request

    harness.raise_fd_limit()
    subscribers: set[Any] = set()

    async def handler(ws: Any) -> None:
        if ws.request.path == "/control":
            async for raw in ws:
                event = json.loads(raw)
                message = json.dumps({
                    "id": "1",
                    "type": "next",
                    "payload": {"data": {"evidenceAdded": {
                        "id": RAW_ID,
                        "data": event["data"],
                        "createdAt": datetime.now(UTC).isoformat(),
                    }}},
                }, separators=(",", ":"))
                broadcast(subscribers, message)
            return
        init = json.loads(await ws.recv())
        if init.get("type") != "connection_init":
            await ws.close(4400, "expected connection_init")
            return
        await ws.send('{"type":"connection_ack"}')
        subscribe = json.loads(await ws.recv())
        if subscribe.get("type") != "subscribe":
            await ws.close(4400, "expected subscribe")
            return
        subscribers.add(ws)
        try:
            async for raw in ws:
                if json.loads(raw).get("type") == "ping":
                    await ws.send('{"type":"pong"}')
        finally:
            subscribers.discard(ws)

    def process_request(connection: Any, request: Request) -> Any:
        if request.path == "/healthz":
            return connection.respond(
                200, json.dumps({"status": "ok", "subscriptions": len(subscribers)})
            )
        return None

    compression = None if args.compression == "none" else "deflate"
    async with serve(
        handler, "127.0.0.1", args.port, subprotocols=[PROTOCOL],
        process_request=process_request, compression=compression, max_size=None,
        ping_interval=None,
    ):
        await asyncio.Future()


def _run_async(coroutine: Any) -> None:
    try:
        import uvloop

        uvloop.run(coroutine)
    except ImportError:
        asyncio.run(coroutine)


# --------------------------------------------------------------------------- driver


@dataclass
class RoundResult:
    """One round of one case: every delivery latency and the server-side costs."""

    case: str
    latencies_ms: list[float]
    expected: int
    lost: int
    errors: int
    error_samples: list[str]
    cpu_ms_per_event: float
    rss_kib_per_client: float
    spread_ms: list[float]
    first_ms: list[float]
    created_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    message_bytes: int = 0
    extensions: list[str] = field(default_factory=list)
    client_cpu_ms_per_event: float = 0.0
    #: Repeats of an event one client already had, and events a client received after a
    #: later one (the driver sends in index order, one at a time, so that is commit order).
    duplicates: int = 0
    out_of_order: int = 0

    def pct(self, q: float) -> float:
        return harness.percentile(self.latencies_ms, q)


def _readline(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        raise TimeoutError("the client process did not answer in time")
    return process.stdout.readline()


def _subscriptions(server: harness.ServerProcess) -> int:
    return int(httpx.get(f"{server.http_url}/healthz", timeout=5).json()["subscriptions"])


def _wait_for_subscriptions(server: harness.ServerProcess, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _subscriptions(server) == count:
            return
        time.sleep(0.05)
    raise TimeoutError(f"{server.name}: {_subscriptions(server)} subscriptions, wanted {count}")


class Sender:
    """Sends event `i` with its send timestamp to one case's server."""

    def __init__(self, case: str, server: harness.ServerProcess) -> None:
        self.case = case
        self.server = server
        self.http = httpx.Client(timeout=30, headers=server.auth_headers) if case == "arcos" \
            else None
        self._stack = contextlib.ExitStack()
        self.control: Any = None
        if case == "raw":
            from websockets.sync.client import connect

            self.control = self._stack.enter_context(connect(
                f"ws://127.0.0.1:{server.port}/control", subprotocols=[PROTOCOL]
            ))

    def send(self, index: int) -> float:
        """Send one event; returns how long the send took (the POST's latency), in ms."""
        start = time.perf_counter()
        data = {"t": time.time(), "i": index, "suite": "fanout"}
        if self.http is not None:
            response = self.http.post(f"{self.server.http_url}/graphql", json={
                "query": SUBMIT_ONE,
                "variables": {"i": {"type": "test_results", "source": "bench-fanout",
                                    "data": data, "ref": "refs/heads/main"}},
            })
            body = response.json()
            if response.status_code != 200 or body.get("errors") or body["data"][
                "submitEvidence"
            ]["errors"]:
                raise RuntimeError(f"submitEvidence failed: {response.text[:500]}")
        else:
            self.control.send(json.dumps({"i": index, "data": data}))
        return (time.perf_counter() - start) * 1000

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
        self._stack.close()


def run_round(
    case: str, server: harness.ServerProcess, args: argparse.Namespace,
    post_to: Sequence[harness.ServerProcess] = (),
) -> RoundResult:
    """One round: `args.clients` subscribers on `server`, `args.events` events sent to
    `server` itself, or in turn to each of `post_to` (other instances of one deployment:
    bench_scale_out.py)."""
    url = server.ws_url if case == "arcos" else f"ws://127.0.0.1:{server.port}/graphql"
    _wait_for_subscriptions(server, 0, 30)
    rss_before = server.rss_kib()
    command = [
        *harness.pin_prefix(harness.CLIENT_CORE), sys.executable, str(THIS_FILE), "client",
        "--url", url, "--clients", str(args.clients), "--compression", args.compression,
        "--grace", str(args.grace), "--connect-gap", str(args.connect_gap),
    ]
    env = {**os.environ, TOKEN_VARIABLE: server.token or ""}
    client = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        preexec_fn=harness.raise_fd_limit,  # the driver starts no threads
    )
    senders: list[Sender] = []
    try:
        line = _readline(client, 120)
        if not line.startswith("READY"):
            raise RuntimeError(f"client failed to start: {line!r}")
        _wait_for_subscriptions(server, args.clients, 60)
        time.sleep(0.5)  # let connection set-up work drain before timing
        rss_after = server.rss_kib()
        senders = [Sender(case, target) for target in (post_to or [server])]
        post_ms = []
        sampler = _start_sampler(case, server, args)
        cpu_before = server.cpu_seconds()
        start = time.monotonic()
        for index in range(args.events):
            delay = start + index / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            post_ms.append(senders[index % len(senders)].send(index))
        time.sleep(min(2.0, max(0.5, 1 / args.rate)))
        cpu_ms_per_event = (server.cpu_seconds() - cpu_before) * 1000 / args.events
        _stop_sampler(sampler)
        assert client.stdin is not None
        client.stdin.write(f"DONE {args.events}\n")
        client.stdin.flush()
        report = json.loads(_readline(client, args.grace + 60))
        client.wait(timeout=30)
    finally:
        for sender in senders:
            sender.close()
        if client.poll() is None:
            client.kill()
            client.wait()
        server.check_alive()
    return _summarise(case, report, args, post_ms, cpu_ms_per_event, rss_before, rss_after)


def _start_sampler(
    case: str, server: harness.ServerProcess, args: argparse.Namespace
) -> subprocess.Popen[bytes] | None:
    """With --py-spy, sample the arcos server through the event phase (non-blocking, so the
    figures stay comparable) into collapsed stacks beside the logs."""
    if not args.py_spy or case != "arcos":
        return None
    output = Path(args.workdir_path) / f"arcos-events-{server.process.pid}.folded"
    print(f"  sampling the arcos server into {output}", flush=True)
    return subprocess.Popen([
        args.py_spy, "record", "--pid", str(server.process.pid), "--nonblocking",
        "--rate", "200", "--format", "raw", "--output", str(output),
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop_sampler(sampler: subprocess.Popen[bytes] | None) -> None:
    if sampler is None:
        return
    sampler.send_signal(signal.SIGINT)  # py-spy writes its output when interrupted
    try:
        sampler.wait(timeout=30)
    except subprocess.TimeoutExpired:
        sampler.kill()
        sampler.wait()


def _summarise(
    case: str, report: dict[str, Any], args: argparse.Namespace, post_ms: list[float],
    cpu_ms_per_event: float, rss_before: int, rss_after: int,
) -> RoundResult:
    latencies: list[float] = []
    by_event: dict[int, list[float]] = {}
    received = duplicates = out_of_order = 0
    for per_client in report["deliveries"]:
        seen = set()
        newest = -1
        for index, latency in per_client:
            if index in seen:
                duplicates += 1
            if index in seen or not 0 <= index < args.events:
                continue  # a duplicate or a stray event is not a delivery
            if index < newest:
                out_of_order += 1
            newest = max(newest, index)
            seen.add(index)
            received += 1
            latencies.append(latency)
            by_event.setdefault(index, []).append(latency)
    latencies.sort()
    expected = args.clients * args.events
    return RoundResult(
        case=case,
        latencies_ms=latencies,
        expected=expected,
        lost=expected - received,
        errors=report["error_count"],
        error_samples=report["errors"],
        cpu_ms_per_event=cpu_ms_per_event,
        rss_kib_per_client=(rss_after - rss_before) / args.clients,
        spread_ms=sorted(max(v) - min(v) for v in by_event.values()),
        first_ms=sorted(min(v) for v in by_event.values()),
        created_ms=report["created_after_ms"],
        post_ms=sorted(post_ms),
        message_bytes=report["message_bytes"],
        extensions=report["extensions"],
        client_cpu_ms_per_event=report["event_phase_cpu_seconds"] * 1000 / args.events,
        duplicates=duplicates,
        out_of_order=out_of_order,
    )


def start_raw_server(workdir: Path, compression: str) -> harness.ServerProcess:
    port = harness.free_port()
    command = [
        sys.executable, str(THIS_FILE), "rawserver", "--port", str(port),
        "--compression", compression,
    ]
    return harness.start_server("raw", command, port, workdir / f"rawws-{port}.log")


def _driver_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100, help="subscribers (try 1000)")
    parser.add_argument("--events", type=int, default=20, help="events per round")
    parser.add_argument("--rate", type=float, default=2.0, help="events per second")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved A/B rounds")
    parser.add_argument("--compression", default="deflate", choices=["deflate", "none"],
                        help="permessage-deflate offered by the clients (browsers do)")
    parser.add_argument("--grace", type=float, default=5.0,
                        help="seconds to wait for late messages before counting them lost")
    parser.add_argument("--connect-gap", type=float, default=0.001,
                        help="seconds between opening two client connections")
    parser.add_argument("--synchronous", default="FULL", choices=["FULL", "NORMAL", "EXTRA"])
    parser.add_argument("--workdir", help="where the SQLite file goes (default: temp dir)")
    parser.add_argument("--arcos-src", help="import arcos from this directory (see README)")
    parser.add_argument("--py-spy", metavar="PATH",
                        help="sample the arcos server with this py-spy during the events "
                        "(collapsed stacks in the workdir; its figures then include py-spy)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _driver_args(argv)
    harness.use_arcos_source(args.arcos_src)
    harness.pin_self(harness.CLIENT_CORE)
    harness.raise_fd_limit()
    workdir = harness.make_workdir(args.workdir)
    args.workdir_path = str(workdir)
    print("ARCOS benchmark S4: evidenceAdded subscription fan-out vs raw websockets.broadcast")
    for line in harness.environment_lines(
        workdir, args.synchronous,
        "harness client process: websockets asyncio client, uvloop, "
        f"{args.clients} graphql-transport-ws connections, compression {args.compression}",
    ):
        print(line)
    print(
        f"run             {args.rounds} rounds x (arcos, raw); {args.clients} clients, "
        f"{args.events} events at {args.rate:g}/s each"
    )
    results: dict[str, list[RoundResult]] = {"arcos": [], "raw": []}
    with harness.running([]) as servers:
        arcos = harness.start_arcos(
            f"sqlite://{workdir / 'fanout.db'}", workdir, synchronous=args.synchronous,
            # Every client uses one token from one address, and compression is opt-in.
            extra_env={
                "ARCOS_MAX_LIVE_CONNECTIONS_PER_PRINCIPAL": str(args.clients),
                "ARCOS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL": str(args.clients),
                "ARCOS_WS_MAX_PENDING_PER_ADDRESS": str(args.clients),
                "ARCOS_WS_COMPRESSION": "true" if args.compression == "deflate" else "false",
            },
        )
        servers.append(arcos)
        print("auth            " + (
            "token made with `arcos token create`: Authorization header on the POSTs, "
            "{authorization: Bearer ...} in connection_init" if arcos.token else
            "none (this arcos has no tokens)"
        ))
        print()
        raw = start_raw_server(workdir, args.compression)
        servers.append(raw)
        for round_number in range(1, args.rounds + 1):
            for case, server in (("arcos", arcos), ("raw", raw)):
                result = run_round(case, server, args)
                results[case].append(result)
                _progress(round_number, result)
    print()
    report(args, results)
    print(f"\nfiles and logs in {workdir}")
    print(harness.load_average_line("after the run"))
    return 0


def _progress(round_number: int, r: RoundResult) -> None:
    errors = f"  {r.errors} ERRORS e.g. {r.error_samples[:1]}" if r.errors else ""
    print(
        f"  round {round_number} {r.case:<5} p50 {r.pct(50):7.1f} ms  p95 {r.pct(95):7.1f}  "
        f"p99 {r.pct(99):7.1f}  max {r.pct(100):7.1f}  lost {r.lost}/{r.expected}  "
        f"server CPU/event {r.cpu_ms_per_event:6.1f} ms{errors}",
        flush=True,
    )


COLUMN_NOTES = (
    "createdAt: the message's createdAt minus the send time (arcos stamps it just before",
    "  its insert transaction, raw when it broadcasts): request handling before the write",
    "first receipt: the fastest client's latency for an event",
    "fan-out spread: last minus first receipt of one event (the per-subscriber work)",
    "send: submitEvidence POST round trip (arcos) or control-socket send (raw)",
    "client CPU: the client process's CPU between READY and DONE (core 1, with the driver)",
    "*RSS growth of the server while the clients subscribed, first round only (later",
    "  rounds reuse memory freed by the first)",
)


def report(args: argparse.Namespace, results: dict[str, list[RoundResult]]) -> None:
    def spread(case: str, pick: Any, digits: int = 1) -> str:
        return harness.Spread.of([pick(r) for r in results[case]]).show(digits)

    rows = []
    for case in ("arcos", "raw"):
        runs = results[case]
        rows.append([
            case,
            spread(case, lambda r: r.pct(50)),
            spread(case, lambda r: r.pct(95)),
            spread(case, lambda r: r.pct(99)),
            spread(case, lambda r: r.pct(100)),
            f"{sum(r.lost for r in runs)}/{sum(r.expected for r in runs)}",
            spread(case, lambda r: r.cpu_ms_per_event),
        ])
    print(f"Delivery latency, send -> client receipt, ms: median (min-max) of {args.rounds} "
          f"rounds; each round pools {args.clients} clients x {args.events} events")
    harness.print_table(
        ["case", "p50", "p95", "p99", "max", "lost", "server CPU ms/event"], rows
    )
    print()
    detail = []
    for case in ("arcos", "raw"):
        runs = results[case]
        detail.append([
            case,
            spread(case, lambda r: harness.percentile(r.created_ms, 50)),
            spread(case, lambda r: harness.percentile(r.first_ms, 50)),
            spread(case, lambda r: harness.percentile(r.spread_ms, 50)),
            spread(case, lambda r: harness.percentile(r.post_ms, 50)),
            f"{runs[0].rss_kib_per_client:.0f}",
            spread(case, lambda r: r.client_cpu_ms_per_event),
            str(runs[0].message_bytes),
            ",".join(runs[0].extensions) or "none",
        ])
    harness.print_table(
        ["case", "createdAt p50", "first receipt p50", "fan-out spread p50", "send p50", "RSS KiB/client*",
         "client CPU ms/event", "msg bytes", "ws extension"],
        detail,
    )
    for note in COLUMN_NOTES:
        print(f"  {note}")
    ratio_p50 = harness.Spread.of([
        a.pct(50) / b.pct(50) for a, b in zip(results["arcos"], results["raw"], strict=True)
    ])
    ratio_p99 = harness.Spread.of([
        a.pct(99) / b.pct(99) for a, b in zip(results["arcos"], results["raw"], strict=True)
    ])
    print()
    print(f"arcos/raw p50 ratio (per round): {ratio_p50.show(2, 'x')}")
    print(f"arcos/raw p99 ratio (per round): {ratio_p99.show(2, 'x')}")
    arcos_p99 = harness.Spread.of([r.pct(99) for r in results["arcos"]]).median
    raw_p99 = harness.Spread.of([r.pct(99) for r in results["raw"]]).median
    mean = harness.Spread.of([
        sum(r.latencies_ms) / max(1, len(r.latencies_ms)) for r in results["arcos"]
    ]).median
    lost = sum(r.lost for r in results["arcos"])
    rss = results["arcos"][0].rss_kib_per_client
    print()
    at_target_load = args.clients == TARGET_CLIENTS and args.rate == TARGET_RATE
    print(f"Targets (issue #13, performance.md S4; stated for {TARGET_CLIENTS:,} clients at "
          f"{TARGET_RATE:g} events/s; this run: {args.clients} clients at {args.rate:g}/s"
          + ("" if at_target_load else ", NOT the stated load: the verdicts are indicative")
          + f"; load average {harness.load_average_line('now').split(maxsplit=2)[2]}; never "
          "enforced):")
    harness.print_table(
        ["target", "measured", "verdict"],
        [
            ["0 lost messages", str(lost), harness.verdict(lost == 0)],
            [f"p99 <= {TARGET_P99_MS:.0f} ms", f"{arcos_p99:.1f} ms",
             harness.verdict(arcos_p99 <= TARGET_P99_MS)],
            [f"p99 <= {TARGET_RAW_MULTIPLE:g}x raw p99 (raw: {raw_p99:.1f} ms)",
             f"{ratio_p99.median:.2f}x",
             harness.verdict(ratio_p99.median <= TARGET_RAW_MULTIPLE)],
            [f"RSS growth <= {TARGET_RSS_KIB_PER_CLIENT:.0f} KiB per client",
             f"{rss:.0f} KiB", harness.verdict(rss <= TARGET_RSS_KIB_PER_CLIENT)],
            [f"Hasura bar: average < {HASURA_AVERAGE_MS:.0f} ms", f"{mean:.1f} ms",
             harness.verdict(mean < HASURA_AVERAGE_MS)],
        ],
    )


# --------------------------------------------------------------------------- entry


def _mode_args(mode: str, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"{THIS_FILE.name} {mode}")
    parser.add_argument("--compression", default="deflate", choices=["deflate", "none"])
    if mode == "client":
        parser.add_argument("--url", required=True)
        parser.add_argument("--clients", type=int, required=True)
        parser.add_argument("--grace", type=float, default=5.0)
        parser.add_argument("--connect-gap", type=float, default=0.001)
    else:
        parser.add_argument("--port", type=int, required=True)
    return parser.parse_args(argv)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("client", "rawserver"):
        mode = sys.argv[1]
        mode_args = _mode_args(mode, sys.argv[2:])
        with contextlib.suppress(KeyboardInterrupt):
            _run_async(_client_main(mode_args) if mode == "client" else
                       _raw_server_main(mode_args))
    else:
        raise SystemExit(main())

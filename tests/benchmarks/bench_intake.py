"""Artifact intake end to end: a 20,000-result SARIF log and a 1,000-test JUnit report
posted to the REST upload routes (spool -> parse in the parse pool's worker process ->
evidence + findings + metrics -> SQLite commit), next to merely decoding the same bytes
(json.loads / defusedxml) in the same run, interleaved round by round.

Targets (#13): end to end <= 3x the bare parse; peak memory <= 3x the bare parse's peak.
The peak is the server process's tracemalloc peak during an upload plus the worker's share,
measured by running the worker's function (`parse_artifact`, the file as its input, and
pickling what it hands back) under tracemalloc in this process: an upper bound, since the
two peaks need not coincide. One small upload of each kind starts the worker first, as a
running server has it started; the first upload of the measured rounds inserts the scan's
findings, the later ones find them open.

Each kind is measured on the store as the kinds before it left it, except for their
write-ahead log: the SARIF uploads leave ~4 MiB of it, which SQLite checkpoints into the
database during whichever later commit crosses its threshold, and that copy landed in one
of the JUnit uploads (6.4-8.6 ms of CPU instead of 5.5-5.9). So between two kinds, outside
the timed region, the WAL is checkpointed (`PRAGMA wal_checkpoint(TRUNCATE)`) and the report
says so; the first kind (SARIF) is measured exactly as before.

Run: .venv/bin/python tests/benchmarks/bench_intake.py [--rounds 3] [--arcos-src DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import pickle
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from defusedxml import ElementTree
from harness import Spread, arcos_source_line, load_average_line, use_arcos_source, verdict

TARGET_RATIO = 3.0
TARGET_PEAK_RATIO = 3.0


def sarif_log(results: int) -> bytes:
    rules = [{"id": f"R{n:03d}", "defaultConfiguration": {"level": "warning"},
              "properties": {"tags": [f"external/cwe/cwe-{n}"]}} for n in range(50)]
    items = [{
        "ruleId": f"R{n % 50:03d}", "level": "warning",
        "message": {"text": f"finding number {n} in module {n % 400}"},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": f"pkg/module_{n % 400}.py"},
            "region": {"startLine": n % 1000 + 1, "snippet": {"text": f"call_{n}(x)"}}}}],
        "partialFingerprints": {"primaryLocationLineHash": f"{n:016x}:1"},
    } for n in range(results)]
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "benchlint",
           "version": "1.0", "rules": rules}}, "results": items}]}
    return json.dumps(log).encode()


def junit_report(tests: int) -> bytes:
    cases = []
    for n in range(tests):
        inner = ('<failure message="boom">trace</failure>' if n % 50 == 0 else
                 '<skipped message="later"/>' if n % 97 == 0 else "")
        cases.append(f'<testcase classname="pkg.test_mod{n % 40}" name="test_{n}" '
                     f'time="0.01">{inner}</testcase>')
    return (f'<?xml version="1.0"?><testsuites><testsuite name="bench" tests="{tests}">'
            + "".join(cases) + "</testsuite></testsuites>").encode()


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU time of this process (every thread: the store's too) and of its live children
    (the parse workers), from the kernel's per-task run time in nanoseconds. Unlike wall
    time it hardly moves when other work shares the cores."""
    total = time.process_time()
    for child in multiprocessing.active_children():
        try:
            with open(f"/proc/{child.pid}/schedstat") as stat:
                total += int(stat.read().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            pass
    return total


def cpu_timed(action: Callable[[], Any]) -> float:
    start = time.process_time()
    action()
    return time.process_time() - start


def peak_mib(action: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def collector_off(action: Callable[[], Any]) -> Callable[[], Any]:
    """`action` with the cyclic GC paused, as the intake's parse runs (a reference line)."""
    def paused() -> Any:
        gc.disable()
        try:
            return action()
        finally:
            gc.enable()
    return paused


async def upload(http: httpx.AsyncClient, route: str, body: bytes, content_type: str) -> None:
    response = await http.post(route, content=body, params={"project": "github.com/bench/app"},
                               headers={"content-type": content_type})
    if response.status_code != 201:
        raise RuntimeError(f"{route}: {response.status_code} {response.text[:500]}")


def checkpoint_wal(database: Path) -> str:
    """Copy the write-ahead log into the database and empty it, from a connection of its
    own (the server's stays open and idle); what SQLite answered, for the report."""
    wal = database.with_name(database.name + "-wal")
    before = wal.stat().st_size if wal.exists() else 0
    with sqlite3.connect(database) as connection:
        # PASSIVE first: its answer counts the frames not yet copied (TRUNCATE answers 0s)
        _, frames, copied_now = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    after = wal.stat().st_size if wal.exists() else 0
    return (f"WAL checkpointed before this kind, untimed: {before / 2**20:.1f} MiB -> "
            f"{after / 2**20:.1f} MiB; {frames} frames in it, {copied_now} of them copied now"
            f"{', busy' if busy else ''}")


def worker_peak_mib(kind: str, body: bytes, content_type: str, settings: Any, folder: str) -> float:
    """What the parse worker allocates for one upload: read the spooled file, parse,
    summarise, track, and pickle the answer. Nothing for an upload small enough to be
    parsed in a server thread: the server's own peak holds that parse already."""
    from arcos.intake import service
    from arcos.intake.service import parse_artifact, parse_limits

    spooled = Path(folder) / f"spooled-{kind}"
    spooled.write_bytes(body)
    if getattr(service, "parsed_in_thread", lambda _: False)(spooled):
        return 0.0
    limits = parse_limits(settings)
    return peak_mib(lambda: pickle.dumps(
        parse_artifact(kind, spooled, None, content_type, limits, None)
    ))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--results", type=int, default=20_000)
    parser.add_argument("--tests", type=int, default=1_000)
    parser.add_argument("--arcos-src", help="import arcos from this directory (see README)")
    args = parser.parse_args(argv)
    if args.arcos_src:
        use_arcos_source(args.arcos_src)  # the parse workers
        sys.path.insert(0, str(Path(args.arcos_src).resolve()))  # this process
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from conftest import running_app  # the suite's in-process app with an admin token

    from arcos.settings import Settings

    sarif = sarif_log(args.results)
    junit = junit_report(args.tests)
    print(f"arcos           {arcos_source_line()}")
    print(load_average_line("before the run"))
    print(f"SARIF {len(sarif) / 2**20:.1f} MiB ({args.results:,} results); "
          f"JUnit {len(junit) / 2**10:.0f} KiB ({args.tests:,} tests); SQLite synchronous=FULL; "
          f"{args.rounds} interleaved rounds")
    cases = {
        "sarif": ("/api/security/scan", sarif, "application/sarif+json", "sast_report",
                  lambda: json.loads(sarif), sarif_log(10)),
        "junit": ("/api/cicd/test", junit, "application/xml", "test_report",
                  lambda: ElementTree.fromstring(junit), junit_report(10)),
    }
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite://{folder}/bench.db",
                            write_rate_per_minute=10**9, write_burst=10**9)

        async def run() -> None:
            async with running_app(settings) as app, app.client(app.admin_token) as http:
                http.timeout = httpx.Timeout(600)
                for route, _, content_type, _, _, small in cases.values():
                    await upload(http, route, small, content_type)  # starts the worker
                for index, (name, (route, body, content_type, kind, bare, small)) in enumerate(
                    cases.items()
                ):
                    prepared = "" if index == 0 else checkpoint_wal(Path(folder) / "bench.db")
                    end_to_end, baseline, paused, ratios, floor = [], [], [], [], []
                    cpu_ratios = []
                    for _ in range(args.rounds):  # interleaved: bare, then end to end
                        start = time.perf_counter()
                        await upload(http, route, small, content_type)
                        floor.append(time.perf_counter() - start)
                        baseline.append(timed(bare))
                        bare_cpu = cpu_timed(bare)
                        paused.append(timed(collector_off(bare)))
                        start, start_cpu = time.perf_counter(), cpu_seconds()
                        await upload(http, route, body, content_type)
                        end_to_end.append(time.perf_counter() - start)
                        cpu_ratios.append((cpu_seconds() - start_cpu) / bare_cpu)
                        ratios.append(end_to_end[-1] / baseline[-1])
                    tracemalloc.start()
                    await upload(http, route, body, content_type)
                    server_peak = tracemalloc.get_traced_memory()[1] / 2**20
                    tracemalloc.stop()
                    worker_peak = worker_peak_mib(kind, body, content_type, settings, folder)
                    rows.append((name, Spread.of(end_to_end), Spread.of(baseline),
                                 Spread.of(paused), Spread.of(ratios), Spread.of(floor),
                                 Spread.of(cpu_ratios), server_peak,
                                 worker_peak, peak_mib(bare), len(body) / 2**20, prepared))

        asyncio.run(run())
    print(load_average_line("after the run"))
    for (name, e2e, bare, paused, ratio, floor, cpu, server, worker, bare_peak, size,
         prepared) in rows:
        decoder = "json.loads" if name == "sarif" else "defusedxml"
        peak = server + worker
        print(f"\n{name} ({size:.1f} MiB): median of {args.rounds} rounds (min-max)")
        if prepared:
            print(f"  ({prepared})")
        print(f"  end to end            {e2e.show(3, ' s')}")
        print(f"  bare {decoder:<16} {bare.show(3, ' s')}")
        print(f"  ratio                 {ratio.show(2, 'x')}   target <= {TARGET_RATIO:.0f}x: "
              f"{verdict(ratio.median <= TARGET_RATIO)}")
        print(f"  (reference: CPU seconds, server process and parse worker, / the bare "
              f"parse's: {cpu.show(2, 'x')})")
        print(f"  (reference: {decoder} with the collector paused, as the parse runs: "
              f"{paused.show(3, ' s')}; end to end / that = {e2e.median / paused.median:.1f}x)")
        print(f"  (reference: the same upload of a 10-item report, what every upload pays: "
              f"{floor.show(3, ' s')})")
        print(f"  peak MiB              {peak:.1f} = server {server:.1f} + worker {worker:.1f}; "
              f"bare {bare_peak:.1f}; ratio {peak / bare_peak:.2f}x   target <= "
              f"{TARGET_PEAK_RATIO:.0f}x: {verdict(peak / bare_peak <= TARGET_PEAK_RATIO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Issue #16's dashboard benchmark: a project page in a real headless Chromium against a
real `python -m arcos serve`.

1. **First meaningful paint** of `/ui/#/project/<slug>` for a project holding 10,000
   evidence items and 90 days of quality metrics, against the same page for a project
   holding one item and no metrics (the baseline, measured in the same run, rounds
   interleaved). "Meaningful" is precise: the page (arcos/web/browser/static/dashboard/js/
   pages/project.js) sets the performance mark `arcos:project-drawn` once its five metric
   plots and its first evidence feed rows are in the DOM, and `arcos:project-painted` one
   frame later (requestAnimationFrame, then a task: the frame holding them has been
   produced). The figure is that mark's `startTime`, i.e. milliseconds from the start of
   the navigation that loaded the document (the HTML, the ES modules, the viewer query and
   the project's queries all count). Each round opens a new browser context, signs in
   through the form (the token lands in sessionStorage) and then loads the project URL as
   a new document. Target (#16): < 1 s.
2. **Memory of a page left open** while evidence for its project arrives at 10 items/s over
   REST (`POST /api/evidence/custom`), each reaching the page over the
   `graphql-transport-ws` subscription. Every `--sample-every` seconds the page's JS heap is
   read after a forced collection (CDP `HeapProfiler.collectGarbage`, then
   `Performance.getMetrics` → `JSHeapUsedSize`, `Nodes`, `JSEventListeners`) with the
   count of feed rows. Target: the heap after GC at the end is within `--bound-mib` of the
   heap after `--settle` seconds (one minute by default), and the feed holds at most its 50
   rows.

Seeding: the evidence goes through the real API (`submitEvidenceBatch`, 100 items a
request). Metric timestamps cannot be set through the API (a metric's time is its upload's
commit time), so 90 days of metrics are written as `QualityMetric` rows with the models, by
a child process of this script (`seed-metrics`, so `--arcos-src` applies), while no server
runs; the server is then started again on the same store.

Run: `.venv/bin/python tests/benchmarks/bench_dashboard.py` (about 15 minutes: the memory
phase lasts `--memory-duration`, 600 s) or `--quick` (3 rounds, 60 s of events). Needs the
`playwright` package and Chromium (`/usr/bin/chromium`, Debian's `chromium`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import harness
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the browser kit
from browser_kit import chromium_executable

FULL = "github.com/bench/dashboard-full"
EMPTY = "github.com/bench/dashboard-empty"
#: The page's marks (project.js) and its feed size (FEED_SIZE there).
DRAWN_MARK = "arcos:project-drawn"
PAINTED_MARK = "arcos:project-painted"
FEED_ROWS = 50
TARGET_PAINT_MS = 1000.0
SUBMIT_BATCH = (
    "mutation($i: SubmitEvidenceBatchInput!){ submitEvidenceBatch(input:$i){ evidence{id} "
    "errors{message} } }"
)
BATCH_SIZE = 100
TYPES = ("test_results", "security_scan", "coverage", "build", "deployment_check")
#: The metric series a CI run writes (the page plots the first five).
METRICS = ("tests.pass_rate", "coverage.line_rate", "findings.total", "vulns.total",
           "build.success_rate", "tests.total", "findings.high")
#: Only names resolve to the loopback address the server listens on (as tests/browser_kit).
CHROMIUM_ARGS = ["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                 "--enable-precise-memory-info"]


# --------------------------------------------------------------------------- seeding


def seed_evidence(client: httpx.Client, server: harness.ServerProcess, project: str,
                  count: int) -> None:
    """`count` evidence items for `project` through `submitEvidenceBatch`."""
    for first in range(0, count, BATCH_SIZE):
        items = [{"type": TYPES[n % len(TYPES)], "source": "bench-ci", "project": project,
                  "commitSha": f"{n:040x}", "ref": "refs/heads/main",
                  "data": {"suite": f"suite-{n % 37}", "passed": n, "failed": n % 3,
                           "runner": "ubuntu-24.04"}}
                 for n in range(first, min(count, first + BATCH_SIZE))]
        payload = harness.graphql(client, server, SUBMIT_BATCH, {"i": {"items": items}})
        if payload["submitEvidenceBatch"]["errors"]:
            raise RuntimeError(f"seeding failed: {payload['submitEvidenceBatch']['errors']}")


async def _seed_metrics(database_url: str, project: str, days: float, every_hours: float) -> int:
    """One row per metric every `every_hours` over the last `days`, tied to the project's
    first evidence item; returns the rows written."""
    from datetime import UTC, datetime, timedelta

    from arcos.db import store
    from arcos.evidence.models import Evidence, Project
    from arcos.intake.models import QualityMetric
    from arcos.settings import Settings

    async with store(Settings.from_env(database_url=database_url)):
        owner = await Project.get(slug=project)
        evidence = await Evidence.filter(project_id=owner.id).order_by("seq").first()
        assert evidence is not None
        runs = int(days * 24 / every_hours)
        now = datetime.now(UTC)
        walk = random.Random(16)
        state = {"tests.pass_rate": 0.95, "coverage.line_rate": 0.8, "findings.total": 40.0,
                 "vulns.total": 5.0, "build.success_rate": 0.9, "tests.total": 1000.0,
                 "findings.high": 3.0}
        rows = []
        for run in range(runs):
            at = now - timedelta(hours=every_hours * (runs - run), minutes=1)
            for name in METRICS:
                value = state[name]
                if value <= 1.0:
                    value = min(1.0, max(0.0, value + walk.uniform(-0.01, 0.01)))
                else:
                    value = max(0.0, value + walk.choice((-1.0, 0.0, 1.0)))
                state[name] = value
                rows.append(QualityMetric(project_id=owner.id, name=name, value=value,
                                          timestamp=at, evidence_uid=evidence.uid,
                                          metadata={"seeded_by": "bench_dashboard.py"}))
        await QualityMetric.bulk_create(rows, batch_size=1000)
        return len(rows)


def seed_metrics_main(argv: list[str]) -> None:
    """`bench_dashboard.py seed-metrics DATABASE_URL PROJECT DAYS EVERY_HOURS`."""
    database_url, project, days, every_hours = argv
    print(asyncio.run(_seed_metrics(database_url, project, float(days), float(every_hours))))


def seed_metrics(database_url: str, workdir: Path, args: argparse.Namespace) -> int:
    done = subprocess.run(
        [sys.executable, __file__, "seed-metrics", database_url, FULL, str(args.days),
         str(args.metric_every_hours)],
        cwd=workdir, capture_output=True, text=True, check=False,
        env={**os.environ, "ARCOS_LOG_LEVEL": "warning"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding metrics failed:\n{done.stderr[-3000:]}")
    return int(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- the browser


def signed_in_page(browser: Any, server: harness.ServerProcess) -> tuple[Any, Any]:
    """A new context (own cache and sessionStorage) signed in through the form."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server.http_url}/ui/")
    page.fill("#token", server.token or "")
    page.click("button[type=submit]")
    page.locator("#sign-out").wait_for()
    return context, page


def project_url(server: harness.ServerProcess, project: str) -> str:
    return f"{server.http_url}/ui/#/project/{quote(project, safe='')}"


READ_MARKS = """([drawn, painted]) => {
  const at = (name) => performance.getEntriesByName(name)[0].startTime;
  const graphql = performance.getEntriesByType("resource")
    .filter((e) => e.name.endsWith("/graphql"));
  return { drawn: at(drawn), painted: at(painted),
    rows: document.querySelectorAll("#feed li").length,
    plots: document.querySelectorAll("#plots figure").length,
    points: document.querySelectorAll("#plots circle").length,
    graphqlMs: Math.max(0, ...graphql.map((e) => e.responseEnd - e.startTime)) };
}"""


def paint_once(browser: Any, server: harness.ServerProcess, project: str) -> dict[str, float]:
    """One new document load of the project page; its marks and what it drew."""
    context, page = signed_in_page(browser, server)
    try:
        page.goto("about:blank")
        page.goto(project_url(server, project))
        page.wait_for_function(
            f"() => performance.getEntriesByName({PAINTED_MARK!r}).length > 0")
        result = page.evaluate(READ_MARKS, [DRAWN_MARK, PAINTED_MARK])
        if result["plots"] != 5 or result["rows"] < 1:
            raise RuntimeError(f"the page drew too little: {result}")
        return result
    finally:
        context.close()


@dataclass
class Poster:
    """Posts evidence for a project at `rate` items/s on an absolute schedule (in a thread)."""

    server: harness.ServerProcess
    project: str
    rate: float
    stop: threading.Event = field(default_factory=threading.Event)
    posted: int = 0
    failed: int = 0
    last_id: str | None = None
    behind_s: float = 0.0

    def run(self) -> None:
        with httpx.Client(headers=self.server.auth_headers, timeout=30) as client:
            start = time.monotonic()
            while not self.stop.is_set():
                due = start + self.posted / self.rate
                wait = due - time.monotonic()
                if wait > 0:
                    self.stop.wait(wait)
                    continue
                self.behind_s = max(self.behind_s, -wait)
                response = client.post(
                    f"{self.server.http_url}/api/evidence/custom",
                    json={"type": "live_event", "source": "bench-feed", "project": self.project,
                          "data": {"n": self.posted, "note": "x" * 200}})
                if response.status_code == 201:
                    self.last_id = response.json()["evidence"]["id"]
                else:
                    self.failed += 1
                self.posted += 1


def sample(cdp: Any, page: Any) -> dict[str, float]:
    cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {"heap": metrics["JSHeapUsedSize"], "nodes": metrics["Nodes"],
            "listeners": metrics["JSEventListeners"],
            "rows": page.evaluate("() => document.querySelectorAll('#feed li').length")}


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) in value per minute (0 for < 2 points)."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def memory_run(browser: Any, server: harness.ServerProcess, args: argparse.Namespace) -> bool:
    context, page = signed_in_page(browser, server)
    try:
        page.goto("about:blank")
        page.goto(project_url(server, FULL))
        page.locator("#live-state").get_by_text("live", exact=True).wait_for()
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        idle = sample(cdp, page)
        poster = Poster(server, FULL, args.rate)
        thread = threading.Thread(target=poster.run, daemon=True)
        samples: list[tuple[float, dict[str, float]]] = []
        start = time.monotonic()
        thread.start()
        try:
            while (elapsed := time.monotonic() - start) < args.memory_duration:
                time.sleep(min(args.sample_every, args.memory_duration - elapsed))
                server.check_alive()
                samples.append((time.monotonic() - start, sample(cdp, page)))
                at, s = samples[-1]
                print(f"  t={at:6.1f}s heap {s['heap'] / 2**20:7.2f} MiB  nodes {s['nodes']:6.0f}"
                      f"  listeners {s['listeners']:5.0f}  feed rows {s['rows']:3.0f}"
                      f"  posted {poster.posted}", flush=True)
        finally:
            poster.stop.set()
            thread.join()
        shown = page.locator(f'#feed li[data-evidence="{poster.last_id}"]')
        try:
            shown.wait_for(timeout=10_000)
            delivered = True
        except Exception:  # Playwright's timeout: reported, not raised
            delivered = False
    finally:
        context.close()

    reference = next((s for at, s in samples if at >= args.settle), samples[0][1])
    end = samples[-1][1]
    after = [(at, s) for at, s in samples if at >= args.settle] or samples
    heap_max = max(s["heap"] for _, s in samples)
    rows_max = max(s["rows"] for _, s in samples)
    growth = end["heap"] - reference["heap"]
    achieved = poster.posted / args.memory_duration
    print(f"events          {poster.posted} posted ({achieved:.1f}/s, target {args.rate}/s; "
          f"{poster.failed} refused; at most {poster.behind_s:.2f} s behind schedule); "
          f"the last one shown in the feed: {'yes' if delivered else 'NO'}")
    harness.print_table(
        ["after GC", "idle (before events)", f"at {args.settle:.0f} s (reference)", "end", "max",
         f"slope after {args.settle:.0f} s"],
        [["JS heap MiB", f"{idle['heap'] / 2**20:.2f}", f"{reference['heap'] / 2**20:.2f}",
          f"{end['heap'] / 2**20:.2f}", f"{heap_max / 2**20:.2f}",
          f"{slope_per_minute([(a, s['heap'] / 1024) for a, s in after]):+.1f} KiB/min"],
         ["DOM nodes", f"{idle['nodes']:.0f}", f"{reference['nodes']:.0f}", f"{end['nodes']:.0f}",
          f"{max(s['nodes'] for _, s in samples):.0f}",
          f"{slope_per_minute([(a, s['nodes']) for a, s in after]):+.1f} /min"],
         ["feed rows", f"{idle['rows']:.0f}", f"{reference['rows']:.0f}", f"{end['rows']:.0f}",
          f"{rows_max:.0f}", ""]])
    heap_met = growth <= args.bound_mib * 2**20
    rows_met = rows_max <= FEED_ROWS
    print(f"target: heap after GC at the end within {args.bound_mib} MiB of the reference: "
          f"{harness.verdict(heap_met)} ({growth / 2**20:+.2f} MiB)")
    print(f"target: the feed keeps at most {FEED_ROWS} rows: {harness.verdict(rows_met)} "
          f"(max {rows_max:.0f})")
    return heap_met and rows_met and delivered


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 3 rounds, 60 s of events, reference at 20 s")
    parser.add_argument("--rounds", type=int, default=None, help="paint rounds (default 7)")
    parser.add_argument("--evidence", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=90)
    parser.add_argument("--metric-every-hours", type=float, default=2.0,
                        help="one CI run's metrics every N hours over --days")
    parser.add_argument("--memory-duration", type=float, default=None,
                        help="seconds of events (default 600; --quick 60)")
    parser.add_argument("--settle", type=float, default=None,
                        help="seconds after which the reference heap is read (60; --quick 20)")
    parser.add_argument("--rate", type=float, default=10.0, help="events per second")
    parser.add_argument("--sample-every", type=float, default=10.0)
    parser.add_argument("--bound-mib", type=float, default=1.0)
    parser.add_argument("--synchronous", default="NORMAL", choices=("FULL", "NORMAL", "EXTRA"))
    parser.add_argument("--workdir")
    parser.add_argument("--arcos-src")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (3 if args.quick else 7)
    args.memory_duration = args.memory_duration or (60.0 if args.quick else 600.0)
    args.settle = args.settle if args.settle is not None else (20.0 if args.quick else 60.0)
    return args


def main(argv: list[str]) -> None:
    if argv[:1] == ["seed-metrics"]:
        seed_metrics_main(argv[1:])
        return
    args = parse_args(argv)
    executable = chromium_executable()
    if executable is None:
        raise SystemExit("needs Chromium on PATH (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    harness.use_arcos_source(args.arcos_src)
    workdir = harness.make_workdir(args.workdir)
    print("bench_dashboard.py: issue #16, the project page in headless Chromium"
          + (" (--quick)" if args.quick else ""))
    for line in harness.environment_lines(workdir, args.synchronous, f"Chromium {executable} "
                                          "via Playwright"):
        if line.startswith("pinning"):
            line = (f"pinning         server on core {harness.SERVER_CORE} (taskset) when "
                    "possible; Chromium and this driver unpinned")
        print(line)
    database_url = f"sqlite://{workdir / 'dashboard.db'}"
    servers: list[harness.ServerProcess] = []
    with harness.running(servers):
        server = harness.start_arcos(database_url, workdir, synchronous=args.synchronous)
        servers.append(server)
        started = time.perf_counter()
        with httpx.Client() as client:
            seed_evidence(client, server, FULL, args.evidence)
            seed_evidence(client, server, EMPTY, 1)
        seeded_s = time.perf_counter() - started
        harness.stop_server(server)
        started = time.perf_counter()
        metric_rows = seed_metrics(database_url, workdir, args)
        print(f"seeded          {args.evidence:,} evidence items in {seeded_s:.1f} s "
              f"(submitEvidenceBatch x{BATCH_SIZE}); {metric_rows:,} metric rows over "
              f"{args.days:g} days, one run every {args.metric_every_hours:g} h, in "
              f"{time.perf_counter() - started:.1f} s (models, no server running); the "
              "baseline project holds 1 item and no metrics")
        server = harness.start_arcos(database_url, workdir, synchronous=args.synchronous)
        servers.append(server)

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            print(f"browser         {browser.version}")
            paint_once(browser, server, EMPTY)  # unmeasured: the server's first answers
            full_ms: dict[str, list[float]] = {"drawn": [], "painted": [], "graphql": []}
            empty_ms: dict[str, list[float]] = {"drawn": [], "painted": [], "graphql": []}
            ratios: list[float] = []
            drawn_points = 0
            for _ in range(args.rounds):
                empty = paint_once(browser, server, EMPTY)
                full = paint_once(browser, server, FULL)
                server.check_alive()
                drawn_points = int(full["points"])
                for into, got in ((full_ms, full), (empty_ms, empty)):
                    into["drawn"].append(got["drawn"])
                    into["painted"].append(got["painted"])
                    into["graphql"].append(got["graphqlMs"])
                ratios.append(full["painted"] / empty["painted"])
            print(f"\nFirst meaningful paint, {args.rounds} interleaved rounds, median (min-max); "
                  f"the full page drew {drawn_points} plot points and {FEED_ROWS} feed rows")
            harness.print_table(
                ["project page", "plots + feed in DOM ms", "painted ms",
                 "slowest GraphQL request ms"],
                [[f"{FULL} ({args.evidence:,} items, {metric_rows:,} metric rows)",
                  harness.Spread.of(full_ms["drawn"]).show(0),
                  harness.Spread.of(full_ms["painted"]).show(0),
                  harness.Spread.of(full_ms["graphql"]).show(0)],
                 [f"{EMPTY} (baseline: 1 item, no metrics)",
                  harness.Spread.of(empty_ms["drawn"]).show(0),
                  harness.Spread.of(empty_ms["painted"]).show(0),
                  harness.Spread.of(empty_ms["graphql"]).show(0)]])
            painted = harness.Spread.of(full_ms["painted"])
            print(f"full / baseline (per round): {harness.Spread.of(ratios).show(2, 'x')}")
            paint_met = painted.median < TARGET_PAINT_MS
            print(f"target: first meaningful paint < {TARGET_PAINT_MS:.0f} ms: "
                  f"{harness.verdict(paint_met)} (median {painted.median:.0f} ms)")

            print(f"\nMemory of the open page, {args.rate:g} events/s for "
                  f"{args.memory_duration:g} s, sampled every {args.sample_every:g} s after GC")
            memory_met = memory_run(browser, server, args)
            browser.close()
    print(harness.load_average_line("after the run"))
    print(f"overall: paint {harness.verdict(paint_met)}, memory {harness.verdict(memory_met)}")


if __name__ == "__main__":
    main(sys.argv[1:])

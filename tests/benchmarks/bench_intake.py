"""Artifact intake end to end: a 20,000-result SARIF log and a 1,000-test JUnit report
posted to the REST upload routes (parse -> evidence + findings + metrics -> SQLite commit),
next to merely decoding the same bytes (json.loads / defusedxml) in the same run.
Target: end to end <= 5x the bare parse; memory bounded by the document size.

Run: .venv/bin/python tests/benchmarks/bench_intake.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from defusedxml import ElementTree

TARGET_RATIO = 5.0


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


def peak_mib(action: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


async def upload(http: httpx.AsyncClient, route: str, body: bytes, content_type: str) -> None:
    response = await http.post(route, content=body, params={"project": "github.com/bench/app"},
                               headers={"content-type": content_type})
    if response.status_code != 201:
        raise RuntimeError(f"{route}: {response.status_code} {response.text[:500]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--results", type=int, default=20_000)
    parser.add_argument("--tests", type=int, default=1_000)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from conftest import running_app  # the suite's in-process app with an admin token

    from arcos.settings import Settings

    sarif = sarif_log(args.results)
    junit = junit_report(args.tests)
    print(f"SARIF {len(sarif) / 2**20:.1f} MiB ({args.results:,} results); "
          f"JUnit {len(junit) / 2**10:.0f} KiB ({args.tests:,} tests); SQLite synchronous=FULL")
    cases = {
        "sarif": ("/api/security/scan", sarif, "application/sarif+json",
                  lambda: json.loads(sarif)),
        "junit": ("/api/cicd/test", junit, "application/xml",
                  lambda: ElementTree.fromstring(junit)),
    }
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite://{folder}/bench.db",
                            write_rate_per_minute=10**9, write_burst=10**9)

        async def run() -> None:
            async with running_app(settings) as app, app.client(app.admin_token) as http:
                http.timeout = httpx.Timeout(600)
                for name, (route, body, content_type, bare) in cases.items():
                    end_to_end, baseline = [], []
                    for _ in range(args.rounds):  # interleaved: bare, then end to end
                        baseline.append(timed(bare))
                        start = time.perf_counter()
                        await upload(http, route, body, content_type)
                        end_to_end.append(time.perf_counter() - start)
                    tracemalloc.start()
                    await upload(http, route, body, content_type)
                    peak = tracemalloc.get_traced_memory()[1] / 2**20
                    tracemalloc.stop()
                    rows.append((name, statistics.median(end_to_end), statistics.median(baseline),
                                 peak, peak_mib(bare), len(body) / 2**20))

        asyncio.run(run())
    print(f"\n{'case':<6} {'end to end':>11} {'bare parse':>11} {'ratio':>7} "
          f"{'peak MiB':>9} {'bare MiB':>9} {'doc MiB':>8}")
    for name, e2e, bare, peak, bare_peak, size in rows:
        print(f"{name:<6} {e2e:10.2f}s {bare:10.3f}s {e2e / bare:6.1f}x {peak:9.1f} "
              f"{bare_peak:9.1f} {size:8.1f}")
        met = "MET" if e2e / bare <= TARGET_RATIO else "NOT MET"
        print(f"       target end to end <= {TARGET_RATIO:.0f}x bare parse: {met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

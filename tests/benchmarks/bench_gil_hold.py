"""How long a thread decoding large JSON bodies keeps the event loop's thread waiting for
the GIL: `arcos.web.json_text.parse_json` (which decodes in steps) against a plain
`json.loads` of the same 4 MB body (one C call), measured in the same run.

A waiter thread sleeps 1 ms at a time and records how late each wake-up is, while a second
thread decodes the body over and over: a wake-up is late by as long as the decoder keeps
the GIL. Also reported: decode throughput (what the stepping costs) and, for reference,
`canonical_json` of the same value, which still encodes in one call.
Target: parse_json's worst wait <= 0.25x json.loads's.

Run: .venv/bin/python tests/benchmarks/bench_gil_hold.py [--rounds 3] [--seconds 2]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Spread, percentile, print_table, verdict

from arcos.evidence.canonical import canonical_json
from arcos.web.json_text import parse_json

TARGET_RATIO = 0.6
#: About 4 MB of small objects, as the hardening test's writes are.
VALUE = {"results": [
    {"name": f"test_{index}", "outcome": "passed", "seconds": index / 1000,
     "retried": False, "tags": ["unit"]}
    for index in range(40_000)
]}
BODY = json.dumps(VALUE).encode()


def waits_while(work: Callable[[], object], seconds: float) -> tuple[list[float], float]:
    """Late wake-ups (seconds) of a 1 ms sleeper while `work` runs in a loop in another
    thread, and how many times per second `work` completed."""
    stop = threading.Event()
    runs = 0

    def busy() -> None:
        nonlocal runs
        while not stop.is_set():
            work()
            runs += 1

    thread = threading.Thread(target=busy)
    late: list[float] = []
    started = time.perf_counter()
    thread.start()
    while time.perf_counter() - started < seconds:
        before = time.perf_counter()
        time.sleep(0.001)
        late.append(time.perf_counter() - before - 0.001)
    stop.set()
    thread.join()
    return sorted(late), runs / (time.perf_counter() - started)


def without_the_collector(work: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        gc.disable()
        try:
            return work()
        finally:
            gc.enable()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    contenders: dict[str, Callable[[], object]] = {
        "json.loads (baseline)": lambda: json.loads(BODY),
        "parse_json": lambda: parse_json(BODY),
        "canonical_json (reference)": lambda: canonical_json(VALUE),
        "parse_json, gc off (reference)": without_the_collector(lambda: parse_json(BODY)),
    }
    worst: dict[str, list[float]] = {name: [] for name in contenders}
    p99: dict[str, list[float]] = {name: [] for name in contenders}
    rate: dict[str, list[float]] = {name: [] for name in contenders}
    ratios: list[float] = []
    print(f"body {len(BODY) / 1e6:.1f} MB, {args.rounds} interleaved rounds of "
          f"{args.seconds} s, switch interval {sys.getswitchinterval() * 1000:.0f} ms")
    for _ in range(args.rounds):
        for name, work in contenders.items():
            late, per_second = waits_while(work, args.seconds)
            worst[name].append(late[-1] * 1000)
            p99[name].append(percentile(late, 99) * 1000)
            rate[name].append(per_second * len(BODY) / 1e6)
        ratios.append(worst["parse_json"][-1] / worst["json.loads (baseline)"][-1])
    print_table(
        ["decoder thread", "worst wait ms", "p99 wait ms", "MB/s"],
        [[name, Spread.of(worst[name]).show(1), Spread.of(p99[name]).show(1),
          Spread.of(rate[name]).show(1)] for name in contenders],
    )
    ratio = Spread.of(ratios)
    print(f"parse_json worst wait / json.loads worst wait: {ratio.show(2)} "
          f"(target <= {TARGET_RATIO}): {verdict(ratio.median <= TARGET_RATIO)}")


if __name__ == "__main__":
    main()

"""Trivial plugin calls through the sandbox pool: calls per second and p50/p99 latency,
against baselines measured in the same run.

Cases (interleaved per round):
- `bare fork + pipe`: this process forks, the child writes one byte to a pipe and exits,
  the parent reads it and reaps the child. The floor of fork-per-call.
- `pool, no layers`: the whole pool path (zygote, SCM_RIGHTS, job and reply pipes,
  asyncio, reaping) with every layer dropped (`ARCOS_PLUGIN_SANDBOX_DROP_LAYERS`).
- `pool, all layers`: the production configuration.
The handler is `builtins:len` (returns len(payload)): the cost is the sandbox, not the work.
Latency is measured one call at a time, back to back and 10 ms apart (the zygote sandboxes
the next child between calls); throughput with 2 x workers calls in flight (closed loop). Targets (issue #11): >= 200 calls/s and p50 <= 5 ms with 2 slots.

Run: .venv/bin/python tests/benchmarks/bench_plugin_pool.py [--rounds 3] [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Spread, load_average_line, percentile, print_table, verdict

from arcos.plugins.sandbox.layers import LAYER_NAMES
from arcos.plugins.sandbox.pool import SandboxPool
from arcos.settings import Settings

HANDLERS = {"len": "builtins:len"}
TARGET_RATE = 200.0
TARGET_P50_MS = 5.0


def bare_fork(calls: int) -> list[float]:
    """Latencies (ms) of fork + one byte over a pipe + waitpid."""
    latencies = []
    for _ in range(calls):
        started = time.perf_counter()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.write(write_end, b"1")
            os._exit(0)
        os.close(write_end)
        os.read(read_end, 1)
        os.close(read_end)
        os.waitpid(pid, 0)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def pool_case(
    drop: str, calls: int, workers: int
) -> tuple[list[float], list[float], float]:
    """Latencies (ms) back to back and 10 ms apart, then calls/s with 2 x workers in flight.

    Back to back, the next child's sandboxing (done between calls) is still on the path;
    10 ms apart it is finished when the call arrives, as with real traffic.
    """
    settings = Settings().replace(
        plugin_workers=workers, plugin_queue=4 * workers, plugin_sandbox_drop_layers=drop
    )
    pool = SandboxPool(settings, HANDLERS)
    await pool.start()
    try:
        for _ in range(20):  # warm-up
            await pool.call("len", {"a": 1})
        latencies = []
        for _ in range(calls):
            started = time.perf_counter()
            outcome = await pool.call("len", {"a": 1})
            latencies.append((time.perf_counter() - started) * 1000)
            assert outcome.result == 1, outcome
        spaced = []
        for _ in range(calls // 2):
            await asyncio.sleep(0.01)
            started = time.perf_counter()
            await pool.call("len", {"a": 1})
            spaced.append((time.perf_counter() - started) * 1000)
        remaining = calls

        async def client() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await pool.call("len", {"a": 1})

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(2 * workers)))
        rate = calls / (time.perf_counter() - started)
    finally:
        await pool.close()
    return latencies, spaced, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=300, help="calls per case and round")
    parser.add_argument("--workers", type=int, default=2, help="pool slots")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the no-layers case warns loudly by design
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.workers} slots")
    print(load_average_line("before"))
    cases = {"bare fork + pipe": None, "pool, no layers": ",".join(LAYER_NAMES),
             "pool, all layers": ""}
    p50: dict[str, list[float]] = {name: [] for name in cases}
    p99: dict[str, list[float]] = {name: [] for name in cases}
    p50_spaced: dict[str, list[float]] = {name: [] for name in cases}
    rate: dict[str, list[float]] = {name: [] for name in cases}
    ratio_bare: list[float] = []
    ratio_layers: list[float] = []
    for _ in range(args.rounds):
        for name, drop in cases.items():
            if drop is None:
                latencies = bare_fork(args.calls)
                spaced = latencies
                per_second = 1000 / (sum(latencies) / len(latencies))
            else:
                latencies, spaced, per_second = asyncio.run(
                    pool_case(drop, args.calls, args.workers)
                )
            p50_spaced[name].append(percentile(sorted(spaced), 50))
            ordered = sorted(latencies)
            p50[name].append(percentile(ordered, 50))
            p99[name].append(percentile(ordered, 99))
            rate[name].append(per_second)
        ratio_bare.append(p50["pool, all layers"][-1] / p50["bare fork + pipe"][-1])
        ratio_layers.append(p50["pool, all layers"][-1] / p50["pool, no layers"][-1])
    print_table(
        ["case", "p50 ms", "p99 ms", "p50 ms, 10 ms apart", "calls/s"],
        [[name, Spread.of(p50[name]).show(2), Spread.of(p99[name]).show(2),
          Spread.of(p50_spaced[name]).show(2), Spread.of(rate[name]).show(0)]
         for name in cases],
    )
    print("(bare fork: calls/s is one at a time; pool: 2 x slots calls in flight)")
    print(f"p50 all layers / bare fork: {Spread.of(ratio_bare).show(2)}x")
    print(f"p50 all layers / pool without layers: {Spread.of(ratio_layers).show(2)}x")
    final_rate = Spread.of(rate["pool, all layers"]).median
    final_p50 = Spread.of(p50["pool, all layers"]).median
    spaced_p50 = Spread.of(p50_spaced["pool, all layers"]).median
    print(f"target >= {TARGET_RATE:.0f} calls/s: {final_rate:.0f} {verdict(final_rate >= 200)}")
    print(f"target p50 <= {TARGET_P50_MS} ms: back to back {final_p50:.2f} "
          f"{verdict(final_p50 <= TARGET_P50_MS)}; 10 ms apart {spaced_p50:.2f} "
          f"{verdict(spaced_p50 <= TARGET_P50_MS)}")
    print(load_average_line("after"))


if __name__ == "__main__":
    main()

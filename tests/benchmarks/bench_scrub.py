"""How the anonymising scrubber's cost grows with the text: each hostile shape (long runs a
rule could restart inside at every character) and ordinary prose, scrubbed at 8 KiB and at
64 KiB in the same run. Linear cost gives a ratio near 8; a rule that backtracks over the
rest of the run at each start gives near 64 (and minutes at 64 KiB).
Target: every shape's 64 KiB / 8 KiB ratio <= 12, and ordinary prose >= 1 MB/s.

Run: .venv/bin/python tests/benchmarks/bench_scrub.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import print_table, verdict

from arcos.community.scrub import Scrubber

TARGET_RATIO = 12.0
TARGET_PROSE_MB_S = 1.0
SMALL, LARGE = 8 * 1024, 64 * 1024
SHAPES = {
    "a-a-a-": "a-", "a+a+a+": "a+", "a.a.a.": "a.", "a/a/a/": "a/", "1.1.1.": "1.",
    "sk-sk-": "sk-", "eyJeyJ": "eyJ", "x@x@x@": "x@", "a:a:a:": "a:",
    "prose": "Mail ops@acme.example about build01.acme.corp (10.0.0.7) and ghp_"
             "0123456789abcdefghijABCDEFGHIJ, see https://ci.acme.example/job/7 now. ",
}


def best_seconds(scrubber: Scrubber, text: str, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        scrubber.text(text)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scrubber = Scrubber(["Jane Doe", "Globex"])
    rows, met = [], True
    for name, unit in SHAPES.items():
        small = best_seconds(scrubber, (unit * (SMALL // len(unit) + 1))[:SMALL], args.rounds)
        large = best_seconds(scrubber, (unit * (LARGE // len(unit) + 1))[:LARGE], args.rounds)
        ratio = large / small
        ok = ratio <= TARGET_RATIO
        if name == "prose":
            ok = ok and LARGE / large / 1e6 >= TARGET_PROSE_MB_S
        met = met and ok
        rows.append([name, f"{small * 1000:.1f}", f"{large * 1000:.1f}", f"{ratio:.1f}",
                     f"{LARGE / large / 1e6:.2f}", verdict(ok)])
    print_table(["shape", "8 KiB ms", "64 KiB ms", "ratio", "MB/s", "target"], rows)
    print(f"\nTarget: ratio <= {TARGET_RATIO} for every shape; prose >= {TARGET_PROSE_MB_S} MB/s "
          f"-> {verdict(met)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

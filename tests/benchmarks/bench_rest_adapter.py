"""REST adapter overhead: the same submitEvidence through POST /api/v1/evidence and through
POST /graphql, interleaved in one run. Target: the adapter adds at most 10% latency.

Run: .venv/bin/python tests/benchmarks/bench_rest_adapter.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import harness

TARGET_RATIO = 1.10
EVIDENCE = {
    "type": "test_results", "source": "bench-rest", "project": "github.com/example/bench",
    "commitSha": "ab" * 20, "ref": "refs/heads/main", "data": {"passed": 10, "failed": 0},
}
SUBMIT = ("mutation($i: SubmitEvidenceInput!) { submitEvidence(input: $i) { evidence { id "
          "cursor type source project { slug } commitSha ref data metadata sha256 submittedBy "
          "createdAt } replayed errors { field message code } } }")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    harness.add_load_arguments(parser, connections=8)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tool, workdir = harness.prepare(args)
    database_url = f"sqlite://{workdir / 'rest.db'}"
    # The same selection on both sides, so the only difference is the adapter.
    cases = {
        "graphql": ("/graphql", json.dumps({"query": SUBMIT, "variables": {"i": EVIDENCE}})),
        "rest": ("/api/v1/evidence", json.dumps(EVIDENCE)),
    }
    results: dict[str, list[harness.LoadResult]] = {key: [] for key in cases}
    ratios: list[float] = []
    with harness.running([]) as servers:
        arcos = harness.start_arcos(database_url, workdir, synchronous=args.synchronous)
        servers.append(arcos)
        for round_number in range(1, args.rounds + 1):
            for key, (path, body) in cases.items():
                result = harness.run_load(
                    tool, f"{arcos.http_url}{path}", body.encode(),
                    connections=args.connections, duration=args.duration, warmup=args.warmup,
                    headers=arcos.auth_headers, server=arcos, workdir=workdir,
                )
                results[key].append(result)
                print(f"round {round_number} {key:8} {result.rps:8.0f} req/s  "
                      f"p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "
                      f"errors {result.errors}", flush=True)
            ratios.append(results["rest"][-1].p50_ms / results["graphql"][-1].p50_ms)
    print()
    rows = [
        [key, harness.Spread.of([r.rps for r in runs]).show(0),
         harness.Spread.of([r.p50_ms for r in runs]).show(1),
         harness.Spread.of([r.p99_ms for r in runs]).show(1)]
        for key, runs in results.items()
    ]
    harness.print_table(["path", "writes/s", "p50 ms", "p99 ms"], rows)
    ratio = harness.Spread.of(ratios)
    print(f"\nREST/GraphQL p50 latency ratio: {ratio.show(3, 'x')}  "
          f"(target <= {TARGET_RATIO:.2f}x: {harness.verdict(ratio.median <= TARGET_RATIO)})")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())

"""Cold start: `python -m arcos serve` on an empty SQLite store until the first 200 on
/healthz, against a Python process that only imports uvicorn and Starlette, measured in
the same run. Target (issue #13): cold start <= 0.5 s.

Each round starts both on a fresh store (a new file: the server creates every table), one
after the other, and the figures are the medians of the rounds. `--importtime` adds the
modules that cost most to import (`python -X importtime -c "import arcos.app"`), which is
where the time goes before the server can listen.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import Spread, free_port, print_table, verdict

TARGET_SECONDS = 0.5
BASELINE = "import uvicorn, starlette.applications, starlette.routing"
#: How often the first answer is looked for: fine enough for a 0.5 s target.
POLL_SECONDS = 0.002


def _healthy(port: int) -> bool:
    """One raw GET /healthz: True on a 200 (a refused connection or anything else: False)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def serve_seconds(workdir: Path, round_: int) -> float:
    """Seconds from spawning `arcos serve` on a new store to its first 200 on /healthz."""
    port = free_port()
    env = {**os.environ, "ARCOS_DATABASE_URL": f"sqlite://{workdir / f'cold-{round_}.db'}",
           "ARCOS_PORT": str(port), "ARCOS_LOG_LEVEL": "warning",
           "ARCOS_BOOTSTRAP_ADMIN": "false"}
    log = (workdir / f"cold-{round_}.log").open("wb")
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "arcos", "serve"], env=env,
                               stdout=log, stderr=log, cwd=workdir)
    try:
        while not _healthy(port):
            if process.poll() is not None:
                raise RuntimeError(f"arcos serve exited:\n{(workdir / f'cold-{round_}.log').read_text()}")
            if time.perf_counter() - started > 60:
                raise RuntimeError("arcos serve did not answer /healthz within 60 s")
            time.sleep(POLL_SECONDS)
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def baseline_seconds() -> float:
    """Seconds for a Python process that imports uvicorn and Starlette and exits."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", BASELINE], check=True)
    return time.perf_counter() - started


def import_costs(top: int) -> list[tuple[str, float]]:
    """The `top` modules with the largest cumulative import time of `arcos.app`."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", "import arcos.app"],
                         capture_output=True, text=True, check=True)
    costs = []
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.removeprefix(
            "import time:").split("|"))
        costs.append((name, int(cumulative) / 1e6))
    return sorted(costs, key=lambda cost: -cost[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--importtime", type=int, default=0, metavar="N",
                        help="also list the N modules costliest to import")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="arcos-cold-"))
    serve, bare = [], []
    for round_ in range(args.rounds):
        bare.append(baseline_seconds())
        serve.append(serve_seconds(workdir, round_))
    served, imported = Spread.of(serve), Spread.of(bare)
    print(f"cold start, {args.rounds} rounds, medians (min-max); store files in {workdir}")
    print_table(["measure", "seconds", "ratio to baseline"], [
        ["importing uvicorn + starlette (baseline)", imported.show(3), "1.00"],
        ["arcos serve -> first 200 on /healthz", served.show(3),
         f"{served.median / imported.median:.2f}"],
    ])
    print(f"target cold start <= {TARGET_SECONDS} s: {verdict(served.median <= TARGET_SECONDS)}")
    if args.importtime:
        print()
        print_table(["module (import arcos.app)", "cumulative s"],
                    [[name, f"{seconds:.3f}"] for name, seconds in import_costs(args.importtime)])


if __name__ == "__main__":
    main()

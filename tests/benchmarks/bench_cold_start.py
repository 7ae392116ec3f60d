"""Cold start: `python -m arcos serve` on an empty SQLite store until the first 200 on
/healthz, against a Python process that only imports uvicorn and Starlette, measured in
the same run with the same interpreter. Target (issue #13): cold start <= 0.5 s.

A 200 on /healthz must mean the server is ready, so at that moment each round also sends
the first GraphQL request (`evidenceList` with the admin token the new store printed, the
token a new user starts with) and one REST request (`GET /api/v3/evidence`), and reports
when each answered and whether it succeeded at its first attempt. Nothing is warmed
before them.

Each round starts both on a fresh store (a new file: the server creates every table and
issues the first admin token, as a user's first `arcos serve` does), one after the other;
the figures are the medians of the rounds. Besides wall-clock seconds, the server's CPU
seconds up to its first 200 (from /proc) are reported, which move less with the load the
other work on the machine puts on it.

A reference process, also timed each round, imports only the libraries every answer
needs (uvicorn, Starlette, strawberry, graphql-core, Tortoise with aiosqlite, with the
collector paused as `arcos serve` imports): what no arrangement of ARCOS's own start-up
can go below while those are imported before the first 200.

`--python` chooses the environment: a server-only install (`python3 -m venv v &&
v/bin/pip install .`) is what a user's `arcos serve` runs; the development venv also holds
the test extras, some of which change what the server's own imports cost (jsonschema builds
an RFC 3987 grammar at import when `rfc3987_syntax` is installed). The report says which.
Before the rounds the arcos package is byte-compiled (`compileall`), as `pip install`
does, so a checkout started with PYTHONDONTWRITEBYTECODE set is not charged for
compiling it every time. `--importtime N` adds the modules costliest to import
(`python -X importtime -c "import arcos.cli, arcos.app"`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import Spread, free_port, load_average_line, print_table, use_arcos_source, verdict

TARGET_SECONDS = 0.5
BASELINE = "import uvicorn, starlette.applications, starlette.routing"
#: A reference, not the baseline: what importing the libraries every answer needs costs
#: alone (with the collector paused, as `arcos serve` imports). Above the target, no
#: arrangement of arcos's own start-up meets it while they are imported before the first 200.
LIBRARIES = ("import gc; gc.disable(); import uvicorn, starlette.applications, "
             "starlette.routing, strawberry, strawberry.relay, graphql, tortoise, "
             "tortoise.backends.sqlite, aiosqlite")
#: How often the first answer is looked for: fine enough for a 0.5 s target.
POLL_SECONDS = 0.002
#: The first GraphQL request: authenticated, through the permission checks, into the store.
FIRST_QUERY = "{ evidenceList(limit: 1) { id type } }"
FIRST_REST = "/api/v3/evidence?first=1"
#: The banner a new store prints its first admin token in (arcos/app.py).
TOKEN = re.compile(r"^\s+(arcos_\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Round:
    healthz: float
    #: utime + stime of the server process when /healthz first answered 200.
    healthz_cpu: float
    graphql: float
    graphql_first_try: bool
    rest: float
    rest_first_try: bool


def _request(port: int, method: str, path: str, body: bytes | None = None,
             token: str | None = None) -> tuple[int, bytes]:
    """One HTTP/1.1 request on a new connection: (status, body); (0, b"") when refused."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        connection.close()


def _graphql_ok(port: int, token: str) -> bool:
    """True when FIRST_QUERY answers 200 with data and no errors."""
    status, body = _request(port, "POST", "/graphql",
                            json.dumps({"query": FIRST_QUERY}).encode(), token)
    if status != 200:
        return False
    answer = json.loads(body)
    return not answer.get("errors") and isinstance(answer.get("data", {}).get("evidenceList"), list)


def _rest_ok(port: int, token: str) -> bool:
    status, _ = _request(port, "GET", FIRST_REST, token=token)
    return status == 200


def _until(check, started: float, process: subprocess.Popen[bytes], log: Path) -> tuple[float, bool]:
    """Seconds since `started` when `check()` first held, and whether it held at once."""
    first = True
    while not check():
        first = False
        if process.poll() is not None:
            raise RuntimeError(f"arcos serve exited:\n{log.read_text()}")
        if time.perf_counter() - started > 60:
            raise RuntimeError(f"no answer within 60 s; log:\n{log.read_text()[-2000:]}")
        time.sleep(POLL_SECONDS)
    return time.perf_counter() - started, first


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_round(python: str, workdir: Path, round_: int) -> Round:
    """Spawn `arcos serve` on a new store; time /healthz, then the first GraphQL and REST
    requests sent the moment /healthz answered."""
    port = free_port()
    env = {**os.environ, "ARCOS_DATABASE_URL": f"sqlite://{workdir / f'cold-{round_}.db'}",
           "ARCOS_PORT": str(port), "ARCOS_LOG_LEVEL": "warning"}
    env.pop("ARCOS_BOOTSTRAP_ADMIN", None)  # a new user's store prints its admin token
    log_path = workdir / f"cold-{round_}.log"
    log = log_path.open("wb")
    started = time.perf_counter()
    process = subprocess.Popen([python, "-m", "arcos", "serve"], env=env,
                               stdout=log, stderr=log, cwd=workdir)
    try:
        healthz, _ = _until(lambda: _request(port, "GET", "/healthz")[0] == 200,
                            started, process, log_path)
        healthz_cpu = cpu_seconds(process.pid)
        found = TOKEN.search(log_path.read_text())
        if found is None:
            raise RuntimeError(f"no admin token in the log:\n{log_path.read_text()[-2000:]}")
        token = found.group(1)
        graphql, graphql_first = _until(lambda: _graphql_ok(port, token), started, process,
                                        log_path)
        rest, rest_first = _until(lambda: _rest_ok(port, token), started, process, log_path)
        return Round(healthz, healthz_cpu, graphql, graphql_first, rest, rest_first)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def baseline_round(python: str, code: str = BASELINE) -> tuple[float, float]:
    """Wall and CPU seconds of a process that runs `code` (by default: imports uvicorn and
    Starlette) and exits."""
    started = time.perf_counter()
    process = subprocess.Popen([python, "-c", code])
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"{python} -c {code!r} failed")
    return elapsed, usage.ru_utime + usage.ru_stime


def describe_environment(python: str) -> list[str]:
    """Which interpreter, which arcos, and whether the test extras are installed there;
    also byte-compiles that arcos (what `pip install` does)."""
    probe = subprocess.run([python, "-c", (
        "import sys, importlib.util as u, arcos, pathlib; "
        "print(sys.prefix); print(pathlib.Path(arcos.__file__).parent); "
        "print(bool(u.find_spec('pytest'))); print(bool(u.find_spec('rfc3987_syntax')))"
    )], capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    prefix, package, has_pytest, has_rfc = probe.stdout.split()
    subprocess.run([python, "-m", "compileall", "-q", package], check=True)
    extras = "with the test extras" if has_pytest == "True" else "server-only (no test extras)"
    return [
        f"python          {python} (venv {prefix}: {extras}; "
        f"rfc3987_syntax {'installed' if has_rfc == 'True' else 'not installed'})",
        f"arcos           {package} (byte-compiled before the rounds)",
    ]


def import_costs(python: str, top: int) -> list[tuple[str, float]]:
    """The `top` modules with the largest cumulative import time of what `serve` imports."""
    run = subprocess.run([python, "-X", "importtime", "-c", "import arcos.cli, arcos.app"],
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
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter (venv) running the server and the baseline")
    parser.add_argument("--arcos-src", help="import arcos from this directory (see README)")
    parser.add_argument("--importtime", type=int, default=0, metavar="N",
                        help="also list the N modules costliest to import")
    args = parser.parse_args()
    use_arcos_source(args.arcos_src)
    workdir = Path(tempfile.mkdtemp(prefix="arcos-cold-"))
    for line in describe_environment(args.python):
        print(line)
    print(load_average_line("before"))
    rounds: list[Round] = []
    bare: list[tuple[float, float]] = []
    libraries: list[tuple[float, float]] = []
    for round_ in range(args.rounds):
        bare.append(baseline_round(args.python))
        libraries.append(baseline_round(args.python, LIBRARIES))
        rounds.append(serve_round(args.python, workdir, round_))
    print(load_average_line("after"))
    imported = Spread.of([wall for wall, _ in bare])
    imported_cpu = Spread.of([cpu for _, cpu in bare])
    floor = Spread.of([wall for wall, _ in libraries])
    floor_cpu = Spread.of([cpu for _, cpu in libraries])
    healthz = Spread.of([r.healthz for r in rounds])
    healthz_cpu = Spread.of([r.healthz_cpu for r in rounds])
    graphql = Spread.of([r.graphql for r in rounds])
    rest = Spread.of([r.rest for r in rounds])
    ready = sum(r.graphql_first_try and r.rest_first_try for r in rounds)
    print(f"cold start, {args.rounds} rounds, medians (min-max); store files in {workdir}")
    print_table(["measure", "seconds", "ratio to baseline"], [
        ["importing uvicorn + starlette (baseline)", imported.show(3), "1.00"],
        ["reference: + strawberry, graphql, Tortoise", floor.show(3),
         f"{floor.median / imported.median:.2f}"],
        ["arcos serve -> first 200 on /healthz", healthz.show(3),
         f"{healthz.median / imported.median:.2f}"],
        ["-> first GraphQL evidenceList answered", graphql.show(3),
         f"{graphql.median / imported.median:.2f}"],
        ["-> first REST GET /api/v3/evidence answered", rest.show(3),
         f"{rest.median / imported.median:.2f}"],
        ["CPU: baseline process", imported_cpu.show(3), "1.00"],
        ["CPU: reference process", floor_cpu.show(3),
         f"{floor_cpu.median / imported_cpu.median:.2f}"],
        ["CPU: arcos serve up to its first 200", healthz_cpu.show(3),
         f"{healthz_cpu.median / imported_cpu.median:.2f}"],
    ])
    print(f"ready at the first 200 (GraphQL and REST answered at their first attempt): "
          f"{ready}/{args.rounds} rounds")
    print(f"target cold start <= {TARGET_SECONDS} s: {verdict(healthz.median <= TARGET_SECONDS)}"
          f" ({healthz.median:.3f} s, {healthz.median / imported.median:.2f}x the baseline)")
    if args.importtime:
        print()
        print_table(["module (import arcos.cli, arcos.app)", "cumulative s"],
                    [[name, f"{seconds:.3f}"]
                     for name, seconds in import_costs(args.python, args.importtime)])


if __name__ == "__main__":
    main()

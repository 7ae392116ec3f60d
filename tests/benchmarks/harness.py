"""Shared machinery for the on-demand ARCOS benchmarks (not part of the pytest suite).

What lives here:

* starting a real `python -m arcos serve` (or any uvicorn/websockets process) on a free
  port, pinned with `taskset` to the "server" core, and reading its CPU time and RSS from
  /proc while it runs;
* the HTTP load generator: `wrk` (C, one thread) when it is installed, otherwise a small
  asyncio (uvloop when available) HTTP/1.1 keep-alive client that runs in its own process
  pinned to the "client" core (`python harness.py loadgen ...`);
* the environment header every benchmark prints (versions, SQLite `synchronous`,
  fdatasync latency of the work directory, pinning, load tool);
* small statistics and table helpers.

Method: rounds are interleaved
A/B/A/B, each figure is reported as the median of the rounds with its min-max, and
ratios are taken within a round before they are summarised.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
HARNESS = Path(__file__).resolve()

#: Core the server under test runs on, and core the load generator runs on.
SERVER_CORE = 0
CLIENT_CORE = 1

VERSIONED_PACKAGES = (
    "strawberry-graphql",
    "graphql-core",
    "uvicorn",
    "starlette",
    "tortoise-orm",
    "aiosqlite",
    "uvloop",
    "httptools",
    "websockets",
)


# --------------------------------------------------------------------------- pinning


def can_pin() -> bool:
    """True when `taskset` exists and there are at least two cores to split."""
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pin_prefix(core: int | None) -> list[str]:
    """`taskset -c CORE` to put in front of a command, or nothing when pinning is off."""
    if core is None or not can_pin():
        return []
    return ["taskset", "-c", str(core)]


def pin_self(core: int | None) -> None:
    """Pin the calling process (the benchmark driver) to `core` when possible."""
    if core is None or not can_pin() or not hasattr(os, "sched_setaffinity"):
        return
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {core})


def raise_fd_limit() -> None:
    """Lift the soft open-files limit to the hard one (1,000 websockets need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A server running in a child process, with its CPU time and memory readable."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    #: Bearer token for servers that require one (arcos with authentication), else None.
    token: str | None = None

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def check_alive(self) -> None:
        """Raise a clear error when the server has exited (a crash, or a signal from outside)."""
        code = self.process.poll()
        if code is None:
            return
        how = f"exit status {code}"
        if code < 0:
            with contextlib.suppress(ValueError):
                how = f"signal {signal.Signals(-code).name}"
        raise RuntimeError(
            f"{self.name} server (pid {self.process.pid}) stopped during the run: {how}. "
            "A SIGTERM usually comes from outside, e.g. `pkill -f 'arcos serve'` in another "
            f"shell on this machine; rerun. Log tail:\n{self.log()[-2000:]}"
        )

    def cpu_seconds(self) -> float:
        """User + system CPU the process has used so far (from /proc)."""
        return process_cpu_seconds(self.process.pid)

    def rss_kib(self) -> int:
        """Resident set size in KiB (from /proc; 0 where /proc is missing)."""
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` in seconds, or 0.0 when /proc is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields_after_name = stat.rsplit(")", 1)[1].split()
    ticks = int(fields_after_name[11]) + int(fields_after_name[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def start_server(
    name: str,
    command: Sequence[str],
    port: int,
    log_path: Path,
    *,
    env: dict[str, str] | None = None,
    health_path: str = "/healthz",
    core: int | None = SERVER_CORE,
    cwd: Path | None = None,
    timeout: float = 60.0,
) -> ServerProcess:
    """Start `command` (pinned to `core`) and wait until GET `health_path` answers 200."""
    log = log_path.open("ab")
    process = subprocess.Popen(
        [*pin_prefix(core), *command],
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=log,
        cwd=cwd or log_path.parent,
        preexec_fn=raise_fd_limit,
    )
    server = ServerProcess(name, process, port, log_path)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{server.log()}")
            try:
                if httpx.get(f"{server.http_url}{health_path}", timeout=1).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not become healthy:\n{server.log()}")
    except BaseException:
        # Not returned, so no caller will stop it: a Ctrl-C or SIGTERM while it starts
        # must not leave it running.
        stop_server(server)
        raise


#: Settings the benchmarks pass to every arcos server. Unknown ARCOS_* variables are
#: ignored by older servers. The write limiter is lifted so the write line measures the
#: server, not the per-principal rate limit; the bootstrap admin token is not needed
#: because the harness creates its own token with `arcos token create`.
BENCH_ARCOS_ENV = {
    "ARCOS_WRITE_RATE_PER_MINUTE": "1000000000",
    "ARCOS_WRITE_BURST": "1000000000",
    "ARCOS_BOOTSTRAP_ADMIN": "false",
}
BENCH_SCOPES = (("evidence:read", "evidence:write"), ("admin",))


def create_arcos_token(database_url: str, workdir: Path) -> str | None:
    """A bearer token made with `arcos token create`, or None when arcos has no tokens.

    Runs before the server starts (it also creates the tables), so every benchmark request
    authenticates like a real CI client does.
    """
    env = {**os.environ, "ARCOS_DATABASE_URL": database_url, "ARCOS_LOG_LEVEL": "warning"}
    probe = subprocess.run(
        [sys.executable, "-m", "arcos", "token", "create", "--help"], env=env, cwd=workdir,
        capture_output=True, text=True, check=False,
    )
    if probe.returncode != 0:
        return None
    # Newer servers refuse to create a missing store from a token command unless asked.
    create_store = ["--create-store"] if "--create-store" in probe.stdout else []
    failures = []
    for scopes in BENCH_SCOPES:
        command = [
            sys.executable, "-m", "arcos", "token", "create", *create_store,
            "--name", f"bench-{os.getpid()}-{time.monotonic_ns()}",
        ]
        for scope in scopes:
            command += ["--scope", scope]
        created = subprocess.run(
            command, env=env, cwd=workdir, capture_output=True, text=True, check=False
        )
        lines = created.stdout.strip().splitlines()
        if created.returncode == 0 and lines:
            return lines[0].strip()
        failures.append(created.stderr.strip())
    raise RuntimeError("`arcos token create` failed: " + " | ".join(failures))


def start_arcos(
    database_url: str, workdir: Path, *, synchronous: str = "FULL",
    extra_env: dict[str, str] | None = None, core: int | None = SERVER_CORE,
) -> ServerProcess:
    """A real `python -m arcos serve` (uvicorn, 1 worker, loop/http/ws auto) on a free port.

    When arcos requires authentication, a token is created first and kept on the result.
    """
    token = create_arcos_token(database_url, workdir)
    port = free_port()
    env = {
        **BENCH_ARCOS_ENV,
        "ARCOS_DATABASE_URL": database_url,
        "ARCOS_PORT": str(port),
        "ARCOS_LOG_LEVEL": "warning",
        "ARCOS_SQLITE_SYNCHRONOUS": synchronous,
        **(extra_env or {}),
    }
    server = start_server(
        "arcos", [sys.executable, "-m", "arcos", "serve"], port,
        workdir / f"arcos-{port}.log", env=env, core=core,
    )
    server.token = token
    return server


def stop_server(server: ServerProcess) -> None:
    """Terminate the child we started (by its own pid) and reap it."""
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextlib.contextmanager
def running(servers: list[ServerProcess]) -> Iterator[list[ServerProcess]]:
    """Stop every server in `servers` (appended to while the block runs) on the way out."""
    try:
        yield servers
    finally:
        for server in reversed(servers):
            stop_server(server)


def use_arcos_source(path: str | None) -> None:
    """Make every child process import arcos from `path` (e.g. an exported commit).

    `git archive HEAD arcos | tar -x -C /tmp/arcos-head` then `--arcos-src /tmp/arcos-head`
    benchmarks HEAD while the working tree is being edited. PYTHONPATH comes before the
    editable install's finder, so the children pick up that copy.
    """
    if not path:
        return
    source = Path(path).resolve()
    if not (source / "arcos" / "__init__.py").exists():
        raise SystemExit(f"--arcos-src {source}: no arcos/__init__.py there")
    existing = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = f"{source}{os.pathsep}{existing}" if existing else str(source)


def arcos_source_line() -> str:
    """Which arcos the children import, and its git state when it is this repository's."""
    located = subprocess.run(
        [sys.executable, "-c", "import arcos; print(arcos.__file__)"], cwd=tempfile.gettempdir(),
        capture_output=True, text=True, check=False,
    )
    package = Path(located.stdout.strip()).parent if located.returncode == 0 else None
    if package is None:
        return f"arcos cannot be imported: {located.stderr.strip()[-200:]}"
    if package.resolve() != (REPO_ROOT / "arcos").resolve():
        return f"{package} (not this repository's working tree)"
    head = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True, check=False,
    ).stdout.strip() or "?"
    changed = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "arcos"],
        capture_output=True, text=True, check=False,
    ).stdout.strip().splitlines()
    state = f", {len(changed)} uncommitted changes under arcos/" if changed else ", clean"
    return f"{package} (git {head}{state})"


def add_load_arguments(parser: argparse.ArgumentParser, *, connections: int) -> None:
    """The flags every closed-loop HTTP benchmark takes (rounds, timing, store, tool)."""
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--connections", type=int, default=connections)
    parser.add_argument("--synchronous", default="FULL", choices=("FULL", "NORMAL", "EXTRA"))
    parser.add_argument("--load-tool", default="auto", choices=("auto", "wrk", "python"))
    parser.add_argument("--workdir")
    parser.add_argument("--arcos-src")


def prepare(args: argparse.Namespace, title: str | None = None) -> tuple[str, Path]:
    """What every load benchmark does first: choose the load tool, point servers at the
    arcos to measure, pin the driver, make the work directory and print the environment."""
    tool = load_tool_name(args.load_tool)
    use_arcos_source(args.arcos_src)
    pin_self(CLIENT_CORE)
    workdir = make_workdir(args.workdir)
    if title:
        print(title)
    for line in environment_lines(
        workdir, args.synchronous, describe_load_tool(tool, args.connections)
    ):
        print(line)
    return tool, workdir


def make_workdir(requested: str | None) -> Path:
    """The directory holding the SQLite file and logs (a fresh temp dir by default)."""
    if requested:
        path = Path(requested).resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix="arcos-bench-"))


# --------------------------------------------------------------------------- GraphQL


def graphql(
    client: httpx.Client, server: ServerProcess, query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """POST one operation and return `data`; raise on transport or GraphQL errors."""
    response = client.post(
        f"{server.http_url}/graphql", json={"query": query, "variables": variables or {}},
        headers=server.auth_headers, timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    return body["data"]


# --------------------------------------------------------------------------- environment


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def fdatasync_latency_ms(directory: Path, samples: int = 200) -> tuple[float, float]:
    """p50 and p99 of write(4 KiB) + fdatasync in `directory`: what one FULL commit pays."""
    path = directory / ".fsync-probe"
    timings = []
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        block = b"x" * 4096
        for _ in range(samples):
            os.write(fd, block)
            start = time.perf_counter()
            os.fdatasync(fd)
            timings.append((time.perf_counter() - start) * 1000)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    timings.sort()
    return percentile(timings, 50), percentile(timings, 99)


def filesystem_of(directory: Path) -> str:
    """The filesystem type holding `directory` (from /proc/mounts), or '?'."""
    best, kind = "", "?"
    try:
        target = str(directory.resolve())
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            mount, fstype = parts[1], parts[2]
            if (target == mount or target.startswith(mount.rstrip("/") + "/")) and len(
                mount
            ) >= len(best):
                best, kind = mount, fstype
    except OSError:
        pass
    return kind


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def load_average_line(when: str) -> str:
    """The 1/5/15-minute load averages: other work on the machine shows up here."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return f"load average    {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({when})"


def environment_lines(workdir: Path, synchronous: str, load_tool: str) -> list[str]:
    """The header every benchmark prints, so results can be compared across runs."""
    versions = package_versions()
    p50, p99 = fdatasync_latency_ms(workdir)
    pinning = (
        f"server on core {SERVER_CORE}, load generator and driver on core {CLIENT_CORE} (taskset)"
        if can_pin() else "off (no taskset or fewer than 2 cores)"
    )
    return [
        f"date            {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"arcos           {arcos_source_line()}",
        f"machine         {cpu_model()}, {os.cpu_count()} cores, {platform.platform()}",
        load_average_line("before the run; the benchmark itself adds about 2"),
        "versions        " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        "server          python -m arcos serve: uvicorn, 1 worker, loop/http/ws 'auto'",
        f"pinning         {pinning}",
        f"load tool       {load_tool}",
        f"sqlite          journal_mode=WAL, synchronous={synchronous.upper()} "
        f"(ARCOS_SQLITE_SYNCHRONOUS), file in {workdir} ({filesystem_of(workdir)})",
        f"fdatasync       p50 {p50:.3f} ms, p99 {p99:.3f} ms (4 KiB writes in that directory)",
    ]


# --------------------------------------------------------------------------- statistics


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 for an empty list)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return float(sorted_values[rank - 1])


@dataclass(frozen=True)
class Spread:
    """Median of per-round values with their min and max."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            return cls(float("nan"), float("nan"), float("nan"))
        return cls(statistics.median(values), min(values), max(values))

    def show(self, digits: int = 0, unit: str = "") -> str:
        return (
            f"{self.median:,.{digits}f}{unit} "
            f"({self.low:,.{digits}f}-{self.high:,.{digits}f})"
        )


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain fixed-width table; the first column is left-aligned, the rest right."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
            for i, c in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


# --------------------------------------------------------------------------- HTTP load


@dataclass
class LoadResult:
    """One closed-loop HTTP measurement."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    client_cpu_pct: float
    server_cpu_pct: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def load_tool_name(choice: str) -> str:
    """Resolve --load-tool auto|wrk|python to the tool that will really run."""
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if choice == "wrk" and not shutil.which("wrk"):
        raise SystemExit("--load-tool wrk asked for, but wrk is not installed")
    return choice


def describe_load_tool(tool: str, connections: int) -> str:
    if tool == "wrk":
        version = subprocess.run(
            ["wrk", "--version"], capture_output=True, text=True, check=False
        ).stdout.split("\n")[0].split(" [")[0]
        return f"{version}, -t1 -c{connections}, closed loop"
    return (
        f"harness.py asyncio HTTP/1.1 keep-alive client (uvloop: {_has_uvloop()}), "
        f"{connections} connections, closed loop, own process"
    )


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def run_load(
    tool: str,
    url: str,
    body: bytes,
    *,
    connections: int,
    duration: float,
    warmup: float,
    vary: bool = False,
    headers: dict[str, str] | None = None,
    server: ServerProcess | None = None,
    workdir: Path,
) -> LoadResult:
    """POST `body` to `url` from `connections` keep-alive connections for `duration` s.

    With `vary`, every request replaces the token `__N__` in `body` and in header values
    with a counter (to defeat caches keyed by the document text, or to give each webhook
    delivery its own id). `warmup` seconds run first and are not
    counted. `headers` go on every request (e.g. Authorization). The load generator runs
    in its own process pinned to CLIENT_CORE.
    """
    extra = dict(headers or {})
    body_path = workdir / f"body-{os.getpid()}-{time.monotonic_ns()}.json"
    body_path.write_bytes(body)
    try:
        return _measure(
            tool, url, body_path, connections, duration, warmup, vary, extra, server, workdir
        )
    except RuntimeError:
        if server is not None:
            server.check_alive()  # a dead server explains the failure better
        raise
    finally:
        body_path.unlink(missing_ok=True)


def _measure(
    tool: str, url: str, body_path: Path, connections: int, duration: float, warmup: float,
    vary: bool, extra: dict[str, str], server: ServerProcess | None, workdir: Path,
) -> LoadResult:
    if warmup > 0:
        _run_tool(tool, url, body_path, connections, warmup, vary, extra, workdir)
    cpu_before = server.cpu_seconds() if server else 0.0
    wall_before = time.perf_counter()
    result = _run_tool(tool, url, body_path, connections, duration, vary, extra, workdir)
    wall = time.perf_counter() - wall_before
    if server is not None:
        server.check_alive()
        result.server_cpu_pct = 100 * (server.cpu_seconds() - cpu_before) / wall
    return result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_tool(
    tool: str, url: str, body_path: Path, connections: int, duration: float, vary: bool,
    headers: dict[str, str], workdir: Path,
) -> LoadResult:
    cpu_before = _children_cpu()
    if tool == "wrk":
        result = _run_wrk(url, body_path, connections, duration, vary, headers, workdir)
    else:
        result = _run_python_loadgen(url, body_path, connections, duration, vary, headers)
    result.client_cpu_pct = 100 * (_children_cpu() - cpu_before) / max(result.seconds, 1e-9)
    return result


_WRK_SCRIPT = """
local f = assert(io.open("{body_path}", "rb"))
local template = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
{headers}
wrk.body = template
{vary}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH %d %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""

_WRK_VARY = """
local counter = 0
request = function()
  counter = counter + 1
  local n = tostring(counter)
  local body = string.gsub(template, "__N__", n)
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = (string.gsub(value, "__N__", n))
  end
  return wrk.format(nil, nil, headers, body)
end
"""


def _run_wrk(
    url: str, body_path: Path, connections: int, duration: float, vary: bool,
    headers: dict[str, str], workdir: Path,
) -> LoadResult:
    script = workdir / f"{body_path.stem}.lua"
    header_lines = "\n".join(
        f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}" for name, value in headers.items()
    )
    script.write_text(
        _WRK_SCRIPT.replace("{body_path}", str(body_path))
        .replace("{vary}", _WRK_VARY if vary else "")
        .replace("{headers}", header_lines)
    )
    try:
        command = [
            *pin_prefix(CLIENT_CORE), "wrk", "-t1", f"-c{connections}",
            f"-d{max(1, round(duration))}s", "--timeout", "10s", "-s", str(script), url,
        ]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    finally:
        script.unlink(missing_ok=True)
    line = next((x for x in completed.stdout.splitlines() if x.startswith("BENCH ")), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed:\n{completed.stdout}\n{completed.stderr}")
    requests, duration_us, status, conn, read, write, timeout, p50, p99 = (
        int(float(x)) for x in line.split()[1:]
    )
    seconds = duration_us / 1e6
    return LoadResult(
        requests=requests, errors=status + conn + read + write + timeout, seconds=seconds,
        p50_ms=p50 / 1000, p99_ms=p99 / 1000, client_cpu_pct=0.0,
    )


def _run_python_loadgen(
    url: str, body_path: Path, connections: int, duration: float, vary: bool,
    headers: dict[str, str],
) -> LoadResult:
    command = [
        *pin_prefix(CLIENT_CORE), sys.executable, str(HARNESS), "loadgen", "--url", url,
        "--body-file", str(body_path), "--connections", str(connections),
        "--duration", str(duration),
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    if vary:
        command.append("--vary")
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{completed.stdout}\n{completed.stderr}")
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    return LoadResult(
        requests=report["requests"], errors=report["errors"], seconds=report["seconds"],
        p50_ms=report["p50_ms"], p99_ms=report["p99_ms"], client_cpu_pct=0.0,
        notes=report["notes"],
    )


# --------------------------------------------------------------------------- python loadgen


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = -1
    chunked = False
    for raw in head.split(b"\r\n")[1:]:
        name, _, value = raw.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip())
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return status, b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
    return status, await reader.readexactly(max(length, 0))


async def _connection_loop(
    host: str, port: int, path: str, body: bytes, vary: bool, headers: list[str],
    counter: list[int], deadline: float, latencies: list[float], errors: list[str],
) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as error:
        errors.append(f"connect: {error}")
        return
    extra = "".join(f"{line}\r\n" for line in headers)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}"
        "Content-Type: application/json\r\nContent-Length: "
    ).encode()
    fixed = head + str(len(body)).encode() + b"\r\n\r\n" + body
    try:
        while time.perf_counter() < deadline:
            if vary:
                counter[0] += 1
                number = str(counter[0]).encode()
                payload = body.replace(b"__N__", number)
                request = (head.replace(b"__N__", number) + str(len(payload)).encode()
                           + b"\r\n\r\n" + payload)
            else:
                request = fixed
            start = time.perf_counter()
            writer.write(request)
            status, _ = await _read_response(reader)
            latencies.append(time.perf_counter() - start)
            if status // 100 != 2:
                errors.append(f"HTTP {status}")
    except (OSError, asyncio.IncompleteReadError) as error:
        errors.append(f"{type(error).__name__}: {error}")
    finally:
        writer.close()


async def _loadgen(
    url: str, body: bytes, connections: int, duration: float, vary: bool, headers: list[str]
) -> dict[str, Any]:
    parsed = httpx.URL(url)
    host, port, path = parsed.host, parsed.port or 80, parsed.raw_path.decode() or "/"
    latencies: list[float] = []
    errors: list[str] = []
    counter = [0]
    start = time.perf_counter()
    deadline = start + duration
    await asyncio.gather(*(
        _connection_loop(
            host, port, path, body, vary, headers, counter, deadline, latencies, errors
        )
        for _ in range(connections)
    ))
    seconds = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": len(latencies), "errors": len(errors), "seconds": seconds,
        "p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000,
        "notes": sorted(set(errors))[:5],
    }


def _loadgen_main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="harness.py loadgen")
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--vary", action="store_true")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    args = parser.parse_args(argv)
    body = Path(args.body_file).read_bytes()
    runner: Callable[..., Any] = asyncio.run
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        pass
    report = runner(
        _loadgen(args.url, body, args.connections, args.duration, args.vary, args.header)
    )
    print(json.dumps(report))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "loadgen":
        _loadgen_main(sys.argv[2:])
    else:
        raise SystemExit("usage: harness.py loadgen --url URL --body-file FILE [...]")

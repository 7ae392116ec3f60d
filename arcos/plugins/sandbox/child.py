"""The forked child: sandbox itself, read one job, run its handler, write one reply, exit.

Runs inside the zygote's address space right after `fork()`, so everything here is
already imported. It never returns: every path ends in `os._exit`, so no zygote cleanup
code (atexit, buffered files, finally blocks up the stack) runs in the child, and no state
survives into another call because the process is gone.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from arcos.plugins.sandbox.layers import JOB_FD, REPLY_FD, ChildConfig, apply_layers
from arcos.plugins.sandbox.protocol import JOB_HEADER, MAX_JOB_BYTES

_MAX_MESSAGE = 300


def child_main(
    config: ChildConfig,
    handlers: Mapping[str, Callable[[dict[str, Any]], Any]],
    job_fd: int,
    reply_fd: int,
    *,
    probe: bool,
) -> NoReturn:
    """Entry point after fork; `probe` reports which layers applied instead of a job."""
    try:
        os.setsid()  # own process group: the zygote kills the group on a deadline
        _move_fds(job_fd, reply_fd, config.devnull_fd)
        failed = apply_layers(config, keep_going=probe)
        if probe:
            failed.update(_effects(config, failed))
            _reply({"probe": failed})
        elif failed:
            _reply({"unavailable": failed})
        else:
            _reply(_run_job(config, handlers))
        os._exit(0)
    except BaseException:  # nothing may escape into the zygote's code
        os._exit(70)


def _move_fds(job_fd: int, reply_fd: int, devnull_fd: int) -> None:
    """/dev/null on 0-2, the job pipe on 3, the reply pipe on 4, none clobbering another.

    Each is first copied above 10, since any of them may already sit on 0-4.
    """
    job_high, reply_high, null_high = (
        fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (job_fd, reply_fd, devnull_fd)
    )
    for target in (0, 1, 2):
        os.dup2(null_high, target)
    os.dup2(job_high, JOB_FD)
    os.dup2(reply_high, REPLY_FD)


def _run_job(
    config: ChildConfig, handlers: Mapping[str, Callable[[dict[str, Any]], Any]]
) -> dict[str, Any]:
    kind, payload = _read_job()
    handler = handlers.get(kind)
    if handler is None:
        return {"error": f"no handler for job kind {kind!r}"}
    try:
        result = handler(payload)
    except MemoryError:
        mib = config.memory_bytes // (1024 * 1024)
        return {"crash": f"ran out of memory (the limit is {mib} MiB)"}
    except BaseException as error:
        return {"error": describe(error)}
    return {"ok": result}


def _read_job() -> tuple[str, dict[str, Any]]:
    header = _read_exactly(JOB_HEADER.size)
    (size,) = JOB_HEADER.unpack(header)
    if size > MAX_JOB_BYTES:
        raise ValueError("job too large")
    job = json.loads(_read_exactly(size))
    return str(job["kind"]), job["payload"]


def _read_exactly(size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = os.read(JOB_FD, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("job pipe closed early")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _reply(message: dict[str, Any]) -> None:
    try:
        data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode()
    except MemoryError:
        data = b'{"crash":"ran out of memory while encoding the result"}'
    except (TypeError, ValueError, RecursionError) as error:
        data = json.dumps({"invalid": f"the result is not JSON: {describe(error)}"}).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(REPLY_FD, view) :]


def describe(error: BaseException) -> str:
    """One line naming the exception, short enough for an error column."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    line = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return line[:_MAX_MESSAGE]


def _effects(config: ChildConfig, failed: dict[str, str]) -> dict[str, str]:
    """Probe only: check that applied layers actually deny what they promise."""
    wrong: dict[str, str] = {}
    applied = {name for name in ("landlock", "seccomp", "uid") if name not in config.drop}
    if "landlock" in applied and "landlock" not in failed:
        try:
            os.close(os.open("/etc/passwd", os.O_RDONLY))
            wrong["landlock"] = "applied, but /etc/passwd was still readable"
        except OSError:
            pass
    if "seccomp" in applied and "seccomp" not in failed:
        try:
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
            wrong["seccomp"] = "applied, but socket() still worked"
        except OSError:
            pass
    if "uid" in applied and "uid" not in failed and os.getuid() == 0:
        wrong["uid"] = "applied, but the process still runs as root"
    return wrong

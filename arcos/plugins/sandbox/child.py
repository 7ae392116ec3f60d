"""The forked child: sandbox itself, wait for its pipes, run one job, reply once, exit.

Two entry points, both run inside the zygote's address space right after `fork()`, so
everything here is already imported:

- `spare_main`: a child forked *ahead* of its call (the reference's "children sandboxed
  ahead of time"). It applies every layer first, then blocks on the one-shot socket it
  shares with the zygote until the zygote hands it the call's two pipe ends (SCM_RIGHTS);
  they replace that socket on fds 3 and 4 before any job byte is read, so plugin code
  never sees the socket. It then asks for the job (protocol.JOB_READY), unless a layer
  failed: then it replies "unavailable" without ever getting the job. The set-up (~2 ms,
  mostly the network namespace) thus happens between calls instead of inside one.
- `probe_main`: a cold child that applies the layers and reports which failed.

Neither returns: every path ends in `os._exit`, so no zygote cleanup code (atexit,
buffered files, finally blocks up the stack) runs in the child, and no state survives into
another call because the process is gone.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from arcos.plugins.sandbox.layers import JOB_FD, REPLY_FD, ChildConfig, apply_layers
from arcos.plugins.sandbox.protocol import JOB_HEADER, JOB_READY, MAX_JOB_BYTES

_MAX_MESSAGE = 300


def spare_main(
    config: ChildConfig,
    handlers: Mapping[str, Callable[[dict[str, Any]], Any]],
    channel_fd: int,
) -> NoReturn:
    """Sandbox now; when the zygote hands over a call's pipes, run that call."""
    try:
        os.setsid()  # own process group: the zygote kills the group on a deadline
        # The channel waits on fd 3; fd 4 holds /dev/null so the pipes arrive above it.
        null = config.devnull_fd
        _place({0: null, 1: null, 2: null, JOB_FD: channel_fd, REPLY_FD: null})
        failed = apply_layers(config, keep_going=False)
        _take_pipes()
        if failed:  # replied without asking for the job: the host knows nothing ran
            _reply({"unavailable": failed})
        else:
            os.write(REPLY_FD, JOB_READY)
            _reply(_run_job(config, handlers))
        os._exit(0)
    except BaseException:  # nothing may escape into the zygote's code
        os._exit(70)


def probe_main(config: ChildConfig, job_fd: int, reply_fd: int) -> NoReturn:
    """Apply every layer (going on past failures) and reply {"probe": {layer: why}}."""
    try:
        os.setsid()
        null = config.devnull_fd
        _place({0: null, 1: null, 2: null, JOB_FD: job_fd, REPLY_FD: reply_fd})
        failed = apply_layers(config, keep_going=True)
        failed.update(_effects(config, failed))
        _reply({"probe": failed})
        os._exit(0)
    except BaseException:  # nothing may escape into the zygote's code
        os._exit(70)


def _place(targets: Mapping[int, int]) -> None:
    """dup2 each source fd onto its target fd, none clobbering another.

    Every source is first copied above 10, since any of them may already sit on 0-4.
    """
    high = {target: fcntl.fcntl(source, fcntl.F_DUPFD, 10) for target, source in targets.items()}
    for target, copy in high.items():
        os.dup2(copy, target)


def _take_pipes() -> None:
    """Receive the job and reply pipe ends on the channel (fd 3) and put them on 3 and 4."""
    channel = socket.socket(fileno=JOB_FD)
    try:
        _, fds, _, _ = socket.recv_fds(channel, 16, 2)
    finally:
        channel.detach()  # fd 3 is about to become the job pipe; never close it by GC
    if len(fds) != 2:
        raise EOFError("the zygote went away before handing over a call")
    job_fd, reply_fd = fds
    os.dup2(job_fd, JOB_FD)
    os.dup2(reply_fd, REPLY_FD)
    os.close(job_fd)
    os.close(reply_fd)


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

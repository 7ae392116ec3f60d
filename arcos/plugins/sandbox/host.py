"""The host's handle on one zygote: spawn it, hand it pipes, enforce deadline and size.

All I/O is non-blocking on the event loop (`sock_recv`, `add_reader`, `add_writer`), so a
call that sleeps, floods or never answers costs the loop nothing. Per call the host makes
both pipes, passes the child's ends to the zygote with SCM_RIGHTS and closes its copies,
so EOF on the reply pipe means the child (and only the child) is done writing. The job is
written only once the child asks for it (protocol.JOB_READY), so `ChildEnd.job_sent`
tells whether plugin code may have written the reply. The kill is delegated to the
zygote, which still holds the unreaped child and therefore its pid.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from arcos.plugins.sandbox.protocol import JOB_READY, LineBuffer, control_line
from arcos.plugins.sandbox.reply import ChildEnd
from arcos.plugins.sandbox.zygote import BOOTSTRAP

#: How long the zygote may take to start, import and answer, and to report an exit after
#: a kill, before the host gives up on it (and kills it).
ZYGOTE_GRACE_SECONDS = 10.0
#: Bytes of envelope allowed on top of the result limit (`{"ok":` ... `}`).
REPLY_ENVELOPE = 64
_ARCOS_ROOT = str(Path(__file__).resolve().parents[3])


class ZygoteGone(Exception):
    """The zygote died or stopped answering; the slot must be restarted."""


class Zygote:
    """One slot: a zygote process and its control socket."""

    def __init__(self, slot: int, config: Mapping[str, Any]) -> None:
        self.slot = slot
        self._config = dict(config)
        self._process: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._lines = LineBuffer()

    @property
    def alive(self) -> bool:
        return self._sock is not None and self._process is not None and (
            self._process.poll() is None
        )

    async def start(self) -> str | None:
        """Spawn and configure; returns the seccomp compile error, if any."""
        self._spawn()
        self._send(self._config)
        ready = await self._receive(ZYGOTE_GRACE_SECONDS)
        if not ready.get("ready"):
            await self.close()
            raise ZygoteGone(f"zygote failed to start: {ready.get('error')}")
        error: str | None = ready.get("seccomp_error")
        return error

    def _spawn(self) -> None:
        """Start the zygote process with only its end of the control socket.

        Synchronous on purpose, on the loop thread: it takes a few ms once per slot start,
        and a thread would not help (the fork/exec is the cost).
        """
        host_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
                [sys.executable, "-I", "-c", BOOTSTRAP, _ARCOS_ROOT, str(zygote_end.fileno())],
                pass_fds=(zygote_end.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env={},
                cwd="/",
                start_new_session=True,
            )
        finally:
            zygote_end.close()
        host_end.setblocking(False)
        self._sock = host_end

    async def run(self, job: bytes, *, seconds: float, reply_limit: int) -> ChildEnd:
        """Fork a child for `job`; enforce the wall-clock `seconds` and `reply_limit`."""
        return await self._fork("run", job, seconds=seconds, reply_limit=reply_limit)

    async def probe(self, seconds: float) -> dict[str, str]:
        """Fork a probe child; {layer: why} for every layer that failed (empty: all work)."""
        end = await self._fork("probe", b"", seconds=seconds, reply_limit=1 << 16)
        try:
            message = json.loads(end.reply)
            report: dict[str, str] = dict(message["probe"])
        except (ValueError, KeyError, TypeError):
            why = f"the probe child ended without a report (exit {end.exit_code})"
            return {"probe": why}
        return report

    async def _fork(self, op: str, job: bytes, *, seconds: float, reply_limit: int) -> ChildEnd:
        started = time.perf_counter()
        deadline = asyncio.get_running_loop().time() + seconds
        job_read, job_write = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        reply_read, reply_write = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        os.set_blocking(job_read, True)
        os.set_blocking(reply_write, True)
        try:
            try:
                assert self._sock is not None
                socket.send_fds(self._sock, [control_line({"op": op})], [job_read, reply_write])
            except OSError as error:
                raise ZygoteGone(f"zygote control socket failed: {error}") from error
            finally:
                os.close(job_read)
                os.close(reply_write)
            await self._receive(ZYGOTE_GRACE_SECONDS)  # {"pid": n}
            return await self._watch(
                job, job_write, reply_read, deadline=deadline, limit=reply_limit,
                started=started,
            )
        finally:
            os.close(job_write)
            os.close(reply_read)

    async def _watch(
        self, job: bytes, job_write: int, reply_read: int, *, deadline: float, limit: int,
        started: float,
    ) -> ChildEnd:
        """Feed the job once asked, read the reply, wait for the exit report, before `deadline`."""
        writer: asyncio.Task[None] | None = None
        reply, too_large, timed_out = b"", False, False
        exit_report: dict[str, Any] | None = None
        try:
            async with asyncio.timeout_at(deadline):
                head = await _read_chunk(reply_read)
                if head[:1] == JOB_READY:
                    writer = asyncio.create_task(_write_all(job_write, job))
                    head = head[1:]
                reply, too_large = await _read_bounded(reply_read, limit, head)
                if not too_large:
                    exit_report = await self._receive(None)
        except TimeoutError:
            timed_out = True
        finally:
            if writer is not None:
                # Let the writer unregister its fd before the caller closes (and frees) it.
                writer.cancel()
                await asyncio.wait([writer])
        if exit_report is None:
            self._send({"op": "kill"})
            exit_report = await self._receive(ZYGOTE_GRACE_SECONDS)
        return ChildEnd(
            reply=reply,
            too_large=too_large,
            timed_out=timed_out,
            exit_code=exit_report.get("exit"),
            cpu_seconds=float(exit_report.get("cpu", 0.0)),
            duration_ms=(time.perf_counter() - started) * 1000,
            job_sent=writer is not None,
        )

    def _send(self, message: Mapping[str, Any]) -> None:
        assert self._sock is not None
        try:
            self._sock.send(control_line(dict(message)))
        except OSError as error:
            raise ZygoteGone(f"zygote control socket failed: {error}") from error

    async def _receive(self, seconds: float | None) -> dict[str, Any]:
        assert self._sock is not None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(seconds):
                while (message := self._lines.pop()) is None:
                    data = await loop.sock_recv(self._sock, 4096)
                    if not data:
                        raise ZygoteGone("the zygote exited")
                    self._lines.feed(data)
        except TimeoutError:
            raise ZygoteGone("the zygote stopped answering") from None
        except OSError as error:  # ECONNRESET: it died with our config line still unread
            raise ZygoteGone(f"zygote control socket failed: {error}") from error
        return message

    async def close(self) -> None:
        """Close the control socket (the zygote then kills any child and exits); reap it."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        process, self._process = self._process, None
        if process is None:
            return
        try:
            await asyncio.to_thread(process.wait, ZYGOTE_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)


async def _write_all(fd: int, data: bytes) -> None:
    """Write `data` to a non-blocking pipe without blocking the loop; stop on EPIPE."""
    loop = asyncio.get_running_loop()
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            await _ready(loop.add_writer, loop.remove_writer, fd)
        except BrokenPipeError:
            return


async def _read_chunk(fd: int) -> bytes:
    """One read from a non-blocking pipe, waiting on the loop; b"" at EOF."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            return os.read(fd, 65536)
        except BlockingIOError:
            await _ready(loop.add_reader, loop.remove_reader, fd)


async def _read_bounded(fd: int, limit: int, head: bytes = b"") -> tuple[bytes, bool]:
    """`head` and the rest of the pipe to EOF; (b"", True) once more than `limit` arrived."""
    chunks = [head]
    total = len(head)
    while total <= limit:
        chunk = await _read_chunk(fd)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        total += len(chunk)
    return b"", True


async def _ready(add: Any, remove: Any, fd: int) -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    add(fd, lambda: future.done() or future.set_result(None))
    try:
        await future
    finally:
        remove(fd)


def spawn_config(
    *,
    slot: int,
    uid: int,
    cpu_seconds: int,
    memory_mib: int,
    handlers: Mapping[str, str],
    import_paths: Sequence[str],
    drop: Sequence[str],
) -> dict[str, Any]:
    """The first control line a zygote receives (no secrets: paths, limits, handler names)."""
    return {
        "slot": slot,
        "uid": uid,
        "cpu_seconds": cpu_seconds,
        "memory_bytes": memory_mib * 1024 * 1024,
        "handlers": dict(handlers),
        "import_paths": [str(path) for path in import_paths],
        "drop": sorted(drop),
    }

"""The zygote: a clean, single-threaded interpreter per pool slot that forks one child per call.

Why a separate process, started with `subprocess` rather than forked from the server: the
server is threaded (uvicorn, aiosqlite, thread pools) and holds sockets, a database and
secrets; forking it would copy all of that into plugin code and can deadlock on locks
other threads held. The zygote is started as `python -I -c BOOTSTRAP` with an empty
environment and only its control socket open, and gets its configuration (no secrets)
as the first line on that socket.

Before answering "ready" it imports everything a child may need (the trap: after the
child's setuid, a pyenv interpreter under 0700 `/root` can no longer be read, so a lazy
import would fail inside the sandbox), compiles the seccomp filter once, creates the empty
working directory, and freezes the GC so forks share pages. Then, per `run`/`probe` line
it hands the call to a spare child forked and sandboxed after the previous call (or forks
a probe child), reports the child's pid, waits on a pidfd and the control socket together
(so a `kill` is served while the child runs, and the group is killed before it is reaped,
so its pid cannot have been reused), reaps it and reports exit code, signal and CPU seconds.
EOF of the control socket (the host went away) kills any child and ends the zygote.
"""

from __future__ import annotations

import gc
import importlib
import os
import select
import shutil
import signal
import site
import socket
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from arcos.plugins.sandbox.child import probe_main, spare_main
from arcos.plugins.sandbox.layers import ChildConfig
from arcos.plugins.sandbox.protocol import LineBuffer, control_line
from arcos.plugins.sandbox.seccomp import compile_filter

#: Modules a plugin child may use, imported before any sandboxing. The encodings json and
#: re reach for lazily are listed explicitly.
PRELOAD: tuple[str, ...] = (
    "json", "math", "re", "datetime", "statistics", "collections", "itertools",
    "functools", "operator", "string", "decimal", "fractions", "random", "socket",
    "encodings.idna", "encodings.utf_8", "encodings.ascii", "encodings.latin_1",
    "unicodedata", "RestrictedPython", "RestrictedPython.Guards",
    "RestrictedPython.Eval", "RestrictedPython.Utilities", "RestrictedPython.PrintCollector",
)

#: Python that starts the zygote: put the arcos source first on the path, then run main().
BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from arcos.plugins.sandbox.zygote import main; main(int(sys.argv[2]))"
)


class _Control:
    """The blocking side of the control socket, with SCM_RIGHTS fds kept in arrival order."""

    def __init__(self, fd: int) -> None:
        self.sock = socket.socket(fileno=fd)
        self._lines = LineBuffer()
        self.fds: list[int] = []

    def receive(self) -> dict[str, Any] | None:
        while (message := self._lines.pop()) is None:
            data, fds, _, _ = socket.recv_fds(self.sock, 65536, 4)
            if not data:
                return None
            self.fds.extend(fds)
            self._lines.feed(data)
        return message

    def send(self, message: dict[str, Any]) -> None:
        self.sock.sendall(control_line(message))


def main(control_fd: int) -> None:
    """Run the zygote on an inherited control socket until the host closes it."""
    control = _Control(control_fd)
    config_message = control.receive()
    if config_message is None:
        return
    try:
        config, handlers = _prepare(config_message)
    except Exception as error:  # any setup failure is reported to the host, not swallowed
        control.send({"ready": False, "error": f"{type(error).__name__}: {error}"})
        return
    try:
        control.send({"ready": True, "seccomp_error": config.seccomp_error})
        _serve(control, config, handlers)
    finally:
        shutil.rmtree(config.empty_dir, ignore_errors=True)


def _prepare(
    message: dict[str, Any],
) -> tuple[ChildConfig, dict[str, Callable[[dict[str, Any]], Any]]]:
    extra_paths = [str(path) for path in message["import_paths"]]
    sys.path[:0] = extra_paths
    for name in PRELOAD:
        importlib.import_module(name)
    handlers = {
        kind: _load_handler(target) for kind, target in dict(message["handlers"]).items()
    }
    try:
        program: bytes | None = compile_filter()
        seccomp_error = None
    except Exception as error:  # a missing libseccomp is a layer report, not a crash
        program, seccomp_error = None, f"{type(error).__name__}: {error}"
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:
        raise RuntimeError(f"zygote must be single-threaded before forking, has {threads}")
    config = ChildConfig(
        uid=int(message["uid"]),
        cpu_seconds=int(message["cpu_seconds"]),
        memory_bytes=int(message["memory_bytes"]),
        read_paths=_read_paths(extra_paths),
        empty_dir=tempfile.mkdtemp(prefix="arcos-sandbox-cwd-"),
        devnull_fd=os.open(os.devnull, os.O_RDWR),
        seccomp_program=program,
        seccomp_error=seccomp_error,
        drop=frozenset(message["drop"]),
    )
    gc.collect()
    gc.freeze()
    return config, handlers


def _load_handler(target: str) -> Callable[[dict[str, Any]], Any]:
    module_name, _, function = target.partition(":")
    handler: Callable[[dict[str, Any]], Any] = getattr(
        importlib.import_module(module_name), function
    )
    return handler


def _read_paths(extra_paths: list[str]) -> tuple[str, ...]:
    """The interpreter's trees: its prefixes, site-packages, arcos itself, handler dirs."""
    import arcos

    candidates = [
        sys.base_prefix, sys.prefix, *site.getsitepackages(),
        os.path.dirname(os.path.abspath(arcos.__file__)), *extra_paths,
    ]
    seen: list[str] = []
    for path in candidates:
        real = os.path.realpath(path)
        if os.path.exists(real) and real not in seen:
            seen.append(real)
    return tuple(seen)


class _Spare:
    """A child already sandboxed, waiting on its end of `channel` for a call's pipes."""

    def __init__(
        self, config: ChildConfig, handlers: dict[str, Callable[[dict[str, Any]], Any]]
    ) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.pid = os.fork()
        if self.pid == 0:
            spare_main(config, handlers, theirs.fileno())
        theirs.close()
        self.channel = ours

    def hand_over(self, fds: list[int]) -> bool:
        """Send the pipes; False if the spare is gone (it is then killed and reaped)."""
        try:
            socket.send_fds(self.channel, [b"j"], fds)
            return True
        except OSError:
            self.discard()
            return False
        finally:
            self.channel.close()

    def discard(self) -> None:
        self.channel.close()
        _kill(self.pid)
        os.waitpid(self.pid, 0)


def _serve(
    control: _Control,
    config: ChildConfig,
    handlers: dict[str, Callable[[dict[str, Any]], Any]],
) -> None:
    """Serve calls; after each one, fork the spare that will run the next.

    The next spare is forked only after the previous child was reaped, so two children of
    this slot's UID never exist at once (the per-slot UID layer stays meaningful).
    """
    spare: _Spare | None = None
    try:
        while (message := control.receive()) is not None:
            op = message.get("op")
            if op not in ("run", "probe") or len(control.fds) < 2:
                continue  # a stray kill for a child already reaped
            fds = control.fds[:2]
            del control.fds[:2]
            if op == "probe":
                pid = os.fork()
                if pid == 0:
                    probe_main(config, fds[0], fds[1])
            else:
                if spare is None or not spare.hand_over(fds):
                    spare = _Spare(config, handlers)
                    if not spare.hand_over(fds):  # even a fresh spare died: report a crash
                        spare = None
                        for fd in fds:
                            os.close(fd)
                        control.send({"pid": 0})
                        control.send({"exit": -signal.SIGKILL, "cpu": 0.0})
                        continue
                pid, spare = spare.pid, None
            for fd in fds:
                os.close(fd)
            control.send({"pid": pid})
            if not _supervise(control, pid):
                return
            spare = _Spare(config, handlers)
    finally:
        if spare is not None:
            spare.discard()


def _supervise(control: _Control, pid: int) -> bool:
    """Wait for the child, serving `kill`; False when the host went away."""
    pidfd = os.pidfd_open(pid)
    host_present = True
    try:
        while True:
            readable, _, _ = select.select([control.sock, pidfd], [], [])
            if pidfd in readable:
                break
            message = control.receive()
            if message is None:
                host_present = False
                _kill(pid)
            elif message.get("op") == "kill":
                _kill(pid)
    finally:
        os.close(pidfd)
    _, status, usage = os.wait4(pid, 0)
    if host_present:
        control.send({
            "exit": os.waitstatus_to_exitcode(status),
            "cpu": usage.ru_utime + usage.ru_stime,
        })
    return host_present


def _kill(pid: int) -> None:
    """SIGKILL the child's group (and the child, in case it has not called setsid yet)."""
    for send in (os.killpg, os.kill):
        try:
            send(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


if __name__ == "__main__":  # pragma: no cover - started through BOOTSTRAP
    main(int(sys.argv[1]))

"""The sandbox layers a child applies to itself after the zygote forks it, in this order.

Each layer assumes every other one failed (the reference design: "each layer assumes the
one above failed"), and each has a name: `arcos plugins doctor` reports by it,
`ARCOS_PLUGIN_SANDBOX_DROP_LAYERS` drops by it (development only), and
`SandboxUnavailable.missing` names it.

Order and why:
1. `close_fds`    only fds 0-4 stay open (/dev/null on 0-2; on 3 the one-shot socket the
                  spare receives its pipes on, replaced by the job pipe before any job
                  byte is read; the reply pipe on 4): nothing of the zygote (its control
                  socket, other spares' channels) leaks into plugin code.
2. `namespaces`   new net/mount/IPC/UTS namespaces: the new netns has only a down loopback,
                  so there is no network at all, 127.0.0.1 included. Mounts are not made
                  private: the child mounts nothing and cannot (no capability after the
                  UID drop, `mount` denied by seccomp), so nothing could propagate back,
                  and the remount would cost every call a walk over the mount table.
3. `environment`  empty environment; cwd an empty root-owned 0700 directory (unreadable
                  once the UID drops).
4. `landlock`     read-only on the interpreter's trees; needs free fds, so before rlimits.
5. `rlimits`      CPU, address space, open files, file size 0, no core dumps.
6. `uid`          setgroups([]) and setgid/setuid to this slot's own UID (so two slots
                  cannot signal or ptrace each other), then RLIMIT_NPROC 0 (root ignores it).
7. `no_new_privs` parent-death signal (set after setuid, which clears it), no_new_privs,
                  not dumpable (no ptrace, /proc/self owned by root).
8. `seccomp`      the deny-list compiled by the zygote; last, because it denies setuid.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from collections.abc import Callable, Collection
from dataclasses import dataclass

from arcos.plugins.sandbox import landlock, seccomp

JOB_FD = 3
REPLY_FD = 4
#: Soft/hard RLIMIT_NOFILE of a child: fds 0-4 plus a few a handler may briefly need.
CHILD_NOFILE = 8

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWNET = 0x40000000
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_NO_NEW_PRIVS = 38
_PR_GET_NO_NEW_PRIVS = 39

_libc = ctypes.CDLL(None, use_errno=True)
# Resolved here, in the zygote, so that no child pays the dlsym on its first call.
_unshare = _libc.unshare
_prctl = _libc.prctl


class LayerFailed(Exception):
    """A layer could not be applied; the message says why in one line."""


@dataclass(frozen=True)
class ChildConfig:
    """What a child needs to sandbox itself; built once by the zygote, before any fork."""

    uid: int
    cpu_seconds: int
    memory_bytes: int
    read_paths: tuple[str, ...]
    empty_dir: str
    devnull_fd: int
    seccomp_program: bytes | None
    seccomp_error: str | None
    drop: frozenset[str]


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise LayerFailed(f"{what}: {os.strerror(err)}")


def close_fds(config: ChildConfig) -> None:
    """Keep fds 0-4 (/dev/null x3, job, reply; see child.py); close every other one."""
    os.closerange(REPLY_FD + 1, os.sysconf("SC_OPEN_MAX"))


def namespaces(config: ChildConfig) -> None:
    """Private net, mount, IPC and UTS namespaces (root or a user namespace needed)."""
    flags = _CLONE_NEWNET | _CLONE_NEWNS | _CLONE_NEWIPC | _CLONE_NEWUTS
    _check(_unshare(flags), "unshare(NEWNET|NEWNS|NEWIPC|NEWUTS)")


def environment(config: ChildConfig) -> None:
    """No inherited variables; a working directory with nothing in it."""
    os.environ.clear()
    os.chdir(config.empty_dir)


def landlock_read_only(config: ChildConfig) -> None:
    """Read-only access to the interpreter's paths, nothing else (see landlock.py)."""
    try:
        landlock.restrict_read_only(config.read_paths)
    except OSError as error:
        raise LayerFailed(f"landlock: {error.strerror or error}") from None


def rlimits(config: ChildConfig) -> None:
    """CPU seconds (SIGXCPU, then SIGKILL a second later), memory, files, no cores."""
    cpu = config.cpu_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (config.memory_bytes, config.memory_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (CHILD_NOFILE, CHILD_NOFILE))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def uid(config: ChildConfig) -> None:
    """Drop to this slot's UID/GID with no supplementary groups; then no new processes."""
    os.setgroups([])
    os.setresgid(config.uid, config.uid, config.uid)
    os.setresuid(config.uid, config.uid, config.uid)
    if os.getresuid() != (config.uid,) * 3 or os.getgroups():
        raise LayerFailed("the UID did not change")
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def no_new_privs(config: ChildConfig) -> None:
    """Die with the zygote, never gain privileges, never be ptrace-able or dumped."""
    _check(_prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG")
    _check(_prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
    _check(_prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0), "PR_SET_DUMPABLE")


def seccomp_deny(config: ChildConfig) -> None:
    """Install the deny-list the zygote compiled."""
    if config.seccomp_program is None:
        raise LayerFailed(f"no filter: {config.seccomp_error}")
    try:
        seccomp.install_filter(config.seccomp_program)
    except OSError as error:
        raise LayerFailed(str(error)) from None


LAYERS: tuple[tuple[str, Callable[[ChildConfig], None]], ...] = (
    ("close_fds", close_fds),
    ("namespaces", namespaces),
    ("environment", environment),
    ("landlock", landlock_read_only),
    ("rlimits", rlimits),
    ("uid", uid),
    ("no_new_privs", no_new_privs),
    ("seccomp", seccomp_deny),
)
LAYER_NAMES: tuple[str, ...] = tuple(name for name, _ in LAYERS)


def apply_layers(config: ChildConfig, *, keep_going: bool) -> dict[str, str]:
    """Apply every layer not in `config.drop`; return {layer: why} for those that failed.

    A real call stops at the first failure (`keep_going=False`) and runs nothing; the probe
    goes on so that doctor can name every layer that does not work.
    """
    failed: dict[str, str] = {}
    for name, apply in LAYERS:
        if name in config.drop:
            continue
        try:
            apply(config)
        except (OSError, LayerFailed) as error:
            failed[name] = _one_line(error)
            if not keep_going:
                break
    return failed


def _one_line(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def parse_drop(value: str, known: Collection[str] = LAYER_NAMES) -> frozenset[str]:
    """Layer names from a comma list; ValueError naming the unknown ones."""
    names = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = sorted(names - set(known))
    if unknown:
        raise ValueError(
            f"unknown sandbox layer(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    return names

"""Helpers for the sandbox tests: skip rule, a started pool, and /proc inspection.

The pool runs the test-only handler `sandbox_raw:run_raw` (raw Python, the "assume full
escape" path): what the tests check is what the OS layers stop, not what Python stops.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from arcos.plugins.sandbox.outcome import Outcome
from arcos.plugins.sandbox.pool import SandboxPool
from arcos.settings import Settings

HERE = Path(__file__).resolve().parent
RAW = {"raw": "sandbox_raw:run_raw"}


def _user_namespaces() -> bool:
    try:
        return int(Path("/proc/sys/user/max_user_namespaces").read_text()) > 0
    except OSError:
        return False


requires_sandbox = pytest.mark.skipif(
    os.geteuid() != 0 and not _user_namespaces(),
    reason="the plugin sandbox needs root (or user namespaces) to create namespaces and "
    "switch to the per-slot UIDs",
)


def sandbox_settings(**changes: Any) -> Settings:
    """Short limits so that every R-case ends quickly."""
    base: dict[str, Any] = {
        "plugin_timeout_seconds": 1.0,
        "plugin_cpu_seconds": 2,
        "plugin_workers": 2,
        "plugin_queue": 4,
    }
    base.update(changes)
    return Settings().replace(**base)


#: Each pool's view of the children this process had before it started. Other tests leave
#: long-lived children of their own (multiprocessing's resource tracker, started by the
#: report-parsing pool, lives as long as the test session), and those are not the pool's.
_OLDER_CHILDREN: weakref.WeakKeyDictionary[SandboxPool, frozenset[int]] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def started_pool(**changes: Any) -> AsyncIterator[SandboxPool]:
    pool = SandboxPool(sandbox_settings(**changes), RAW, import_paths=[str(HERE)])
    _OLDER_CHILDREN[pool] = frozenset(children(os.getpid()))
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


async def run_raw(pool: SandboxPool, code: str, **payload: Any) -> tuple[Outcome, float]:
    """Run raw code; the outcome and the seconds it took."""
    started = time.monotonic()
    outcome = await pool.call("raw", {"code": code, **payload})
    return outcome, time.monotonic() - started


def children(pid: int) -> list[int]:
    """Direct children of `pid` (every thread's list), from /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def zygotes(pool: SandboxPool) -> list[int]:
    """This process's children that `pool` started (its zygotes, or their remains)."""
    return [pid for pid in children(os.getpid()) if pid not in _OLDER_CHILDREN[pool]]


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = children(pid)
    while todo:
        child = todo.pop()
        out.append(child)
        todo += children(child)
    return out


def state(pid: int) -> str:
    """The one-letter process state (Z for zombie), or "" if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[0]


def net_namespace(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return ""


def nsfs_mounts() -> int:
    return Path("/proc/self/mountinfo").read_text().count(" nsfs ")


def read_text(path: str | Path) -> str:
    """File contents (a sync helper: tiny /proc and /etc reads inside async tests)."""
    return Path(path).read_text()


def listing(directory: Path) -> list[str]:
    """Names in a directory, for "nothing was written here" checks."""
    return sorted(entry.name for entry in directory.iterdir())


def exists(path: str | Path) -> bool:
    return Path(path).exists()


def open_to_all(directory: Path, mode: int) -> None:
    directory.chmod(mode)


def uid_of(pid: int) -> int:
    """Real UID of a process, from /proc (-1 if it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return -1
    line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    return int(line.split()[1])


def spares(pool: SandboxPool) -> list[int]:
    """The zygotes' children, checked to be only what is expected between calls.

    Each zygote holds at most one child, the spare for its next call (it may still be
    sandboxing itself): alive (not a zombie), with no children of its own.
    """
    found: list[int] = []
    for zygote in zygotes(pool):
        kids = children(zygote)
        assert len(kids) <= 1, (zygote, kids)
        for kid in kids:
            assert children(kid) == [], kid
            assert state(kid) not in ("Z", ""), kid
        found += kids
    return found

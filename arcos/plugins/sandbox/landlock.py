"""Landlock through raw syscalls: the child may only read the interpreter's own files.

Why raw ctypes: the PyPI `landlock` binding is a pre-release and filesystem-only, while the
kernel here offers ABI 7 (TCP rules since ABI 4, signal and abstract-socket scoping since
ABI 6). We ask the kernel for its ABI and handle every access right it knows, so whatever
is not granted below is denied: writes everywhere, reads outside the listed trees, TCP
bind/connect, signals to processes outside the domain, abstract UNIX sockets.

Traps:
- Each rule needs an open `O_PATH` fd, so this runs before RLIMIT_NOFILE is lowered.
- A rule on a regular file may only carry file rights (READ_DIR on a file is EINVAL).
- Landlock is an allow-list on top of DAC: `/root` being 0700 still hides a pyenv
  interpreter there from the slot UID, which is why the zygote imports everything first.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

_FS_EXECUTE = 1 << 0
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
#: Access rights per ABI: bits 0-12 since ABI 1, REFER (13) ABI 2, TRUNCATE (14) ABI 3,
#: IOCTL_DEV (15) ABI 5.
_FS_BITS_BY_ABI = {1: 13, 2: 14, 3: 15, 4: 15, 5: 16}
_NET_ALL = 0b11  # BIND_TCP | CONNECT_TCP, ABI 4+
_SCOPE_ALL = 0b11  # ABSTRACT_UNIX_SOCKET | SIGNAL, ABI 6+
_FILE_RIGHTS = _FS_READ_FILE  # what a rule on a regular file may grant here

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_raw_syscall = _libc.syscall  # resolved in the zygote, not in every child


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _syscall(number: int, *args: object) -> int:
    result = _raw_syscall(number, *args)
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return int(result)


def abi_version() -> int:
    """The Landlock ABI of the running kernel; OSError (ENOSYS/EOPNOTSUPP) when absent."""
    return _syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)


def scoping_gap(abi: int) -> str | None:
    """What this ABI leaves unscoped, for doctor; None from ABI 6 on.

    Informational: the other layers cover it (seccomp denies every syscall that signals
    another process, the private network namespace hides other abstract UNIX sockets).
    """
    if abi >= 6:
        return None
    return (
        f"Landlock ABI {abi} has no signal or abstract-socket scoping (ABI 6+): "
        "seccomp denies signals to other processes, the network namespace hides abstract "
        "sockets"
    )


def restrict_read_only(paths: Iterable[str]) -> None:
    """Confine this process (and its future children) to reading `paths`, nothing else."""
    abi = abi_version()
    attr = _RulesetAttr()
    attr.handled_access_fs = (1 << _FS_BITS_BY_ABI.get(abi, 16)) - 1
    size = 8
    if abi >= 4:
        attr.handled_access_net = _NET_ALL
        size = 16
    if abi >= 6:
        attr.scoped = _SCOPE_ALL
        size = 24
    ruleset = _syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    try:
        for path in paths:
            _allow_read(ruleset, path)
        _syscall(_SYS_RESTRICT_SELF, ruleset, 0)
    finally:
        os.close(ruleset)


def _allow_read(ruleset: int, path: str) -> None:
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        rule = _PathBeneathAttr()
        is_dir = os.path.isdir(path)
        rule.allowed_access = (_FS_READ_FILE | _FS_READ_DIR) if is_dir else _FILE_RIGHTS
        rule.parent_fd = fd
        _syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0)
    finally:
        os.close(fd)

"""The seccomp deny-list: compiled to BPF once in the zygote, installed per child by prctl.

Compiling with libseccomp (`pyseccomp`) costs ~1.5 ms, so the zygote exports the BPF
program once and each child only hands those bytes to `prctl(PR_SET_SECCOMP)`, which needs
no library, no allocation worth mentioning and no file access after Landlock.

A deny-list, not an allow-list: CPython's syscall set varies with what a plugin computes,
and every layer below this one (namespaces, Landlock, the slot UID, rlimits) already
assumes the code escaped the interpreter. Denied calls return EPERM, so a hostile plugin
gets an exception rather than a signal we would have to tell apart from a crash.
`clone`/`clone3` are denied outright: the child is single-threaded and needs neither.
Syscalls of other ABIs (i386 `int 0x80`) hit libseccomp's default bad-arch action, KILL.

Calls that act on another process by pid are denied too, although the slot UID seems to
fence them: slot UIDs repeat across pools (the server, `arcos plugins run` and doctor all
use `plugin_uid_base + slot`), so a child may share its UID with another tenant's running
child. Without this, `prlimit64(victim, RLIMIT_CPU, 0)` kills the victim, and
`rt_sigqueueinfo` signals it wherever Landlock has no signal scoping (ABI < 6).
`prlimit64` itself stays allowed for pid 0 (this process): glibc's getrlimit/setrlimit
use it, and the child's own limits are set before this filter is installed anyway.
"""

from __future__ import annotations

import ctypes
import errno
import os

DENIED_SYSCALLS: tuple[str, ...] = (
    # network and IPC endpoints
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    # new programs and processes
    "execve", "execveat", "fork", "vfork", "clone", "clone3",
    # other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "kill", "tkill", "tgkill",
    "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open", "pidfd_send_signal",
    "pidfd_getfd", "process_mrelease", "kcmp", "process_madvise", "setpriority",
    "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr",
    "migrate_pages", "move_pages", "ioprio_set",
    # mounts and namespaces
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "open_tree",
    "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    # identities
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
    "setfsuid", "setfsgid",
    # kernel attack surface
    "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "userfaultfd", "name_to_handle_at",
    "open_by_handle_at", "personality", "modify_ldt", "iopl", "ioperm", "syslog",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "fanotify_init", "uselib",
)

#: (syscall, argument index): denied unless that argument is 0, i.e. "this process".
DENIED_UNLESS_ZERO: tuple[tuple[str, int], ...] = (("prlimit64", 0),)

_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_libc = ctypes.CDLL(None, use_errno=True)
_prctl = _libc.prctl  # resolved in the zygote, not in every child


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def compile_filter() -> bytes:
    """The deny-list as a BPF program (raises if libseccomp or a syscall name is missing)."""
    import pyseccomp

    deny = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        deny.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
    for name, argument in DENIED_UNLESS_ZERO:
        deny.add_rule(pyseccomp.ERRNO(errno.EPERM), name, pyseccomp.Arg(argument, pyseccomp.NE, 0))
    read_end, write_end = os.pipe()
    try:
        with os.fdopen(write_end, "wb", closefd=True) as sink:
            deny.export_bpf(sink)
        chunks = []
        while chunk := os.read(read_end, 65536):
            chunks.append(chunk)
    finally:
        os.close(read_end)
    program = b"".join(chunks)
    if not program or len(program) % 8:
        raise OSError("libseccomp exported an empty or malformed BPF program")
    return program


def install_filter(program: bytes) -> None:
    """Load a compiled program into this process; needs no_new_privs (or CAP_SYS_ADMIN)."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    if _prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_SECCOMP): {os.strerror(err)}")

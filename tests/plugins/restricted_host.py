"""Run a SandboxPool (or `arcos plugins doctor`) in a process where the kernel refuses one
facility, the way a container runtime or an older kernel would, to test failing closed.

    python restricted_host.py FACILITY DROP_LAYERS pool|doctor|unprobed

The refusal is a seccomp filter on this process, inherited by the zygote and its
children: `unshare` -> EPERM (Docker's default profile), `landlock` -> ENOSYS (a kernel
without Landlock), `seccomp` -> prctl(PR_SET_SECCOMP) EINVAL (a kernel without seccomp
filters), `setuid` -> EPERM (no CAP_SETUID). Prints one JSON line for `pool` and
`unprobed` (one call in a zygote whose start-up probe is skipped, as if the layer broke
after it: the spare itself finds the layer missing).
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import sys
from pathlib import Path

import pyseccomp

HERE = Path(__file__).resolve().parent
PR_SET_SECCOMP = 22


def refuse(facility: str) -> None:
    rules = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    if facility == "unshare":
        rules.add_rule(pyseccomp.ERRNO(errno.EPERM), "unshare")
    elif facility == "landlock":
        rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "landlock_create_ruleset")
    elif facility == "seccomp":
        rules.add_rule(
            pyseccomp.ERRNO(errno.EINVAL), "prctl",
            pyseccomp.Arg(0, pyseccomp.EQ, PR_SET_SECCOMP),
        )
    elif facility == "setuid":
        for name in ("setresuid", "setuid", "setgroups"):
            rules.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
    else:
        raise SystemExit(f"unknown facility {facility}")
    rules.load()


async def run_pool(drop: str) -> dict[str, object]:
    from arcos.plugins.sandbox.outcome import SandboxUnavailable
    from arcos.plugins.sandbox.pool import SandboxPool
    from arcos.settings import Settings

    settings = Settings().replace(plugin_sandbox_drop_layers=drop, plugin_workers=1)
    pool = SandboxPool(settings, {"raw": "sandbox_raw:run_raw"}, import_paths=[str(HERE)])
    try:
        await pool.start()
    except SandboxUnavailable as error:
        return {"started": False, "missing": list(error.missing), "message": str(error)}
    try:
        outcome = await pool.call("raw", {"code": "result = [os.getuid(), len(os.environ)]"})
        return {"started": True, "status": outcome.status.value, "result": outcome.result}
    finally:
        await pool.close()


async def run_unprobed() -> dict[str, object]:
    from arcos.plugins.sandbox.host import Zygote, spawn_config
    from arcos.plugins.sandbox.outcome import SandboxUnavailable
    from arcos.plugins.sandbox.protocol import encode_job
    from arcos.plugins.sandbox.reply import classify
    from arcos.settings import Settings

    settings = Settings()
    zygote = Zygote(0, spawn_config(
        slot=0, uid=settings.plugin_uid_base, cpu_seconds=2, memory_mib=256,
        handlers={"raw": "sandbox_raw:run_raw"}, import_paths=[str(HERE)], drop=[],
    ))
    await zygote.start()
    try:
        job = encode_job("raw", {"code": "result = 'ran'"})
        end = await zygote.run(job, seconds=10, reply_limit=1 << 16)
    finally:
        await zygote.close()
    try:
        outcome = classify(end, timeout=10, cpu_limit=2, max_bytes=1 << 16)
    except SandboxUnavailable as error:
        return {"unavailable": list(error.missing), "job_sent": end.job_sent}
    return {"status": outcome.status.value, "job_sent": end.job_sent}


def main() -> None:
    facility, drop, mode = sys.argv[1:4]
    refuse(facility)
    if mode == "doctor":
        os.execv(sys.executable, [sys.executable, "-m", "arcos", "plugins", "doctor"])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    run = run_unprobed() if mode == "unprobed" else run_pool(drop)
    print(json.dumps(asyncio.run(run)))


if __name__ == "__main__":
    main()

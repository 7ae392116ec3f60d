"""Fail closed: when the kernel refuses a layer, start() raises SandboxUnavailable naming
it and nothing runs; the development drop setting is the only way past, and it is loud.

The refusal is real (a seccomp filter on a helper process, inherited by the zygotes; see
restricted_host.py), not a mock of the layer code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sandbox_pool import HERE, RAW, requires_sandbox, sandbox_settings

from arcos.cli import main
from arcos.plugins.sandbox import landlock
from arcos.plugins.sandbox.layers import LAYER_NAMES
from arcos.plugins.sandbox.pool import SandboxPool
from arcos.settings import SettingsError

pytestmark = requires_sandbox
REPO = HERE.parent.parent


def restricted(facility: str, drop: str, mode: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{HERE}"}
    return subprocess.run(
        [sys.executable, str(HERE / "restricted_host.py"), facility, drop, mode],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )


@pytest.mark.parametrize(
    ("facility", "layer"),
    [("unshare", "namespaces"), ("landlock", "landlock"), ("seccomp", "seccomp"),
     ("setuid", "uid")],
)
def test_start_refuses_when_a_layer_cannot_be_applied(facility: str, layer: str) -> None:
    run = restricted(facility, "", "pool")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["started"] is False
    assert report["missing"] == [layer]
    assert layer in report["message"] and "arcos plugins doctor" in report["message"]


def test_a_spare_missing_a_layer_replies_unavailable_without_asking_for_the_job() -> None:
    """The honest "unavailable" (a layer broke after the start-up probe) still refuses the
    call, and the job never reached the child: only such a reply is believed (reply.py)."""
    run = restricted("setuid", "", "unprobed")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"unavailable": ["uid"], "job_sent": False}


def test_dropping_the_missing_layer_runs_with_the_rest_and_says_so_loudly() -> None:
    run = restricted("unshare", "namespaces", "pool")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report == {"started": True, "status": "succeeded", "result": [200000, 0]}
    assert "WARNING" in run.stderr and "PLUGIN SANDBOX WEAKENED" in run.stderr
    assert "namespaces" in run.stderr


def test_doctor_names_the_missing_layer_and_exits_1() -> None:
    run = restricted("landlock", "", "doctor")
    assert run.returncode == 1, run.stdout + run.stderr
    lines = dict(line.split(None, 1) for line in run.stdout.splitlines()[: len(LAYER_NAMES)])
    assert lines["landlock"].startswith("NOT AVAILABLE")
    assert all(lines[name] == "works" for name in LAYER_NAMES if name != "landlock")


def test_doctor_here_reports_every_layer_working(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "doctor"]) == 0
    out = capsys.readouterr().out
    for name in LAYER_NAMES:
        assert f"{name} " in out
    assert "NOT AVAILABLE" not in out


def test_doctor_notes_a_landlock_without_signal_scoping() -> None:
    """Before ABI 6 Landlock cannot scope signals; doctor says so in the landlock line
    (informational: seccomp denies cross-process signals either way, see seccomp.py)."""
    for abi in (1, 4, 5):
        note = landlock.scoping_gap(abi)
        assert note is not None and f"ABI {abi}" in note
        assert "signal" in note and "seccomp" in note
    assert landlock.scoping_gap(6) is None
    assert landlock.scoping_gap(landlock.abi_version()) is None  # this kernel: ABI 7


def test_unknown_layer_name_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match=r"ARCOS_PLUGIN_SANDBOX_DROP_LAYERS.*nope"):
        SandboxPool(sandbox_settings(plugin_sandbox_drop_layers="seccomp, nope"), RAW)


async def test_calls_before_start_and_unknown_kinds_are_refused() -> None:
    pool = SandboxPool(sandbox_settings(), RAW, import_paths=[str(HERE)])
    with pytest.raises(RuntimeError):
        await pool.call("raw", {"code": ""})
    await pool.start()
    try:
        with pytest.raises(ValueError, match="unknown plugin job kind"):
            await pool.call("check", {})
    finally:
        await pool.close()

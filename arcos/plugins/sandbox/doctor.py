"""`probe_layers()`: which sandbox layers work on this machine, and why not.

It starts one throw-away zygote with no layer dropped (the development drop setting does
not hide a missing layer from the report; it is shown beside it) and lets a probe child
apply every layer and check that the key ones deny what they promise. `arcos plugins
doctor` prints the result; `SandboxPool.start()` runs the same probe in every slot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from arcos.plugins.sandbox import landlock
from arcos.plugins.sandbox.host import Zygote, ZygoteGone, spawn_config
from arcos.plugins.sandbox.layers import LAYER_NAMES
from arcos.plugins.sandbox.pool import PROBE_TIMEOUT_SECONDS, dropped_layers
from arcos.settings import Settings


@dataclass(frozen=True)
class LayerReport:
    """One layer: does it work here, and if not, why."""

    name: str
    works: bool
    detail: str
    dropped: bool  # named in ARCOS_PLUGIN_SANDBOX_DROP_LAYERS


async def probe_layers(
    settings: Settings, *, import_paths: Sequence[str] = ()
) -> tuple[LayerReport, ...]:
    """Probe every layer in a fresh zygote of slot 0; one report per layer, in order."""
    drop = dropped_layers(settings)
    zygote = Zygote(
        0,
        spawn_config(
            slot=0,
            uid=settings.plugin_uid_base,
            cpu_seconds=settings.plugin_cpu_seconds,
            memory_mib=settings.plugin_memory_mib,
            handlers={},
            import_paths=import_paths,
            drop=(),
        ),
    )
    try:
        seccomp_error = await zygote.start()
        failed = await zygote.probe(PROBE_TIMEOUT_SECONDS)
        if seccomp_error:
            failed.setdefault("seccomp", seccomp_error)
    except ZygoteGone as error:
        failed = {name: f"no zygote: {error}" for name in LAYER_NAMES}
    finally:
        await zygote.close()
    if "probe" in failed:  # the probe child died before reporting: nothing is known to work
        failed = {name: failed["probe"] for name in LAYER_NAMES}
    notes = {} if "landlock" in failed else {"landlock": _landlock_note()}
    return tuple(
        LayerReport(
            name=name,
            works=name not in failed,
            detail=failed.get(name) or notes.get(name) or "works",
            dropped=name in drop,
        )
        for name in LAYER_NAMES
    )


def _landlock_note() -> str | None:
    """What the kernel's Landlock ABI does not scope (the ABI is kernel-wide, so asking
    here answers for the children too)."""
    try:
        return landlock.scoping_gap(landlock.abi_version())
    except OSError:
        return None

"""`arcos plugins …`: plugin commands from a shell.

`add_plugin_commands` registers the `plugins` group; each sub-command is one
`actions.add_parser(...)` with its own handler, so more (e.g. `plugins run`) slot in here.
"""

from __future__ import annotations

import argparse
import asyncio

from arcos.settings import Settings


def add_plugin_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    plugins = commands.add_parser("plugins", help="plugin sandbox tools")
    actions = plugins.add_subparsers(dest="action", required=True)
    doctor = actions.add_parser(
        "doctor", help="show which sandbox layers work on this machine, and why not"
    )
    doctor.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    """Print one line per layer; exit 0 only when every layer works."""
    from arcos.plugins.sandbox.doctor import probe_layers

    reports = asyncio.run(probe_layers(Settings.from_env()))
    width = max(len(report.name) for report in reports)
    for report in reports:
        state = "works" if report.works else "NOT AVAILABLE"
        line = f"{report.name:<{width}}  {state}"
        if not report.works:
            line += f": {report.detail}"
        if report.dropped:
            line += "  (dropped by ARCOS_PLUGIN_SANDBOX_DROP_LAYERS: not applied to calls)"
        print(line)
    if all(report.works for report in reports):
        print("all sandbox layers work: plugin calls can run here")
        return 0
    print("plugin calls will be refused (SANDBOX_UNAVAILABLE) until every layer works")
    return 1

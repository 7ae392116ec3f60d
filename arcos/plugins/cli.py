"""`arcos plugins …`: plugin commands from a shell.

`add_plugin_commands` registers the `plugins` group; each sub-command is one
`actions.add_parser(...)` with its own handler: `doctor` (which sandbox layers work here)
and `run` (check and run a plugin locally, arcos/plugins/local_run.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from arcos.settings import Settings


def add_plugin_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    plugins = commands.add_parser("plugins", help="plugin sandbox tools")
    actions = plugins.add_subparsers(dest="action", required=True)
    doctor = actions.add_parser(
        "doctor", help="show which sandbox layers work on this machine, and why not"
    )
    doctor.set_defaults(handler=_doctor)
    run = actions.add_parser(
        "run", help="check a plugin and run it once in the sandbox, as the server would"
    )
    run.add_argument("file", type=Path, help="the plugin's Python source")
    run.add_argument("--manifest", type=Path,
                     help="its manifest (default: FILE with .manifest.json for .py)")
    run.add_argument("--input", default="{}", help="the execution input, a JSON object")
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    """Print the check's problems, or the execution's outcome, as JSON."""
    from arcos.plugins.local_run import RunRefused, read_input, read_plugin, run_plugin

    try:
        manifest, code = read_plugin(args.file, args.manifest)
        given = read_input(args.input)
    except RunRefused as refused:
        print(f"arcos plugins run: {refused}", file=sys.stderr)
        return 2
    status, report = asyncio.run(run_plugin(Settings.from_env(), manifest, code, given))
    print(json.dumps(report, indent=2))
    return status


def _doctor(args: argparse.Namespace) -> int:
    """Print one line per layer; exit 0 only when every layer works."""
    from arcos.plugins.sandbox.doctor import probe_layers

    reports = asyncio.run(probe_layers(Settings.from_env()))
    width = max(len(report.name) for report in reports)
    for report in reports:
        state = "works" if report.works else "NOT AVAILABLE"
        line = f"{report.name:<{width}}  {state}"
        if report.detail != state:
            line += f": {report.detail}"
        if report.dropped:
            line += "  (dropped by ARCOS_PLUGIN_SANDBOX_DROP_LAYERS: not applied to calls)"
        print(line)
    if all(report.works for report in reports):
        print("all sandbox layers work: plugin calls can run here")
        return 0
    print("plugin calls will be refused (SANDBOX_UNAVAILABLE) until every layer works")
    return 1

"""`arcos plugins run FILE --input JSON`: try a plugin locally, through the same sandbox.

The same registration report the server gives (manifest, size, the source check in a
sandboxed worker), then one execution in a sandboxed child with the given input, printed
as JSON. Nothing is stored and no server is needed; a plugin that runs here runs the same
way once registered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from arcos.plugins.handlers import PLUGIN_HANDLERS
from arcos.plugins.sandbox.outcome import OutcomeStatus, SandboxUnavailable
from arcos.plugins.sandbox.pool import SandboxPool
from arcos.plugins.validation import check_plugin
from arcos.settings import Settings


class RunRefused(Exception):
    """The files or the input cannot be used; the message says what to change."""


def read_plugin(code_path: Path, manifest_path: Path | None) -> tuple[Any, str]:
    """The manifest (FILE's `.manifest.json` sibling unless given) and the source."""
    manifest_path = manifest_path or code_path.with_suffix(".manifest.json")
    try:
        code = code_path.read_text(encoding="utf-8")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise RunRefused(f"cannot read the plugin: {error}") from None
    except json.JSONDecodeError as error:
        raise RunRefused(f"{manifest_path} is not JSON: {error}") from None
    return manifest, code


def read_input(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise RunRefused(f"--input is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise RunRefused("--input must be a JSON object (the entry point's one argument)")
    return value


async def run_plugin(
    settings: Settings, manifest: Any, code: str, given: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Check, then run; the exit status (0 ran, 1 refused or failed, 2 no sandbox) and
    the report to print."""
    pool = SandboxPool(settings, PLUGIN_HANDLERS)
    try:
        await pool.start()
    except SandboxUnavailable as unavailable:
        return 2, {"status": "sandbox_unavailable", "error": str(unavailable)}
    try:
        report = await check_plugin(manifest, code, pool)
        if not report.valid or report.manifest is None:
            return 1, {"status": "refused", "problems": [
                {"field": p.field, "line": p.line, "column": p.column, "message": p.message}
                for p in report.problems
            ]}
        outcome = await pool.call("execute", {
            "code": code, "entry_point": report.manifest.entry_point, "input": given,
        })
    finally:
        await pool.close()
    ran = outcome.status is OutcomeStatus.SUCCEEDED
    return (0 if ran else 1), {
        "status": outcome.status.value, "result": outcome.result, "error": outcome.error,
        "durationMs": round(outcome.duration_ms, 3),
    }

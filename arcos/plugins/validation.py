"""The registration check: the manifest, the size, then the source inside the sandbox.

No plugin code runs here, and none of it is parsed in the server process either: hostile
source that blows up the parser (a million nested brackets) does so in a sandboxed child.
`validatePlugin` and `registerPlugin` give the same report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from arcos.plugins.manifest import Manifest, check_code_size, parse_manifest
from arcos.plugins.sandbox.outcome import Outcome, OutcomeStatus
from arcos.problems import Problem, ProblemCode, Refused

#: Plugin evidence is stored with `source` = `plugin:<id>@<version>` in a 64-character
#: column, so the id and version together must leave room for it.
MAX_SOURCE_LENGTH = 64


class Sandbox(Protocol):
    """What the check needs: a way to run one job in the sandbox (the app's PluginHost,
    or a pool of its own for `arcos plugins run`)."""

    async def call(self, kind: str, payload: dict[str, Any]) -> Outcome: ...


@dataclass(frozen=True)
class PluginProblem:
    """One problem with a plugin: `field` is the input path (`manifest.version`, `code`);
    code problems also carry the line and column (both 1-based; 0 when the problem is
    with the source as a whole, such as a missing entry point)."""

    field: str | None
    message: str
    code: ProblemCode = ProblemCode.INVALID
    line: int | None = None
    column: int | None = None

    @classmethod
    def of(cls, problem: Problem) -> PluginProblem:
        return cls(field=problem.field, message=problem.message, code=problem.code)

    def as_problem(self) -> Problem:
        """As a plain Problem (a mutation's `errors`), the position in the message."""
        where = f"line {self.line}, column {self.column}: " if self.line is not None else ""
        return Problem(self.field, where + self.message, self.code)


@dataclass
class Report:
    """Everything wrong with a plugin, or its parsed manifest when nothing is."""

    manifest: Manifest | None
    problems: list[PluginProblem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.manifest is not None and not self.problems

    def refused(self) -> Refused:
        return Refused([problem.as_problem() for problem in self.problems])


async def check_plugin(raw_manifest: Any, code: Any, host: Sandbox) -> Report:
    """Every problem with `raw_manifest` and `code`; the source is checked in the sandbox.

    Raises ArcosError SANDBOX_UNAVAILABLE or BUSY when the sandbox cannot take the check.
    """
    problems: list[PluginProblem] = []
    manifest: Manifest | None = None
    try:
        manifest = parse_manifest(raw_manifest)
    except Refused as refused:
        problems.extend(PluginProblem.of(problem) for problem in refused.problems)
    if manifest is not None and len(source_of(manifest.id, manifest.version)) > MAX_SOURCE_LENGTH:
        problems.append(PluginProblem(
            "manifest.id",
            f"the id and version together must be at most {MAX_SOURCE_LENGTH - 8} characters "
            "(evidence a plugin writes is stored with source plugin:<id>@<version>); "
            "shorten the id",
        ))
    if not isinstance(code, str) or not code.strip():
        problems.append(PluginProblem("code", "code must be the plugin's Python source as a "
                                      "non-empty string", ProblemCode.REQUIRED))
        return Report(None, problems)
    size = check_code_size(code)
    if size:
        problems.extend(PluginProblem.of(problem) for problem in size)
        return Report(None, problems)
    entry_point = manifest.entry_point if manifest else _raw_entry_point(raw_manifest)
    if entry_point is not None:
        problems.extend(await _source_problems(code, entry_point, host))
    return Report(manifest if not problems else None, problems)


def source_of(plugin_id: str, version: str) -> str:
    """The `source` of evidence this version writes."""
    return f"plugin:{plugin_id}@{version}"


def _raw_entry_point(raw: Any) -> str | None:
    """The entry point of a manifest refused for other reasons, to check the code anyway."""
    value = raw.get("entry_point") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and value.isidentifier() else None


async def _source_problems(code: str, entry_point: str, host: Sandbox) -> list[PluginProblem]:
    outcome = await host.call("check", {"code": code, "entry_point": entry_point})
    if outcome.status is not OutcomeStatus.SUCCEEDED:
        # The checker itself gave up on this source (parser recursion, memory, time).
        return [PluginProblem(
            "code", f"the source could not be checked ({outcome.status.value}: "
            f"{outcome.error or 'no detail'}); simplify it: fewer nested expressions, "
            "shorter literals", ProblemCode.INVALID,
        )]
    reported = outcome.result.get("problems", []) if isinstance(outcome.result, dict) else None
    if not isinstance(reported, list):
        return [PluginProblem("code", "the source check gave no usable answer; retry")]
    return [
        PluginProblem("code", str(item.get("message")), ProblemCode.INVALID,
                      int(item.get("line") or 0), int(item.get("column") or 0))
        for item in reported if isinstance(item, dict)
    ]

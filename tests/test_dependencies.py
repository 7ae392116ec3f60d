"""Every third-party package arcos/ imports is declared in pyproject.toml, so an install
never works only because another dependency happened to bring it along."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).parent.parent


def imported_top_level_modules() -> set[str]:
    modules: set[str] = set()
    for path in (ROOT / "arcos").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"arcos", "__future__"}


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = re.compile(r"^[A-Za-z0-9._-]+")
    return {_normal(names.match(spec).group()) for spec in project["dependencies"]}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_package_is_a_declared_dependency():
    distributions = packages_distributions()
    declared = declared_distributions()
    undeclared = {
        module: distributions.get(module, ["(not installed)"])
        for module in imported_top_level_modules()
        if not declared & {_normal(name) for name in distributions.get(module, [])}
    }
    assert undeclared == {}


def test_strawberry_has_an_upper_bound():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (spec,) = [s for s in project["dependencies"] if s.startswith("strawberry-graphql")]
    assert "<" in spec

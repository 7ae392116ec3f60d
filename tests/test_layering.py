"""Shared plumbing (arcos/graphql, arcos/auth, arcos/web, and the write path in
arcos/store) never imports a domain, so a new domain plugs in through the registry without
the plumbing knowing it."""

from __future__ import annotations

import ast
from pathlib import Path

import arcos

ARCOS = Path(arcos.__file__).parent
PLUMBING = ("graphql", "auth", "web", "store")
#: Every package under arcos/ that is not plumbing is a domain (or the REST adapter, which
#: serves the domains); `arcos.domains` lists them all.
FORBIDDEN = (
    *(f"arcos.{path.name}" for path in sorted(ARCOS.iterdir())
      if (path / "__init__.py").exists() and path.name not in PLUMBING),
    "arcos.domains",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ARCOS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module `source` imports, anywhere in it (lazy and TYPE_CHECKING imports too),
    with relative imports resolved against `module`."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base)
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            found.add(target)
            # `from arcos import evidence` imports the package arcos.evidence
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def domain_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    return sorted(
        name for name in imported_modules(source, module, is_package)
        if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN)
    )


def test_the_walk_sees_every_way_of_importing_a_domain():
    source = (
        "import arcos.evidence.models\n"
        "from arcos.intake.service import latest_metrics\n"
        "from arcos import webhooks\n"
        "from ..rest import table\n"
        "from arcos.domains import REGISTRY\n"
        "def later():\n    from arcos.formats import sarif\n"
        "from arcos.graphql.errors import ArcosError\n"
        "from arcos.settings import Settings\n"
    )
    assert domain_imports(source, "arcos.graphql.some_module") == [
        "arcos.domains", "arcos.domains.REGISTRY", "arcos.evidence.models", "arcos.formats",
        "arcos.formats.sarif", "arcos.intake.service", "arcos.intake.service.latest_metrics",
        "arcos.rest", "arcos.rest.table", "arcos.webhooks",
    ]


def test_the_domains_are_every_package_but_the_plumbing():
    assert {"arcos.evidence", "arcos.intake", "arcos.webhooks", "arcos.formats",
            "arcos.rest"} <= set(FORBIDDEN)
    assert not {"arcos.graphql", "arcos.auth", "arcos.web", "arcos.store"} & set(FORBIDDEN)


def test_shared_plumbing_imports_no_domain():
    offenders = {}
    for name in PLUMBING:
        for path in sorted((ARCOS / name).rglob("*.py")):
            found = domain_imports(
                path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py"
            )
            if found:
                offenders[str(path.relative_to(ARCOS.parent))] = found
    assert not offenders, f"shared plumbing imports domains: {offenders}"

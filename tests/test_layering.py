"""Shared plumbing never imports a domain, so a new domain plugs in through the registry
(arcos/domains.py) without the plumbing knowing it. Three layers:

- the lower plumbing (arcos/graphql, arcos/auth, arcos/web, the write path in
  arcos/store, the shared broker in arcos/redis_broker, and the state instances share
  through Redis in arcos/shared_state) imports no domain, not the REST adapter and not
  `arcos.domains`;
- the REST adapter (arcos/rest) imports no domain and not `arcos.domains`: the domains'
  rows, documents, OpenAPI paths and documentation sections reach it through the Registry
  it is handed;
- the core modules that assemble the server (app, cli, db, migrate_cli, schema) import no
  domain package; `arcos.domains`, the list of domains, is the one name they may use
  (CORE).
"""

from __future__ import annotations

import ast
from pathlib import Path

import arcos

ARCOS = Path(arcos.__file__).parent
PLUMBING = ("graphql", "auth", "web", "store", "redis_broker", "shared_state")
REST = "rest"
#: Every package under arcos/ that is neither plumbing nor the REST adapter is a domain (or
#: serves only domains, as `formats`' parsers do); `arcos.domains` lists the domains.
DOMAINS = tuple(
    f"arcos.{path.name}" for path in sorted(ARCOS.iterdir())
    if (path / "__init__.py").exists() and path.name not in (*PLUMBING, REST)
)
#: What the lower plumbing may not import.
FORBIDDEN = (*DOMAINS, f"arcos.{REST}", "arcos.domains")
#: What the REST adapter may not import.
FORBIDDEN_IN_REST = (*DOMAINS, "arcos.domains")
#: The core modules, each with the only modules outside the plumbing it may import (its
#: allow-list); every domain package is forbidden to them.
CORE: dict[str, frozenset[str]] = {
    "app.py": frozenset({"arcos.domains"}),
    "cli.py": frozenset({"arcos.domains"}),
    "db.py": frozenset({"arcos.domains"}),
    "migrate_cli.py": frozenset(),
    "schema.py": frozenset({"arcos.domains"}),
    "registry.py": frozenset(),
}
FORBIDDEN_IN_CORE = (*DOMAINS, "arcos.domains")


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


def domain_imports(
    source: str, module: str, is_package: bool = False,
    forbidden: tuple[str, ...] = FORBIDDEN, allowed: frozenset[str] = frozenset(),
) -> list[str]:
    """The modules `source` imports that are `forbidden` (or inside one), unless `allowed`
    (or inside an allowed one)."""

    def within(name: str, prefixes: tuple[str, ...] | frozenset[str]) -> bool:
        return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)

    return sorted(
        name for name in imported_modules(source, module, is_package)
        if within(name, forbidden) and not within(name, allowed)
    )


def offenders_in(paths: list[Path], forbidden: tuple[str, ...],
                 allowed: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    offenders = {}
    for path in paths:
        found = domain_imports(
            path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py",
            forbidden, allowed,
        )
        if found:
            offenders[str(path.relative_to(ARCOS.parent))] = found
    return offenders


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
            "arcos.plugins", "arcos.community"} <= set(DOMAINS)
    assert not {"arcos.graphql", "arcos.auth", "arcos.web", "arcos.store",
                "arcos.rest"} & set(DOMAINS)
    assert "arcos.rest" in FORBIDDEN and "arcos.rest" not in FORBIDDEN_IN_REST
    assert all((ARCOS / name).is_file() for name in CORE)


def test_shared_plumbing_imports_no_domain():
    paths = [path for name in PLUMBING for path in sorted((ARCOS / name).rglob("*.py"))]
    offenders = offenders_in(paths, FORBIDDEN)
    assert not offenders, f"shared plumbing imports domains: {offenders}"


def test_the_rest_adapter_imports_no_domain():
    offenders = offenders_in(sorted((ARCOS / REST).rglob("*.py")), FORBIDDEN_IN_REST)
    assert not offenders, f"arcos/rest imports domains: {offenders}"


def test_the_core_modules_import_only_the_domain_list():
    offenders = {}
    for name, allowed in CORE.items():
        offenders.update(offenders_in([ARCOS / name], FORBIDDEN_IN_CORE, allowed))
    assert not offenders, f"core modules import domains: {offenders}"


def test_the_core_and_rest_checks_catch_the_imports_they_replaced():
    """Each import the registry hooks replaced is found again if it comes back."""
    readded = {
        ("db.py", "arcos.db"): "from arcos.evidence.upgrade import add_size_columns\n",
        ("cli.py", "arcos.cli"): "from arcos.plugins.cli import add_plugin_commands\n",
        ("schema.py", "arcos.schema"): "from arcos.evidence.types import EvidenceType\n",
    }
    for (name, module), line in readded.items():
        source = line + (ARCOS / name).read_text(encoding="utf-8")
        assert domain_imports(source, module, False, FORBIDDEN_IN_CORE, CORE[name]), name
    for line in ("from arcos.webhooks.providers import PROVIDERS\n",
                 "from ..intake import rest_artifact_bodies\n",
                 "from arcos.domains import REGISTRY\n"):
        source = line + (ARCOS / REST / "documentation.py").read_text(encoding="utf-8")
        assert domain_imports(source, "arcos.rest.documentation", False, FORBIDDEN_IN_REST)

"""Services speak plain Python (issue 10): no service module imports strawberry, or the
GraphQL and REST layers, directly or through the arcos modules it imports.

A module is an *adapter* (allowed to use strawberry) when it lives in `arcos/graphql/` or
`arcos/rest/`, is one of the composition roots that wire every domain together, or its name
says what it adapts (`schema`, `types`, `loaders`, `domain`, `rest`, `routes`, `cli`,
`stream`, `permissions`, as a whole word of it: `benchmarks_schema`, `rest_envelope`). Every other
module under `arcos/` is a service or a pure helper and must stay importable without the
GraphQL layer. The walk reads imports with `ast` (no module is imported), follows only
imports that run (those under `if TYPE_CHECKING:` are for annotations) and reports the chain
that leaks, so the failure names the edge to cut.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "arcos"

#: Layers a service must not reach: the GraphQL library and arcos's own adapter packages.
FORBIDDEN = ("strawberry", "arcos.graphql", "arcos.rest")

#: Modules that wire every domain together (they import schemas by design).
COMPOSITION_ROOTS = {
    "arcos", "arcos.__main__", "arcos.app", "arcos.cli", "arcos.schema", "arcos.registry",
    "arcos.domains", "arcos.db",
}
ADAPTER_PACKAGES = ("arcos.graphql", "arcos.rest")
ADAPTER_NAME = re.compile(
    r"(^|_)(schema|types|loaders|domain|rest|routes|cli|stream|permissions|permission_memo|direct)($|_)"
)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def is_adapter(name: str) -> bool:
    if name in COMPOSITION_ROOTS:
        return True
    if any(name == package or name.startswith(package + ".") for package in ADAPTER_PACKAGES):
        return True
    return bool(ADAPTER_NAME.search(name.rsplit(".", 1)[-1]))


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@cache
def runtime_imports(name: str) -> frozenset[str]:
    """The modules `name` imports when it runs (arcos modules and their parent packages,
    other top-level names as written)."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    named: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_only(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                named.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[: len(package) - (child.level - 1)]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                named.add(module)
                named.update(f"{module}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    result: set[str] = set()
    for module in named:
        parts = module.split(".")
        if parts[0] != "arcos":
            result.add(module)
            continue
        # Importing a.b.c runs a, a.b and a.b.c.
        result.update(
            ".".join(parts[:end]) for end in range(1, len(parts) + 1)
            if ".".join(parts[:end]) in MODULES
        )
    return frozenset(result)


def _forbidden(module: str) -> bool:
    return any(module == layer or module.startswith(layer + ".") for layer in FORBIDDEN)


def leak(start: str) -> list[str] | None:
    """The shortest import chain from `start` to a forbidden layer, or None."""
    queue: list[list[str]] = [[start]]
    seen = {start}
    while queue:
        chain = queue.pop(0)
        imported = sorted(runtime_imports(chain[-1]), key=lambda module: (-len(module), module))
        for module in imported:
            if _forbidden(module):
                return [*chain, module]
        for module in sorted(imported):
            if module in MODULES and module not in seen:
                seen.add(module)
                queue.append([*chain, module])
    return None


def service_modules() -> list[str]:
    return sorted(name for name in MODULES if not is_adapter(name))


def test_every_domain_service_module_is_checked() -> None:
    services = service_modules()
    for expected in (
        "arcos.evidence.service", "arcos.intake.service", "arcos.webhooks.service",
        "arcos.auth.service", "arcos.plugins.catalogue", "arcos.plugins.execution",
        "arcos.community.benchmarks", "arcos.community.library_writes",
        "arcos.community.templates", "arcos.evidence.models",
    ):
        assert expected in services


def test_services_never_import_strawberry_or_the_graphql_layer() -> None:
    leaks = [" -> ".join(chain) for name in service_modules() if (chain := leak(name))]
    assert not leaks, "service modules reach the GraphQL layer:\n" + "\n".join(leaks)


def test_the_walk_sees_a_leak() -> None:
    """The checker itself: an adapter is found to reach strawberry, through arcos modules."""
    chain = leak("arcos.plugins.types")
    assert chain is not None and chain[-1].startswith("strawberry")
    chain = leak("arcos.community.library_loaders")
    assert chain == ["arcos.community.library_loaders", "arcos.graphql.loaders"]
    chain = leak("arcos.webhooks.domain")
    assert chain is not None and len(chain) > 2 and chain[-1].startswith("strawberry")

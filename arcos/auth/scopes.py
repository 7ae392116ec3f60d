"""What a scope is, and the catalogue of the scopes a server knows.

Each domain declares its own scopes (e.g. arcos/evidence/scopes.py) and lists them in its
`Domain(scopes=...)`; the registry gathers them into one `ScopeCatalogue`, which the app,
its contexts and the command line hand to the code that needs every scope. Only `admin`,
which implies every other scope, belongs to access control itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arcos.auth.caller import Caller


class Scope(str):
    """A scope's name (the string a token stores and a caller holds), with what it means.

    `anonymous_read`: granted to anonymous callers when ARCOS_ANONYMOUS_READ is on (reads
    of public data). `counts_as_write`: its use spends the per-principal write allowance.
    Equal to (and hashed as) its name, so a token's stored names compare with it directly.
    """

    description: str
    anonymous_read: bool
    counts_as_write: bool

    def __new__(
        cls, name: str, description: str = "", *, anonymous_read: bool = False,
        counts_as_write: bool = False,
    ) -> Scope:
        scope = super().__new__(cls, name)
        scope.description = description
        scope.anonymous_read = anonymous_read
        scope.counts_as_write = counts_as_write
        return scope

    def __getnewargs_ex__(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (str(self), self.description), {
            "anonymous_read": self.anonymous_read, "counts_as_write": self.counts_as_write,
        }

    @property
    def value(self) -> str:
        """The plain name."""
        return str(self)

    @property
    def name(self) -> str:
        return str(self)


ADMIN = Scope("admin", "Everything, including issuing and revoking tokens.")


class UnknownScope(ValueError):
    pass


@dataclass(frozen=True, eq=False)
class ScopeCatalogue:
    """Every scope a server knows, in the registry's order (`admin` last)."""

    scopes: tuple[Scope, ...] = (ADMIN,)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for scope in self.scopes:
            if scope in seen:
                raise ValueError(f"the scope {scope.value!r} is declared twice")
            seen.add(scope)

    def __iter__(self) -> Iterator[Scope]:
        return iter(self.scopes)

    def __contains__(self, name: object) -> bool:
        return name in self.scopes

    @property
    def anonymous_read(self) -> frozenset[Scope]:
        """What an anonymous caller holds when ARCOS_ANONYMOUS_READ is on."""
        return frozenset(scope for scope in self.scopes if scope.anonymous_read)

    def parse(self, values: Iterable[str]) -> frozenset[Scope]:
        """Scopes from their names; refuses unknown names, listing the valid ones."""
        by_name = {scope.value: scope for scope in self.scopes}
        scopes = set()
        for value in values:
            scope = by_name.get(value.strip())
            if scope is None:
                valid = ", ".join(by_name)
                raise UnknownScope(f"unknown scope {value!r}; valid scopes: {valid}")
            scopes.add(scope)
        if not scopes:
            raise UnknownScope("give at least one scope")
        return frozenset(scopes)

    def held_by(self, caller: Caller) -> list[str]:
        """The names of the known scopes `caller` holds, sorted (a token may still carry
        the name of a scope this server no longer knows: it grants nothing)."""
        held = {scope for scope in self.scopes if scope in caller.scopes}
        if caller.anonymous_read:
            held |= self.anonymous_read
        return sorted(scope.value for scope in held)


def grants(held: frozenset[str], needed: Scope) -> bool:
    """Whether holding `held` allows an action that needs `needed`."""
    return needed in held or ADMIN in held

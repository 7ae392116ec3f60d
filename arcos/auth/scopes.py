"""The scopes a token can carry. `admin` implies every other scope."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    EVIDENCE_READ = "evidence:read"
    EVIDENCE_WRITE = "evidence:write"
    WEBHOOKS_ADMIN = "webhooks:admin"
    WEBHOOKS_DELIVER = "webhooks:deliver"
    PLUGINS_READ = "plugins:read"
    PLUGINS_WRITE = "plugins:write"
    PLUGINS_EXECUTE = "plugins:execute"
    COMMUNITY_READ = "community:read"
    COMMUNITY_WRITE = "community:write"
    ADMIN = "admin"


#: Scopes an anonymous caller gets when ARCOS_ANONYMOUS_READ is on: reads of public data.
ANONYMOUS_READ_SCOPES = frozenset({Scope.EVIDENCE_READ, Scope.COMMUNITY_READ})

#: Scopes whose use counts against the per-principal write rate limit.
WRITE_SCOPES = frozenset(
    {Scope.EVIDENCE_WRITE, Scope.PLUGINS_WRITE, Scope.PLUGINS_EXECUTE, Scope.COMMUNITY_WRITE,
     Scope.WEBHOOKS_DELIVER}
)


class UnknownScope(ValueError):
    pass


def parse_scopes(values: list[str] | tuple[str, ...]) -> frozenset[Scope]:
    """Scopes from their names; refuses unknown names, listing the valid ones."""
    scopes = set()
    for value in values:
        try:
            scopes.add(Scope(value.strip()))
        except ValueError:
            valid = ", ".join(scope.value for scope in Scope)
            raise UnknownScope(f"unknown scope {value!r}; valid scopes: {valid}") from None
    if not scopes:
        raise UnknownScope("give at least one scope")
    return frozenset(scopes)


def grants(held: frozenset[Scope], needed: Scope) -> bool:
    """Whether holding `held` allows an action that needs `needed`."""
    return needed in held or Scope.ADMIN in held

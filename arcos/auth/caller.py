"""The caller of one request or websocket: who they are and which scopes they hold."""

from __future__ import annotations

from dataclasses import dataclass

from arcos.auth.scopes import ANONYMOUS_READ_SCOPES, Scope, grants

ANONYMOUS_NAME = "anonymous"


@dataclass(frozen=True)
class Caller:
    name: str
    scopes: frozenset[Scope]
    authenticated: bool
    kind: str | None = None
    token_id: int | None = None
    token_name: str | None = None

    @classmethod
    def anonymous(cls, allow_read: bool) -> Caller:
        """Nobody in particular: no scopes, or the public read scopes when allowed."""
        scopes = ANONYMOUS_READ_SCOPES if allow_read else frozenset()
        return cls(name=ANONYMOUS_NAME, scopes=frozenset(scopes), authenticated=False)

    def may(self, scope: Scope) -> bool:
        return grants(self.scopes, scope)

"""The caller of one request or websocket: who they are and which scopes they hold."""

from __future__ import annotations

from dataclasses import dataclass

from arcos.auth.scopes import Scope, grants

ANONYMOUS_NAME = "anonymous"


@dataclass(frozen=True)
class Caller:
    name: str
    #: The scope names the caller's token carries (as stored; an unknown name grants
    #: nothing).
    scopes: frozenset[str]
    authenticated: bool
    kind: str | None = None
    token_id: int | None = None
    token_name: str | None = None
    #: Whether the caller also holds every scope declared `anonymous_read` (an anonymous
    #: caller when ARCOS_ANONYMOUS_READ is on).
    anonymous_read: bool = False

    @classmethod
    def anonymous(cls, allow_read: bool) -> Caller:
        """Nobody in particular: no scopes, or the public read scopes when allowed."""
        return cls(
            name=ANONYMOUS_NAME, scopes=frozenset(), authenticated=False,
            anonymous_read=allow_read,
        )

    def may(self, scope: Scope) -> bool:
        return grants(self.scopes, scope) or (self.anonymous_read and scope.anonymous_read)

"""Which caller scopes stand behind each plugin permission, and who may approve what.

A plugin never holds a scope itself: the host acts for a caller. A permission is usable
only when the manifest asks for it, it was approved, and (for a call) the caller holds the
scope behind it. Approving it takes an admin or a principal holding that scope.
"""

from __future__ import annotations

from collections.abc import Iterable

from arcos.auth.caller import Caller
from arcos.auth.scopes import Scope
from arcos.evidence.scopes import EVIDENCE_READ, EVIDENCE_WRITE
from arcos.plugins.manifest import Permission

#: The caller scope each plugin permission stands for (metrics are evidence-derived data).
SCOPE_OF: dict[Permission, Scope] = {
    Permission.EVIDENCE_READ: EVIDENCE_READ,
    Permission.EVIDENCE_WRITE: EVIDENCE_WRITE,
    Permission.METRICS_WRITE: EVIDENCE_WRITE,
}


def permissions(values: Iterable[str]) -> frozenset[Permission]:
    """Stored permission names as Permissions (unknown names are dropped, never granted)."""
    known = {p.value for p in Permission}
    return frozenset(Permission(value) for value in values if value in known)


def holds_all(caller: Caller, wanted: Iterable[Permission]) -> bool:
    """Whether `caller` holds the scope behind every permission in `wanted`."""
    return all(caller.may(SCOPE_OF[permission]) for permission in wanted)


def names(values: Iterable[Permission]) -> list[str]:
    """Permissions as their sorted names, the stored and published form."""
    return sorted(p.value for p in values)

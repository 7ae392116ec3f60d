"""Who may speak for a project in the community: whoever may write its evidence.

Opting a project into community benchmarks and recording that it adopted a pattern both
change what others read about that project (benchmark figures, a pattern's usage count and
effectiveness), so both need the `evidence:write` scope (admins hold every scope), the
same scope that lets a caller feed the project's evidence in the first place.
"""

from __future__ import annotations

from arcos.auth.caller import Caller
from arcos.evidence.scopes import EVIDENCE_WRITE
from arcos.problems import ArcosError, ErrorCode


def require_evidence_write(caller: Caller, doing: str) -> None:
    """Raises FORBIDDEN unless `caller` may write evidence; `doing` names the action."""
    if not caller.may(EVIDENCE_WRITE):
        raise ArcosError(f"{doing} needs the 'evidence:write' scope (or 'admin'), which "
                         f"{caller.name!r} lacks", ErrorCode.FORBIDDEN)

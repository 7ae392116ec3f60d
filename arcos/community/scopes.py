"""The community domain's scopes (listed in its Domain, arcos/community/domain.py)."""

from __future__ import annotations

from arcos.auth.scopes import Scope

COMMUNITY_READ = Scope(
    "community:read", "Read shared libraries, templates, threats and benchmarks.",
    anonymous_read=True,
)
COMMUNITY_WRITE = Scope(
    "community:write", "Contribute to the community platform.", counts_as_write=True
)

SCOPES = (COMMUNITY_READ, COMMUNITY_WRITE)

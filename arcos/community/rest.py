"""The community's own REST row: `GET /api/community/stats`, in the original envelope. Each
area's rows are in its `<area>_rest.py`."""

from __future__ import annotations

from arcos.rest.shapes import Legacy
from arcos.rest.table import RestRoute, no_variables

ROUTES: tuple[RestRoute, ...] = (
    RestRoute(
        "GET", "/api/community/stats", "CommunityStats", no_variables,
        ("communityStats",), Legacy("stats"), "legacy",
        "Counts by kind and visibility, contributors, votes and imports — of what you may "
        "read.", legacy=True,
    ),
)

"""What a store row's integer id looks like when a client or operator types it.

Ids arrive as text (a CLI argument, a GraphQL `ID`, a relay node id); only ASCII digits
that fit a 64-bit column are looked up, so `int()` never sees other Unicode digits and
the store never sees a number it would refuse.
"""

from __future__ import annotations

import re

#: Up to 18 ASCII digits: every value fits PostgreSQL's bigint (and SQLite's integer).
DATABASE_ID = re.compile(r"[0-9]{1,18}")


def is_database_id(text: str) -> bool:
    """Whether `text` is, in full, a row id the store could hold."""
    return DATABASE_ID.fullmatch(text) is not None

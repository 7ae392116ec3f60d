"""What a root list field declares so that plain listings skip the generic executor.

graphql-core resolves, completes and serialises every field of every row through several
Python calls, and a list field's rows are built as model instances first. A listing that
selects only stored columns needs none of that: the columns can be read as tuples and the
response built directly (arcos/graphql/direct_plan.py). A domain opts a root list field in
by putting a `DirectList` in the field's metadata under `DIRECT_LIST`
(arcos/graphql/metadata.py); the plumbing never names a domain.

The declaration is a promise that, for the fields it lists, the direct answer equals the
generic one: `fetch` applies the same checks and filters as the field's resolver, and each
column's `to_value` returns what the item type's attribute would hold. Tests compare the
two paths byte for byte; whatever a `DirectList` does not cover runs the generic way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arcos.graphql.context import ArcosContext

#: Rows of the selected columns, in the order asked for.
Rows = Sequence[Sequence[Any]]
#: Reads the rows: (context, the field's coerced arguments by GraphQL name, columns).
Fetch = Callable[["ArcosContext", Mapping[str, Any], tuple[str, ...]], Awaitable[Rows]]


@dataclass(frozen=True)
class DirectColumn:
    """An item field that is one stored column. `to_value` turns the stored value into what
    the generic resolver returns (e.g. a uuid into a relay GlobalID); the plumbing then
    serialises it with the field's GraphQL type, as graphql-core would."""

    column: str
    to_value: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class DirectList:
    """A root list field answerable from stored columns: its item fields by GraphQL name,
    and how to read the rows. `fetch` raises (any exception) where the resolver would
    refuse; the request then runs the generic way and gets the generic error."""

    fields: Mapping[str, DirectColumn]
    fetch: Fetch

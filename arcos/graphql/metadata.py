"""Keys strawberry field metadata may carry for other parts of ARCOS to read."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tortoise.models import Model

#: JSON Schema constraints of an input field (pattern, lengths), published in OpenAPI.
JSON_SCHEMA = "arcos.json_schema"

#: Longest string an argument or input field accepts: the `max_length` of the column it is
#: compared with. `arcos.graphql.bounds` refuses longer values before anything executes.
MAX_LENGTH = "arcos.max_length"


def column_bound(model: type[Model], column: str) -> dict[str, int]:
    """Metadata bounding an argument to the length of `model.column`, so a filter value
    no stored row can match is refused as bad input rather than reaching the ORM."""
    max_length = model._meta.fields_map[column].max_length  # type: ignore[attr-defined]
    return {MAX_LENGTH: int(max_length)}

#: How a subscription field may share one execution among equal subscriptions
#: (arcos/graphql/cohorts.py). Absent: among callers with the same principal and scopes.
COHORT = "arcos.cohort"
#: The field's results depend on the caller's scopes only, not on who the caller is.
SCOPES_ONLY = "scopes"
#: Every subscription to the field runs on its own.
NOT_SHARED = "not-shared"
#: Arguments that, when given (not null), make a subscription run on its own, e.g. a resume
#: cursor that replays a history per subscriber (`after` always does).
PER_SUBSCRIBER_ARGUMENTS = "arcos.per_subscriber_arguments"

#: A root list field that can be answered without graphql-core's executor when a document
#: selects only plain columns of its items: an `arcos.graphql.direct.DirectList`.
DIRECT_LIST = "arcos.direct_list"

#: A list field whose length its arguments bound, for the cost walker (shape.py): a dict of
#: argument name → most items per unit of it. An Int argument counts its value, a list
#: argument its length, a variable (or a null default) the maximum; the field's multiplier
#: is their product. `{}` marks a list its parent field has counted already.
LIST_ITEMS = "arcos.list_items"

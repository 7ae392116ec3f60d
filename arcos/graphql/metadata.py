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

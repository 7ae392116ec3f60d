"""The graphql-core schema behind a strawberry schema, read in one place.

Strawberry keeps the `GraphQLSchema` it builds in `Schema._schema` and offers no public
accessor (its maintainers point users to that attribute); graphql-core's validation,
introspection and our document walks need it. Every reader goes through `core_schema`,
so a strawberry upgrade that moves it breaks one line, and the pinned upper bound on
strawberry-graphql in pyproject.toml makes such an upgrade a deliberate step.

The other strawberry internals ARCOS still leans on, for want of a public hook (each named
in pyproject.toml above the bound, so that whoever moves it checks them):

- `strawberry.schema.schema.validate_document` (arcos/graphql/limits.py): the validation
  strawberry itself runs, with its rules; DocumentLimits replaces strawberry's validate step
  to cache it per document, and no public function gives the same rules.
- the `"strawberry-definition"` extension key (arcos/graphql/bounds.py
  `STRAWBERRY_DEFINITION`): where strawberry keeps its own definition of a graphql-core
  argument or input field, read for the bounds declared in field metadata; it is a string
  strawberry sets, not a public constant.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLSchema


def core_schema(schema: Any) -> GraphQLSchema:
    """`schema`'s graphql-core schema (the one strawberry executes against)."""
    built = schema._schema
    if not isinstance(built, GraphQLSchema):
        raise TypeError(f"{type(schema).__name__} has no graphql-core schema at ._schema")
    return built

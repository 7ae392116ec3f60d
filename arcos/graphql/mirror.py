"""GraphQL object types that show a service's dataclass as it is, field for field.

Where a type would only repeat a plain dataclass's field list (and a constructor copying
each field), `mirror` builds it from the dataclass instead, so the list is written once and
a field added to the service's value shows in the schema without a second edit.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import strawberry


def mirror(source: type[Any], *, name: str, description: str) -> Any:
    """A strawberry object type named `name` with `source`'s dataclass fields (same names,
    same annotations, resolved in `source`'s module), built from an instance by `of`."""
    fields = [(field.name, field.type) for field in dataclasses.fields(source)]
    mirrored = dataclasses.make_dataclass(f"{source.__name__}Type", fields)
    mirrored.__module__ = source.__module__
    mirrored.of = classmethod(  # type: ignore[attr-defined]
        lambda cls, value: cls(**{key: getattr(value, key) for key, _ in fields}))
    return strawberry.type(mirrored, name=name, description=description)

"""Later fields of a document see what a mutation wrote.

DataLoaders cache rows per operation; a mutation that writes must replace them, or a field
selected after it (in its payload, or in a later mutation of the same document) could be
answered from a row read before the write. Every mutation field gets this extension when
the schema is built, so no resolver has to remember it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types import Info, get_object_definition


class FreshLoadersAfterWrite(FieldExtension):
    def resolve(
        self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        result = next_(source, info, **kwargs)
        info.context.fresh_loaders()
        return result

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        result = await next_(source, info, **kwargs)
        info.context.fresh_loaders()
        return result


def refresh_loaders_after_mutations(mutation_type: type) -> None:
    """Give every field of `mutation_type` the extension (once: several schemas of one
    process share the type)."""
    for field in get_object_definition(mutation_type, strict=True).fields:
        if not any(isinstance(e, FreshLoadersAfterWrite) for e in field.extensions):
            field.extensions.append(FreshLoadersAfterWrite())

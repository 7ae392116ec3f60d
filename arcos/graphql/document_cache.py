"""The work done on GraphQL documents, remembered per schema.

Parsing, validating, measuring against the limits and finding bounded arguments are the
same for the same document against the same schema, so each is done once per distinct
document. The caches belong to one schema (`ArcosSchema.document_cache`), created with
it: two apps in one process (tests build several, with different limits) never see each
other's entries, and dropping an app drops its cache.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar, cast

R = TypeVar("R")

#: Documents longer than this are parsed and validated every time instead of cached: one
#: cache entry must not be able to pin megabytes (a huge string literal) in memory.
MAX_CACHED_DOCUMENT_CHARS = 16 * 1024
#: Entries each remembered function keeps, least recently used dropped first.
MAX_ENTRIES = 1000


class DocumentCache:
    """One LRU cache per function, for the functions of documents an app runs."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._caches: dict[Callable[..., Any], Callable[..., Any]] = {}

    def remembered(self, function: Callable[..., R]) -> Callable[..., R]:
        """`function` with this cache's memory of its results (arguments are the key,
        so documents are keyed by identity: see `cacheable`)."""
        cached = self._caches.get(function)
        if cached is None:
            cached = self._caches[function] = lru_cache(maxsize=self.max_entries)(function)
        return cast(Callable[..., R], cached)

    def entries(self, function: Callable[..., Any]) -> int:
        """How many results of `function` are remembered."""
        cached = self._caches.get(function)
        return cached.cache_info().currsize if cached is not None else 0  # type: ignore[attr-defined]


def cacheable_query(context: Any) -> bool:
    """Whether an operation's query text is small enough to remember."""
    query = context.query
    return query is not None and len(query) <= MAX_CACHED_DOCUMENT_CHARS


def cacheable(context: Any) -> bool:
    """Whether work on this operation's document may be remembered: an adapter's
    prepared document, or one small enough to cache (documents are cached by identity,
    and the parse cache returns the same object for the same small query)."""
    prepared = getattr(context.context, "prepared_document", None)
    return prepared is not None or cacheable_query(context)


def document_cache(schema: Any) -> DocumentCache:
    """The cache of the schema an operation runs against."""
    cache: DocumentCache = schema.document_cache
    return cache

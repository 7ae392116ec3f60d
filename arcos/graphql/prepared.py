"""Prepared operations: per (document text, operation name), everything that does not depend
on the request, done once.

Preparing is what the generic path does before executing (parse with the token limit,
the document limits, validation with the same rules, the argument-bound sites), through
the same remembered functions of the schema's `DocumentCache`, so a document prepared here
and then run the generic way is parsed and validated once. A valid query whose shape
compiles gets a `DirectPlan`; anything else is remembered as not direct, and its requests
run the generic way at the cost of one dictionary look-up.

Nothing here depends on who is calling: the permission check, variable coercion and
argument checks run on every request (`DirectPlan.run`), so two callers with different
scopes sending the same document share the plan and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from graphql import ASTValidationRule, get_operation_ast, parse
from strawberry.schema.schema import validate_document  # not public: see core_schema.py

from arcos.graphql.bounds import BoundedSite, bounded_sites
from arcos.graphql.core_schema import core_schema
from arcos.graphql.direct_plan import DirectPlan, compile_plan
from arcos.graphql.document_cache import MAX_CACHED_DOCUMENT_CHARS, MAX_ENTRIES, document_cache
from arcos.graphql.limits import DocumentLimits, document_refusals


@dataclass(frozen=True)
class Prepared:
    """A valid operation with a direct plan, and the sites of its bounded arguments."""

    plan: DirectPlan
    sites: tuple[BoundedSite, ...]


class PreparedOperations:
    """The prepared operations of one schema (one app), least recently used dropped first."""

    def __init__(
        self, schema: object, *, max_tokens: int, limits: DocumentLimits,
        rules: tuple[type[ASTValidationRule], ...], max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.schema = schema
        self.max_tokens = max_tokens
        self.limits = limits
        self.rules = rules
        self._prepared: Callable[[str, str | None], Prepared | None] = lru_cache(
            maxsize=max_entries
        )(self._prepare)

    def direct(self, query: str, operation_name: str | None) -> Prepared | None:
        """The prepared operation for a request, or None when it runs the generic way.

        Both strings are part of the cache key, so both are bounded before it: an
        operation name longer than the document names no operation in it, and remembering
        it would let anyone pin megabytes per entry with names alone."""
        if len(query) > MAX_CACHED_DOCUMENT_CHARS:
            return None
        if operation_name is not None and len(operation_name) > len(query):
            return None
        return self._prepared(query, operation_name)

    def entries(self) -> int:
        """How many (document, operation name) pairs are remembered."""
        return self._prepared.cache_info().currsize  # type: ignore[attr-defined]

    def _prepare(self, query: str, operation_name: str | None) -> Prepared | None:
        cache = document_cache(self.schema)
        try:
            document = cache.remembered(parse)(query, max_tokens=self.max_tokens)
        except Exception:  # the generic path reports it
            return None
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return None
        schema = core_schema(self.schema)
        if cache.remembered(document_refusals)(self.limits, schema, document):
            return None
        if cache.remembered(validate_document)(schema, document, self.rules):
            return None
        plan = compile_plan(schema, document, operation)
        if plan is None:
            return None
        return Prepared(plan, cache.remembered(bounded_sites)(schema, document))

"""Static limits on GraphQL documents, applied before anything executes.

Strawberry ships depth, alias and token limiters; it has no cost limiter, so `QueryCost`
is ours: every field costs 1, and a list field multiplies the cost of what it selects by
the number of items it may return (its `first`/`limit` argument, the page-size cap when
that argument is a variable, `UNPAGED_LIST_FACTOR` for lists without one).
Introspection is exempt, as in strawberry's depth limiter; turn it off in production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    parse,
)
from graphql.type.definition import GraphQLNamedType, get_named_type
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.schema.schema import validate_document

from arcos.graphql.errors import ErrorCode

#: Arguments that bound how many items a list field returns.
PAGE_ARGUMENTS = ("first", "limit")
#: Assumed size of a list field that takes no page argument.
UNPAGED_LIST_FACTOR = 10


def query_cost_rule(max_cost: int, max_page_size: int) -> type[ValidationRule]:
    """A validation rule class refusing operations whose cost exceeds `max_cost`."""

    class QueryCost(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
            schema = self.context.schema
            root = schema.get_root_type(node.operation)
            estimator = _CostEstimator(self.context, max_page_size)
            cost = estimator.selection_cost(node.selection_set, root, frozenset())
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"Operation cost {cost} exceeds the limit of {max_cost}: ask for "
                        "fewer items (first/limit) or fewer nested fields.",
                        node,
                        extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value},
                    )
                )

    return QueryCost


class _CostEstimator:
    def __init__(self, context: ValidationContext, max_page_size: int) -> None:
        self.context = context
        self.max_page_size = max_page_size

    def selection_cost(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        seen_fragments: frozenset[str],
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, parent, seen_fragments)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = (
                    self.context.schema.get_type(condition.name.value) if condition else parent
                )
                total += self.selection_cost(selection.selection_set, target, seen_fragments)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is None or name in seen_fragments:
                    continue  # other rules report unknown and cyclic fragments
                target = self.context.schema.get_type(fragment.type_condition.name.value)
                total += self.selection_cost(
                    fragment.selection_set, target, seen_fragments | {name}
                )
        return total

    def field_cost(
        self, node: FieldNode, parent: GraphQLNamedType | None, seen: frozenset[str]
    ) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        field_type: GraphQLOutputType | None = None
        if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            definition = parent.fields.get(name)
            field_type = definition.type if definition else None
        child_cost = self.selection_cost(
            node.selection_set, get_named_type(field_type) if field_type else None, seen
        )
        if parent is not None and parent.name.endswith("Connection"):
            # `edges` / `nodes` of a connection: its `first` already counted the items.
            return 1 + child_cost
        return 1 + self.multiplier(node, field_type) * child_cost

    def multiplier(self, node: FieldNode, field_type: GraphQLOutputType | None) -> int:
        for argument in node.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(1, min(int(value.value), self.max_page_size))
            if isinstance(value, VariableNode):
                return self.max_page_size
        if field_type is not None and _is_list(field_type):
            return UNPAGED_LIST_FACTOR
        if field_type is not None and _is_connection(field_type):
            return self.max_page_size
        return 1


def _is_list(field_type: GraphQLOutputType) -> bool:
    unwrapped = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    return isinstance(unwrapped, GraphQLList)


def _is_connection(field_type: GraphQLOutputType) -> bool:
    return get_named_type(field_type).name.endswith("Connection")


#: Documents longer than this are parsed and validated every time instead of cached: one
#: cache entry must not be able to pin megabytes (a huge string literal) in memory.
MAX_CACHED_DOCUMENT_CHARS = 16 * 1024
_cached_parse = lru_cache(maxsize=1000)(parse)
_cached_validation = lru_cache(maxsize=1000)(validate_document)


def _cacheable(context: Any) -> bool:
    query = context.query
    return query is not None and len(query) <= MAX_CACHED_DOCUMENT_CHARS


class CachedParse(SchemaExtension):
    """Parse each distinct document once.

    A document an adapter prepared at start-up (`context.prepared_document`) is used as
    it is. Unlike strawberry's ParserCache, a document that fails to parse is left for
    strawberry's own parse step to report: an error raised from this hook would skip
    the error-classifying extension and reach the client without `extensions.code`.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        prepared = getattr(context.context, "prepared_document", None)
        if prepared is not None and context.graphql_document is None:
            # Adapters (REST, webhooks) run fixed documents parsed and validated at start-up.
            context.graphql_document = prepared
        elif _cacheable(context) and context.graphql_document is None:
            try:
                context.graphql_document = _cached_parse(context.query, **context.parse_options)
            except Exception:  # noqa: S110 - strawberry re-parses and reports it
                pass
        yield


class CachedValidation(SchemaExtension):
    """Validate each distinct small document once (prepared documents always hit)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        prepared = getattr(context.context, "prepared_document", None)
        validate = (
            _cached_validation if prepared is not None or _cacheable(context)
            else validate_document
        )
        context.pre_execution_errors = validate(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        yield


class FreshLoaders(SchemaExtension):
    """New DataLoaders for every operation: a websocket's context outlives its operations,
    and one query's cached rows must not answer the next."""

    def on_operation(self) -> Iterator[None]:
        refresh = getattr(self.execution_context.context, "fresh_loaders", None)
        if refresh is not None:
            refresh()
        yield


def limit_extensions(
    *, max_depth: int, max_aliases: int, max_tokens: int, max_cost: int, max_page_size: int,
    expose_schema: bool,
) -> list[Callable[[], SchemaExtension]]:
    """Schema extension factories for every static limit.

    Extensions are created per request (factories, never shared instances), but the rule
    classes are built once here: strawberry's validation cache is keyed by the rule
    classes, so building them per request would make every lookup a miss.
    """
    rules: list[type[ASTValidationRule]] = [
        depth_validator(max_depth, None),
        aliases_validator(max_aliases),
        query_cost_rule(max_cost, max_page_size),
    ]
    if not expose_schema:
        rules.append(NoSchemaIntrospectionCustomRule)
    return [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        CachedParse,
        lambda: AddValidationRules(rules),
        CachedValidation,
    ]

"""Static limits on GraphQL documents, applied before anything executes.

The limits are checked in order of cost, cheapest first, and a refusal stops the rest:
the token count while parsing (strawberry's MaxTokensLimiter), then the number of fragment
spreads (one pass over the document), then the pairs of same-named fields graphql-core's
overlapping-fields rule would compare (`arcos.graphql.merges`, counted up to the budget),
then depth, aliases and cost in one walk that measures each fragment once
(`arcos.graphql.shape`), and only then graphql-core's own validation rules, whose
overlapping-fields check grows with the square of the fragments and repeated fields.
Introspection is exempt from depth and cost; turn it off in production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
)
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.schema.schema import validate_document  # not public: see core_schema.py

from arcos.graphql.core_schema import core_schema
from arcos.graphql.document_cache import cacheable, cacheable_query, document_cache
from arcos.graphql.errors import ErrorCode
from arcos.graphql.merges import TooManyMerges, check_field_merges
from arcos.graphql.selection_sets import written_selection_sets
from arcos.graphql.shape import Limit, LimitExceeded, ShapeLimits, ShapeMeter


@dataclass(frozen=True)
class DocumentLimits:
    """The limits checked before graphql-core validates a document."""

    shape: ShapeLimits
    max_fragment_spreads: int
    max_field_merges: int

    def refusals(self, schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
        """The first limit `document` exceeds, as a coded error; empty when within all."""
        spreads = count_fragment_spreads(document)
        if spreads > self.max_fragment_spreads:
            return [GraphQLError(
                f"The document spreads fragments {spreads} times, over the limit of "
                f"{self.max_fragment_spreads} (ARCOS_MAX_FRAGMENT_SPREADS): spread each "
                "fragment fewer times or split the request.",
                extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value},
            )]
        try:
            check_field_merges(document, self.max_field_merges)
        except TooManyMerges:
            return [GraphQLError(
                "The document repeats fields so often that validating it would compare more "
                f"than {self.max_field_merges} pairs of same-named fields "
                "(ARCOS_MAX_FIELD_MERGES): select each field once per selection set.",
                extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value},
            )]
        meter = ShapeMeter(schema, document, self.shape)
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            try:
                meter.operation(definition)
            except LimitExceeded as exceeded:
                return [self._refusal(exceeded, definition)]
        return []

    def _refusal(
        self, exceeded: LimitExceeded, operation: OperationDefinitionNode
    ) -> GraphQLError:
        name = f"Operation '{operation.name.value}'" if operation.name else "The operation"
        limits = self.shape
        if exceeded.limit is Limit.DEPTH:
            message = (
                f"{name} exceeds the maximum depth of {limits.max_depth} "
                "(ARCOS_MAX_QUERY_DEPTH): select fewer nested fields."
            )
            code = ErrorCode.GRAPHQL_VALIDATION_FAILED
        elif exceeded.limit is Limit.ALIASES:
            message = (
                f"{name} uses more than {limits.max_aliases} aliases (ARCOS_MAX_ALIASES), "
                "counting each use of a fragment: ask for fewer aliased fields."
            )
            code = ErrorCode.GRAPHQL_VALIDATION_FAILED
        else:
            message = (
                f"{name} costs at least {exceeded.shape.cost}, over the limit of "
                f"{limits.max_cost} (ARCOS_MAX_QUERY_COST): ask for fewer items "
                "(first/limit, or names/points of a series) or fewer nested fields."
            )
            code = ErrorCode.QUERY_TOO_COMPLEX
        return GraphQLError(message, operation, extensions={"code": code.value})


def count_fragment_spreads(document: DocumentNode) -> int:
    """How many `...Name` spreads the document contains as written (not expanded)."""
    return sum(
        isinstance(selection, FragmentSpreadNode)
        for selection_set in written_selection_sets(document)
        for selection in selection_set.selections
    )


def document_refusals(
    limits: DocumentLimits, schema: GraphQLSchema, document: DocumentNode
) -> list[GraphQLError]:
    """`limits.refusals`, as a plain function a `DocumentCache` can remember."""
    return limits.refusals(schema, document)


class CachedParse(SchemaExtension):
    """Parse each distinct document once per schema.

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
        elif cacheable_query(context) and context.graphql_document is None:
            cached_parse = document_cache(context.schema).remembered(parse)
            try:
                context.graphql_document = cached_parse(context.query, **context.parse_options)
            except Exception:  # noqa: S110 - strawberry re-parses and reports it
                pass
        yield


class CachedValidation(SchemaExtension):
    """Check `limits`, then validate; each distinct small document once (prepared
    documents always hit). A document over a limit is never validated further."""

    def __init__(self, limits: DocumentLimits) -> None:
        super().__init__()
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema, document = core_schema(context.schema), context.graphql_document
        assert document is not None
        refuse, validate = document_refusals, validate_document
        if cacheable(context):
            cache = document_cache(context.schema)
            refuse, validate = cache.remembered(refuse), cache.remembered(validate)
        refusals = refuse(self.limits, schema, document)
        context.pre_execution_errors = refusals or validate(
            schema, document, context.validation_rules
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


def added_rules(expose_schema: bool) -> tuple[type[ASTValidationRule], ...]:
    """The validation rules ARCOS adds to graphql-core's (and strawberry's)."""
    return () if expose_schema else (NoSchemaIntrospectionCustomRule,)


def validation_rules(expose_schema: bool) -> tuple[type[ASTValidationRule], ...]:
    """Every rule an operation is validated with: what strawberry's execution context
    starts from plus `added_rules`, in the order `AddValidationRules` appends them (the
    validation cache is keyed by this tuple)."""
    return (*specified_rules, *added_rules(expose_schema))


def limit_extensions(
    *, max_tokens: int, limits: DocumentLimits, expose_schema: bool
) -> list[Callable[[], SchemaExtension]]:
    """Schema extension factories for every static limit.

    Extensions are created per request (factories, never shared instances), but the rule
    list is built once here: the validation cache is keyed by the rule classes.
    """
    rules = list(added_rules(expose_schema))
    return [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        CachedParse,
        lambda: AddValidationRules(rules),
        lambda: CachedValidation(limits),
    ]

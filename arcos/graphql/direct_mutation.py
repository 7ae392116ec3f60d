"""Run a prepared mutation document without strawberry's and graphql-core's generic machinery.

The REST and webhook adapters run fixed documents, each parsed and validated at start-up
(arcos/rest/operations.py). For a mutation document with one root field, most of a
request's GraphQL time went to the generic pipeline around the resolver: the schema
extensions' hooks, graphql-core's executor and its completion of the payload field by
field. A `MutationPlan`, compiled once per document, does what that pipeline does for
this document, in the same order and with the same functions:

- what the schema extensions do (`UNDERSTOOD`): the document's limits and validation are
  settled when it compiles; per request, the argument bounds, fresh DataLoaders, a new
  response budget and permission memo, and afterwards the error classification and the
  response-size refusal;
- variable coercion by graphql-core (`Executor.build`), the root field's arguments by
  `get_argument_values`, and its resolve info as graphql-core builds it;
- the root field resolved as strawberry's resolver wrapper resolves it, with its argument
  conversion and extension chain built once (arcos/graphql/direct_resolve.py), so its
  permission classes and field extensions (fresh loaders after the write) run their own
  code exactly as in the generic path; a field that needs more of the wrapper
  (exception handlers, …) is resolved by strawberry's own resolver;
- the payload completed by a compiled walk of the selection set (arcos/graphql/
  direct_walk.py).

A document may select several root fields when each carries only `@skip`/`@include`
(one document for sibling uploads): per request, the directives are evaluated as
graphql-core evaluates them, and when exactly one field remains it runs as above; any
other outcome runs the generic way.

Nothing may answer differently from the generic path. Before the resolver runs, anything
the plan does not handle (variables that do not coerce, an over-long argument) makes `run`
return None and the caller runs the request the generic way, which reports it. Once the
resolver has run, the write is done and must not run twice: a raised exception, or a
payload the walk cannot complete, is completed by graphql-core's own executor with the
root field answered from what the resolver gave (`_replay`), followed by the steps the
generic path takes with its errors. Documents whose shape, or a schema whose extensions,
the plan does not understand never compile. Tests compare both paths byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    MiddlewareManager,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
)
from graphql import ExecutionResult as CoreResult
from graphql.execution.executor import Executor
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import AddValidationRules, MaxTokensLimiter
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.schema.schema import validate_document  # not public: see core_schema.py
from strawberry.types import ExecutionResult
from strawberry.utils.await_maybe import await_maybe

from arcos.auth.permission_memo import PermissionMemo, start_memo
from arcos.graphql.bounds import ArgumentBounds, BoundedSite, bounded_sites, first_overlong_argument
from arcos.graphql.budget import BoundedResponse, ResponseBudget, refuse_over_budget, start_response
from arcos.graphql.core_schema import core_schema
from arcos.graphql.direct_resolve import Call, direct_field
from arcos.graphql.direct_walk import Complete, compile_walk
from arcos.graphql.document_cache import document_cache
from arcos.graphql.errors import ClassifyErrors, rewrite_errors
from arcos.graphql.limits import CachedParse, CachedValidation, FreshLoaders, document_refusals

#: The schema extensions whose work a plan does itself (see the module docstring). A
#: schema with any other extension compiles no plan: its work would be skipped.
UNDERSTOOD: frozenset[type] = frozenset({
    MaxTokensLimiter, CachedParse, AddValidationRules, CachedValidation,  # settled at compile
    ArgumentBounds, FreshLoaders, BoundedResponse, PermissionMemo, ClassifyErrors,
})


@dataclass(frozen=True)
class RootField:
    """One root field a plan may run: its node, field, response key, payload walk and
    resolver call."""

    node: FieldNode
    field: GraphQLField
    key: str
    complete: Complete
    call: Call

    def included(self, variable_values: Mapping[str, Any]) -> bool:
        """Whether its `@skip`/`@include` keep it, decided as graphql-core decides."""
        for directive, keep_when in ((GraphQLSkipDirective, False),
                                     (GraphQLIncludeDirective, True)):
            node = next((d for d in self.node.directives or ()
                         if d.name.value == directive.name), None)
            if node is not None and get_argument_values(directive, node, variable_values)[
                "if"
            ] is not keep_when:
                return False
        return True


#: The directives a root field may carry in a plan (evaluated per request).
CONDITIONS = frozenset({GraphQLSkipDirective.name, GraphQLIncludeDirective.name})


@dataclass
class MutationPlan:
    """A compiled mutation: one root field, resolved by its own resolver, completed by a
    walk. Counts its answers (tests read them to know which path answered)."""

    schema: Any  # the strawberry schema
    core: GraphQLSchema
    document: DocumentNode
    operation_name: str | None
    mutation_type: GraphQLObjectType
    #: The root fields, in document order; each request runs the one its variables keep.
    roots: tuple[RootField, ...]
    sites: tuple[BoundedSite, ...]
    #: The executor class strawberry has graphql-core use (it builds the resolve infos).
    executor_class: type[Executor]
    #: Requests answered by the walk.
    answered: int = 0
    #: Requests completed by graphql-core after the resolver ran (errors and odd shapes).
    replayed: int = 0

    async def run(
        self, context: Any, variables: Mapping[str, Any] | None
    ) -> ExecutionResult | None:
        """The operation's result, or None (nothing ran) to run it the generic way."""
        raw = dict(variables or {})
        executor = self.executor_class.build(
            self.core, self.document, None, context, raw, self.operation_name,
            is_awaitable=optimized_is_awaitable, **self.schema._get_custom_context_kwargs(None),
        )
        if isinstance(executor, list):  # variables that do not coerce
            return None
        if self.sites and first_overlong_argument(self.sites, raw) is not None:
            return None
        try:
            kept = [root for root in self.roots if root.included(executor.variable_values)]
        except Exception:  # the generic path reports it
            return None
        if len(kept) != 1:
            return None
        root = kept[0]
        root_field, root_node = root.field, root.node
        try:
            arguments = (
                get_argument_values(root_field, root_node, executor.variable_values)
                if root_field.args or root_node.arguments else {}
            )
        except Exception:  # the generic path reports it
            return None
        # The operation hooks of FreshLoaders, BoundedResponse and PermissionMemo.
        context.fresh_loaders()
        budget = start_response(context.settings.max_response_bytes)
        start_memo()
        path = Path(None, root.key, self.mutation_type.name)
        info = executor.build_resolve_info(root_field, [root_node], self.mutation_type, path)
        try:
            value = root.call(None, info, arguments)
            if executor.is_awaitable(value):
                value = await value
        except Exception as raised:
            return await self._replay(context, raw, _Raised(raised), budget)
        # What the resolver charged stays; what a walk that gives up charged is charged
        # again by graphql-core's completion, so it is given back first.
        spent, exceeded = budget.spent, budget.exceeded
        try:
            data = {root.key: root.complete(executor, value, path, info)}
        except Exception:  # Unwalkable, or a payload resolver that raised: the write is
            # done, so graphql-core completes the same value and reports any error itself.
            budget.spent, budget.exceeded = spent, exceeded
            return await self._replay(context, raw, value, budget)
        result = CoreResult(data, None)
        refuse_over_budget(result, budget)
        self.answered += 1
        return ExecutionResult(data=result.data, errors=result.errors, extensions={})

    async def _replay(
        self, context: Any, variables: dict[str, Any], outcome: Any, budget: ResponseBudget
    ) -> ExecutionResult:
        """Complete the operation with graphql-core's executor, called as strawberry calls
        it, the root field answering `outcome` (its value, or `_Raised`) instead of running
        again; then what the generic path does with the result's errors."""
        self.replayed += 1

        def replay_root(next_: Any, root: Any, info: Any, **arguments: Any) -> Any:
            if info.path.prev is not None:
                return next_(root, info, **arguments)
            if isinstance(outcome, _Raised):
                raise outcome.error
            return outcome

        schema = self.schema
        result = await await_maybe(schema._get_execute_function()(
            self.core, self.document, root_value=None,
            middleware=MiddlewareManager(replay_root), variable_values=variables,
            operation_name=self.operation_name, context_value=context,
            is_awaitable=optimized_is_awaitable,
            **execution_context_class_kwargs(schema.execution_context_class),
            **schema._get_custom_context_kwargs(None),
        ))
        if result.errors:
            schema._process_errors(result.errors, None)  # logs; strips suggestions
        rewrite_errors(result)  # ClassifyErrors
        refuse_over_budget(result, budget)  # BoundedResponse
        return ExecutionResult(data=result.data, errors=result.errors, extensions={})


@dataclass(frozen=True)
class _Raised:
    """The root resolver raised `error` (a value may itself be an exception)."""

    error: Exception


def compile_mutation(
    schema: Any, document: DocumentNode, operation_name: str | None,
    rules: tuple[type[ASTValidationRule], ...],
) -> MutationPlan | None:
    """A plan for the mutation `operation_name` of `document` against the strawberry
    `schema`, or None when the generic path must run it (not a one-field mutation, a
    shape the walk does not handle, a schema extension the plan does not understand, or
    a document the schema's limits or validation with `rules` refuse)."""
    operation = get_operation_ast(document, operation_name)
    if not isinstance(operation, OperationDefinitionNode) or not _understood(schema):
        return None
    if operation.operation is not OperationType.MUTATION or operation.directives:
        return None
    core = core_schema(schema)
    limits = getattr(schema, "document_limits", None)
    cache = document_cache(schema)
    if limits is None or cache.remembered(document_refusals)(limits, core, document):
        return None
    if cache.remembered(validate_document)(core, document, rules):
        return None
    mutation_type = core.mutation_type
    if mutation_type is None:
        return None
    fragments = {
        definition.name.value: definition for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    roots = _roots(schema, operation.selection_set.selections, mutation_type, fragments)
    if roots is None:
        return None
    return MutationPlan(
        schema=schema, core=core, document=document, operation_name=operation_name,
        mutation_type=mutation_type, roots=roots,
        sites=cache.remembered(bounded_sites)(core, document),
        executor_class=schema.execution_context_class or Executor,
    )


def _roots(
    schema: Any, selections: Any, mutation_type: GraphQLObjectType,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> tuple[RootField, ...] | None:
    """The root fields of a plan: one field, or several that each carry only `@skip`/
    `@include` with distinct response keys; None for any other shape."""
    roots: list[RootField] = []
    for node in selections:
        if not isinstance(node, FieldNode):
            return None
        field = mutation_type.fields.get(node.name.value)
        directives = {directive.name.value for directive in node.directives or ()}
        if field is None or field.resolve is None or not directives <= CONDITIONS:
            return None
        if len(selections) == 1 and directives:
            return None  # a lone conditional field may answer `{}`: generic
        complete = compile_walk(schema, field.type, node.selection_set, fragments)
        if complete is None:
            return None
        direct = direct_field(schema, field)
        call = direct.call if direct is not None else _generic_call(field)
        roots.append(RootField(node, field, (node.alias or node.name).value, complete, call))
    if not roots or len({root.key for root in roots}) != len(roots):
        return None
    return tuple(roots)


def _generic_call(field: GraphQLField) -> Call:
    """The field's call through strawberry's own resolver (and its wrapper)."""
    resolve = field.resolve

    def call(source: Any, info: Any, arguments: Mapping[str, Any]) -> Any:
        return resolve(source, info, **arguments)  # type: ignore[misc]

    return call


def _understood(schema: Any) -> bool:
    """Whether every extension of `schema` is one a plan reproduces."""
    return all(type(extension) in UNDERSTOOD for extension in schema.get_extensions())


@dataclass
class DirectMutations:
    """The compiled mutations of one app's adapter documents, by operation name (compiled
    on first use; None remembers that a document runs the generic way)."""

    schema: Any
    rules: tuple[type[ASTValidationRule], ...]
    plans: dict[str, MutationPlan | None] = field(default_factory=dict)

    def plan(self, document: DocumentNode, operation_name: str) -> MutationPlan | None:
        if operation_name not in self.plans:
            self.plans[operation_name] = compile_mutation(
                self.schema, document, operation_name, self.rules
            )
        return self.plans[operation_name]

    def counts(self) -> tuple[int, int]:
        """(answered by the walk, completed by graphql-core after the resolver) so far."""
        plans = [plan for plan in self.plans.values() if plan is not None]
        return sum(p.answered for p in plans), sum(p.replayed for p in plans)

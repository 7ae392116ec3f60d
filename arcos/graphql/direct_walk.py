"""Complete a resolved mutation payload from its selection set without graphql-core's executor.

graphql-core completes each selected field through several generic calls (collecting
fields, building resolve infos, checking awaitables, handling errors). For a selection set
known in advance, `compile_walk` builds a small tree that does the same steps: it calls
each field's own `resolve` (strawberry's, with the resolve info graphql-core would build;
for a field with a resolver of its own, the call strawberry's wrapper would make, settled
once by arcos/graphql/direct_resolve.py, with no resolve info when nothing reads it),
coerces leaves with their GraphQL type's `coerce_output_value`, walks lists and objects,
and checks `is_type_of`.

A walk never produces an error: whatever graphql-core would answer with an error (a null
in a non-null field, a value that does not coerce, a resolver that raises, an awaitable)
raises `Unwalkable`, and the caller completes the same value the generic way
(arcos/graphql/direct_mutation.py), which writes the error exactly as it would.

Async resolvers stay with graphql-core. Driving their coroutines in place was tried: one
that suspended on a DataLoader was closed and run again by graphql-core, and the second
run failed ("await wasn't used with future", a 500 on AddBenchmark, whose payload's
`author` waits for a loader), so a field that may suspend is never started here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.executor import Executor
from graphql.pyutils import Path, is_iterable

from arcos.graphql.bounds import STRAWBERRY_DEFINITION
from arcos.graphql.direct_resolve import direct_field

#: Completes one value: (executor, value, path, info of the field that produced it).
Complete = Callable[[Executor, Any, Path, Any], Any]
#: Resolves one field: (source, its resolve info or None) -> its value.
Resolve = Callable[[Any, Any], Any]


class Unwalkable(Exception):
    """This value must be completed the generic way (it produces an error there)."""


@dataclass(frozen=True)
class WalkField:
    """One selected field of an object: its response key and how to complete it."""

    key: str
    field: GraphQLField | None  # None for `__typename`
    nodes: list[FieldNode]
    complete: Complete | None
    resolve: Resolve | None = None
    #: Whether its resolve, or the `is_type_of` of its object type, reads a resolve info.
    needs_info: bool = True


def compile_walk(
    schema: Any, return_type: GraphQLOutputType, selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> Complete | None:
    """The completion of a value of `return_type` selected with `selection_set` (its
    named fragments in `fragments`) in the strawberry `schema`, or None when the shape
    has something the walk does not handle (directives, arguments, repeated keys,
    fragments on another type, abstract types, async or guarded fields)."""
    if isinstance(return_type, GraphQLNonNull):
        inner = compile_walk(schema, return_type.of_type, selection_set, fragments)
        return None if inner is None else _non_null(inner)
    if isinstance(return_type, GraphQLList):
        inner = compile_walk(schema, return_type.of_type, selection_set, fragments)
        return None if inner is None else _list(inner)
    if is_leaf_type(return_type):
        return None if selection_set is not None else _leaf(return_type)  # type: ignore[arg-type]
    if isinstance(return_type, GraphQLObjectType) and selection_set is not None:
        fields: list[WalkField] = []
        if not _object_fields(schema, return_type, selection_set, fragments, fields, set()):
            return None
        return _object(return_type, tuple(fields))
    return None


def _same_type_selections(
    selection: FragmentSpreadNode | InlineFragmentNode, object_type: GraphQLObjectType,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> SelectionSetNode | None:
    """The selections of a fragment on `object_type` itself, without directives (which
    graphql-core merges in place); None for any other fragment."""
    if selection.directives:
        return None
    if isinstance(selection, FragmentSpreadNode):
        fragment = fragments.get(selection.name.value)
        if fragment is None or fragment.directives:
            return None
        condition = fragment.type_condition
    else:
        condition = selection.type_condition
        fragment = selection
    if condition is not None and condition.name.value != object_type.name:
        return None
    return fragment.selection_set


def _object_fields(
    schema: Any, object_type: GraphQLObjectType, selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode], fields: list[WalkField], keys: set[str],
) -> bool:
    """Append the fields of `selection_set` to `fields`, in graphql-core's order; False
    when a selection is one the walk does not handle."""
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode | InlineFragmentNode):
            selections = _same_type_selections(selection, object_type, fragments)
            if selections is None or not _object_fields(
                schema, object_type, selections, fragments, fields, keys
            ):
                return False
            continue
        if not isinstance(selection, FieldNode) or selection.directives or selection.arguments:
            return False
        key = (selection.alias or selection.name).value
        if key in keys:
            return False  # merged fields are graphql-core's business
        keys.add(key)
        name = selection.name.value
        if name == "__typename":
            fields.append(WalkField(key, None, [selection], None))
            continue
        field = object_type.fields.get(name)
        if field is None or field.args or not _plain(field):
            return False
        complete = compile_walk(schema, field.type, selection.selection_set, fragments)
        if complete is None:
            return False
        fields.append(WalkField(key, field, [selection], complete, *_resolve(schema, field)))
    return True


def _resolve(schema: Any, field: GraphQLField) -> tuple[Resolve, bool]:
    """How the walk resolves `field`, and whether that (or the `is_type_of` of its type)
    reads a resolve info."""
    type_checked = getattr(get_named_type(field.type), "is_type_of", None) is not None
    direct = direct_field(schema, field)
    if direct is None:
        return field.resolve, _needs_info(field)  # type: ignore[return-value]
    call = direct.call

    def resolve(source: Any, info: Any) -> Any:
        return call(source, info, {})

    return resolve, direct.needs_info or type_checked


def _plain(field: GraphQLField) -> bool:
    """A field strawberry resolves synchronously with no permission classes or field
    extensions: calling its `resolve` has no effect but its value. Guarded fields stay with
    graphql-core, whose order of permission checks they rely on; async ones too (above)."""
    definition = (field.extensions or {}).get(STRAWBERRY_DEFINITION)
    return (
        definition is not None and field.resolve is not None
        and not getattr(definition, "extensions", None)
        and not getattr(definition, "permission_classes", None)
        and not getattr(definition, "is_async", True)
    )


def _needs_info(field: GraphQLField) -> bool:
    """False for a field strawberry resolves with `_get_basic_result` (an attribute read
    that ignores its info) whose type checks no `is_type_of`: building the info graphql-core
    would build is most of such a field's cost. Any other resolve gets the real info (if
    strawberry renames that function, every field simply gets one)."""
    if getattr(field.resolve, "__name__", None) != "_get_basic_result":
        return True
    named = get_named_type(field.type)
    return getattr(named, "is_type_of", None) is not None


def _non_null(inner: Complete) -> Complete:
    def complete(executor: Executor, value: Any, path: Path, info: Any) -> Any:
        if value is None or value is Undefined:
            raise Unwalkable
        completed = inner(executor, value, path, info)
        if completed is None:
            raise Unwalkable
        return completed

    return complete


def _list(inner: Complete) -> Complete:
    def complete(executor: Executor, value: Any, path: Path, info: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if executor.is_async_iterable(value) or not is_iterable(value):
            raise Unwalkable
        return [
            inner(executor, item, path.add_key(index, None), info)
            for index, item in enumerate(value)
        ]

    return complete


def _leaf(leaf_type: GraphQLLeafType) -> Complete:
    coerce = leaf_type.coerce_output_value

    def complete(executor: Executor, value: Any, path: Path, info: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if executor.is_awaitable(value) or isinstance(value, Exception):
            raise Unwalkable
        try:
            coerced = coerce(value)
        except Exception as refused:
            raise Unwalkable from refused
        if coerced is Undefined or coerced is None:
            raise Unwalkable
        return coerced

    return complete


def _object(object_type: GraphQLObjectType, fields: tuple[WalkField, ...]) -> Complete:
    name = object_type.name

    def complete(executor: Executor, value: Any, path: Path, info: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if executor.is_awaitable(value) or isinstance(value, Exception):
            raise Unwalkable
        if object_type.is_type_of is not None:
            matches = object_type.is_type_of(value, info)
            if matches is not True:
                _close(matches)
                raise Unwalkable
        completed: dict[str, Any] = {}
        for field in fields:
            if field.field is None:
                completed[field.key] = name
                continue
            field_path = path.add_key(field.key, name)
            field_info = executor.build_resolve_info(
                field.field, field.nodes, object_type, field_path
            ) if field.needs_info else None
            try:
                resolved = field.resolve(value, field_info)  # type: ignore[misc]
            except Exception as refused:
                raise Unwalkable from refused
            if executor.is_awaitable(resolved):
                _close(resolved)
                raise Unwalkable
            completed[field.key] = field.complete(  # type: ignore[misc]
                executor, resolved, field_path, field_info
            )
        return completed

    return complete


def _close(value: Any) -> None:
    """Close a coroutine the walk will not await (the generic path makes its own)."""
    if inspect.iscoroutine(value):
        value.close()

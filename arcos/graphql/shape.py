"""Measure an operation's depth, aliases and cost in one walk, each fragment once.

A fragment may be spread many times, and fragments may spread each other: a document
under 1 KB (`fragment Fi on Query { ...F(i-1) ...F(i-1) }` for i = 1..29) expands to 2^29
selections. Walking the expansion, as strawberry's depth and alias limiters and our first
cost estimator did, takes minutes of event-loop time. Here each (fragment, parent type) is
measured once and remembered, so the walk is linear in the size of the document, and it
stops at the first limit exceeded: partial sums only grow (every multiplier is at least 1),
so a part over a limit means the whole is over it.

Costs: every field costs 1, and a list field multiplies the cost of what it selects by the
number of items it may return (its `first`/`limit` argument, the page-size cap when that
argument is a variable, `UNPAGED_LIST_FACTOR` for lists without one), or by what its
`LIST_ITEMS` metadata says its arguments bound it to (qualityMetricSeries: names x points,
its series' buckets counted there). Introspection fields
(`__schema`, `__type`, `__typename`) are exempt from depth and cost, as in strawberry's
depth limiter; their aliases still count.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.type.definition import GraphQLNamedType, get_named_type

from arcos.graphql.bounds import STRAWBERRY_DEFINITION
from arcos.graphql.metadata import LIST_ITEMS

#: Arguments that bound how many items a list field returns.
PAGE_ARGUMENTS = ("first", "limit")
#: Assumed size of a list field that takes no page argument.
UNPAGED_LIST_FACTOR = 10


class Limit(Enum):
    """Which limit a walk stopped at."""

    DEPTH = "depth"
    ALIASES = "aliases"
    COST = "cost"


@dataclass(frozen=True)
class ShapeLimits:
    max_depth: int
    max_aliases: int
    max_cost: int
    max_page_size: int


@dataclass(frozen=True)
class Shape:
    """Depth (levels of fields below the root), aliases, and cost of a selection."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0


EMPTY = Shape()


class LimitExceeded(Exception):
    """The walk passed `limit`; `shape` is what it had counted when it stopped."""

    def __init__(self, limit: Limit, shape: Shape) -> None:
        super().__init__(limit.value)
        self.limit = limit
        self.shape = shape


class ShapeMeter:
    """Measures the operations of one document against `limits`, remembering fragments."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, limits: ShapeLimits
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self._measured: dict[tuple[str, str | None, bool], Shape] = {}
        self._entered: set[str] = set()

    def operation(self, node: OperationDefinitionNode) -> Shape:
        """The operation's shape; raises LimitExceeded as soon as any part is over a limit."""
        root = self.schema.get_root_type(node.operation)
        return self._selection_set(node.selection_set, root, level=0, exempt=False)

    def _selection_set(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None,
        *, level: int, exempt: bool,
    ) -> Shape:
        if selection_set is None:
            return EMPTY
        depth = aliases = cost = 0
        for selection in selection_set.selections:
            part = self._selection(selection, parent, level=level, exempt=exempt)
            depth = max(depth, part.depth)
            aliases += part.aliases
            cost += part.cost
            self._check(Shape(depth, aliases, cost))
        return Shape(depth, aliases, cost)

    def _selection(
        self, selection: SelectionNode, parent: GraphQLNamedType | None, *, level: int,
        exempt: bool,
    ) -> Shape:
        if isinstance(selection, FieldNode):
            return self._field(selection, parent, level=level, exempt=exempt)
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = self.schema.get_type(condition.name.value) if condition else parent
            return self._selection_set(
                selection.selection_set, target, level=level, exempt=exempt
            )
        if isinstance(selection, FragmentSpreadNode):
            return self._fragment(selection.name.value, parent, level=level, exempt=exempt)
        return EMPTY

    def _fragment(
        self, name: str, parent: GraphQLNamedType | None, *, level: int, exempt: bool
    ) -> Shape:
        # The remembered shape is relative to where the fragment is spread, so one entry
        # serves every level; the check at the operation's root sees the absolute depth.
        fragment = self.fragments.get(name)
        if fragment is None or name in self._entered:
            return EMPTY  # other rules report unknown and cyclic fragments
        key = (name, parent.name if parent else None, exempt)
        known = self._measured.get(key)
        if known is not None:
            return known
        target = self.schema.get_type(fragment.type_condition.name.value)
        self._entered.add(name)
        try:
            shape = self._selection_set(
                fragment.selection_set, target, level=level, exempt=exempt
            )
        finally:
            self._entered.discard(name)
        self._measured[key] = shape
        return shape

    def _field(
        self, node: FieldNode, parent: GraphQLNamedType | None, *, level: int, exempt: bool
    ) -> Shape:
        exempt = exempt or node.name.value.startswith("__")
        if node.selection_set and not exempt and level + 1 > self.limits.max_depth:
            # Refuse on the way down too, so nesting never recurses past the limit.
            raise LimitExceeded(Limit.DEPTH, Shape(depth=level + 1))
        field_type: GraphQLOutputType | None = None
        definition: GraphQLField | None = None
        if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            definition = parent.fields.get(node.name.value)
            field_type = definition.type if definition else None
        child = self._selection_set(
            node.selection_set, get_named_type(field_type) if field_type else None,
            level=level + 1, exempt=exempt,
        )
        aliases = child.aliases + (1 if node.alias else 0)
        if exempt:
            return Shape(0, aliases, 0)
        depth = 1 + child.depth if node.selection_set else 0
        if parent is not None and parent.name.endswith("Connection"):
            # `edges` / `nodes` of a connection: its `first` already counted the items.
            return Shape(depth, aliases, 1 + child.cost)
        declared = _declared_items(definition) if definition is not None else None
        multiplier = (
            _items(node, definition, declared) if definition is not None and declared is not None
            else self._multiplier(node, field_type)
        )
        return Shape(depth, aliases, 1 + multiplier * child.cost)

    def _multiplier(self, node: FieldNode, field_type: GraphQLOutputType | None) -> int:
        for argument in node.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                if len(value.value) > len(str(self.limits.max_page_size)):
                    return self.limits.max_page_size  # never convert a huge literal
                return max(1, min(int(value.value), self.limits.max_page_size))
            if isinstance(value, VariableNode):
                return self.limits.max_page_size
        if field_type is not None and _is_list(field_type):
            return UNPAGED_LIST_FACTOR
        if field_type is not None and get_named_type(field_type).name.endswith("Connection"):
            return self.limits.max_page_size
        return 1

    def _check(self, shape: Shape) -> None:
        if shape.depth > self.limits.max_depth:
            raise LimitExceeded(Limit.DEPTH, shape)
        if shape.aliases > self.limits.max_aliases:
            raise LimitExceeded(Limit.ALIASES, shape)
        if shape.cost > self.limits.max_cost:
            raise LimitExceeded(Limit.COST, shape)


def _declared_items(definition: GraphQLField) -> dict[str, int] | None:
    """The field's LIST_ITEMS metadata (arcos/graphql/metadata.py), if it declares any."""
    strawberry_field = (definition.extensions or {}).get(STRAWBERRY_DEFINITION)
    declared = (getattr(strawberry_field, "metadata", None) or {}).get(LIST_ITEMS)
    return dict(declared) if declared is not None else None


def _items(node: FieldNode, definition: GraphQLField, declared: dict[str, int]) -> int:
    """The most items the field returns: per declared argument its literal Int, its
    literal list's length, or (a variable, a null default) its maximum, multiplied."""
    given = {argument.name.value: argument.value for argument in node.arguments or ()}
    product = 1
    for name, maximum in declared.items():
        value = given.get(name)
        if isinstance(value, IntValueNode) and len(value.value) <= len(str(maximum)):
            count = int(value.value)
        elif isinstance(value, ListValueNode):
            count = len(value.values)
        elif value is None and name in definition.args:
            default = definition.args[name].default_value
            count = default if isinstance(default, int) else (
                len(default) if isinstance(default, list) else maximum)
        else:
            count = maximum
        product *= max(1, min(count, maximum))
    return product


def _is_list(field_type: GraphQLOutputType) -> bool:
    unwrapped = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    return isinstance(unwrapped, GraphQLList)

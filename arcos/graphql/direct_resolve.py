"""Call a field's resolver as strawberry's resolver wrapper does, with the per-call work
settled once per field.

Strawberry wraps every resolver (`GraphQLCoreConverter.from_resolver`): per call it
converts graphql-core's argument values to Python values by walking the field's
argument types (`convert_arguments`), decides which reserved parameters (self, root,
parent, info) the resolver takes, builds the chain of field extensions with
`functools.reduce`, and awaits through a couple of wrappers. For a compiled mutation
(arcos/graphql/direct_mutation.py) that was a third of its GraphQL time. `direct_field`
does the same steps with everything that depends only on the field decided when the
plan compiles:

- a converter per argument type, built from the same strawberry types
  `convert_argument` reads and taking the same branch for each value (lists, input
  objects with their implicit None defaults, enums, scalars, None and UNSET);
- the field's own extension chain, from strawberry's `build_field_extension_resolvers`,
  chained once: the permission classes (`PermissionExtension`) and the other field
  extensions run their own code, in the same order, with the same arguments, so a
  refusal is raised (or fails closed) exactly as in the generic path;
- the reserved parameters passed as `get_arguments` passes them.

Whatever strawberry does that this does not reproduce (a field whose extensions reshape
arguments with `map_arguments`, an input type with its own `from_input`, `Maybe`,
GlobalID arguments, schema-level exception handlers, an argument named like a reserved
parameter) gives None: that field keeps strawberry's own resolver.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass
from functools import partial, reduce
from typing import Any

from graphql import GraphQLField, GraphQLResolveInfo
from strawberry.extensions.field_extension import FieldExtension, build_field_extension_resolvers
from strawberry.relay.types import GlobalID
from strawberry.types.arguments import _is_leaf_type, _is_optional_leaf_type
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

from arcos.graphql.bounds import STRAWBERRY_DEFINITION

#: The names of the resolver wrappers `GraphQLCoreConverter.from_resolver` makes: a field
#: whose `resolve` is anything else (wrapped again, or a strawberry that renamed them)
#: keeps its own `resolve`.
STRAWBERRY_WRAPPERS = frozenset({"_resolver", "_async_resolver"})
#: Converts one graphql-core input value (already coerced) to the resolver's Python value.
Convert = Callable[[Any], Any]
#: Calls a field: (source, graphql-core's resolve info or None, its argument values by
#: GraphQL name) -> what strawberry's resolver returns (a value or an awaitable).
Call = Callable[[Any, GraphQLResolveInfo | None, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class DirectField:
    """A field's resolver call, settled once."""

    call: Call
    #: Whether `call` reads the resolve info (extensions or an info parameter): when
    #: False the caller may pass None instead of building one.
    needs_info: bool


def direct_field(schema: Any, field: GraphQLField) -> DirectField | None:
    """The call of `field`'s resolver in the strawberry `schema` without strawberry's
    per-call wrapper, or None when the field must keep that wrapper (see the module
    docstring). Fields without a resolver of their own (attribute reads) give None:
    strawberry already reads those without a wrapper."""
    definition = (field.extensions or {}).get(STRAWBERRY_DEFINITION)
    converter = getattr(schema, "schema_converter", None)
    if (definition is None or converter is None
            or getattr(field.resolve, "__name__", None) not in STRAWBERRY_WRAPPERS):
        return None  # not strawberry's wrapper (nor one it knows), so nothing to stand for
    resolver = definition.base_resolver
    if resolver is None or getattr(converter, "_exception_handler_specs", True):
        return None  # no resolver, or handlers (or a strawberry that names them otherwise)
    if any(type(extension).map_arguments is not FieldExtension.map_arguments
           for extension in definition.extensions):
        return None
    reserved = {parameter.name for parameter in (
        resolver.self_parameter, resolver.root_parameter, resolver.parent_parameter,
        resolver.info_parameter) if parameter is not None} | {"info"}
    if any(argument.python_name in reserved for argument in definition.arguments):
        return None
    convert = compile_arguments(definition.arguments, converter.scalar_registry, schema.config)
    if convert is None:
        return None
    chain = build_field_extension_resolvers(definition)
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    needs_info = bool(chain) or info_name is not None
    return DirectField(
        _call(definition, convert, chain, schema.config.info_class, info_name, needs_info),
        needs_info,
    )


def _call(
    definition: Any, convert: Callable[[Mapping[str, Any]], dict[str, Any]],
    chain: list[Callable[..., Any]], info_class: type, info_name: str | None,
    needs_info: bool,
) -> Call:
    """What strawberry's `_resolver`/`_async_resolver` and `get_arguments` do per call."""
    resolver = definition.base_resolver
    takes_self = resolver.self_parameter is not None
    sources = [parameter.name for parameter in (resolver.parent_parameter,
                                                resolver.root_parameter)
               if parameter is not None]
    # Strawberry takes a parameter named `info` out of the arguments the extensions see
    # and gives it back to the resolver; an info parameter named otherwise stays in them.
    info_aside = info_name == "info"
    info_inline = info_name if info_name is not None and not info_aside else None
    get_result = definition.get_result

    def innermost(source: Any, info: Any, **kwargs: Any) -> Any:
        if info_aside:
            kwargs["info"] = info
        return get_result(source, info=info, args=[source] if takes_self else [],
                          kwargs=kwargs)

    run = reduce(lambda chained, next_fn: partial(next_fn, chained), chain, innermost)

    def call(source: Any, info: GraphQLResolveInfo | None, arguments: Mapping[str, Any]) -> Any:
        kwargs = convert(arguments)
        for name in sources:
            kwargs[name] = source
        strawberry_info = info_class(_raw_info=info, _field=definition) if needs_info else None
        if info_inline is not None:
            kwargs[info_inline] = strawberry_info
        return run(source, strawberry_info, **kwargs)

    return call


def compile_arguments(
    arguments: list[Any], scalar_registry: Mapping[object, Any], config: Any
) -> Callable[[Mapping[str, Any]], dict[str, Any]] | None:
    """`convert_arguments` for these strawberry arguments, built once: graphql-core's
    values by GraphQL name in, the resolver's keyword arguments out (an omitted argument
    stays omitted). None when an argument's type is one `converter` does not handle."""
    converters: list[tuple[str, str, Convert]] = []
    for argument in arguments:
        convert = converter(argument.type, scalar_registry, config)
        if convert is None:
            return None
        converters.append((config.name_converter.from_argument(argument),
                           argument.python_name, convert))
    if not converters:
        return _no_arguments

    def convert_all(values: Mapping[str, Any]) -> dict[str, Any]:
        return {python_name: convert(values[name])
                for name, python_name, convert in converters if name in values}

    return convert_all


def _no_arguments(values: Mapping[str, Any]) -> dict[str, Any]:
    """A field without arguments: an empty dict of its own per call (the resolver's
    reserved parameters are added to it)."""
    return {}


def converter(
    type_: Any, scalar_registry: Mapping[object, Any], config: Any,
    inputs: dict[type, Convert | None] | None = None,
) -> Convert | None:
    """`convert_argument` for values of the strawberry type `type_`, built once; None for
    a type it handles in a way this does not reproduce. `inputs`: the input types met so
    far, so a type that contains itself is built once."""
    inputs = {} if inputs is None else inputs
    if isinstance(type_, StrawberryMaybe):
        return None
    if isinstance(type_, StrawberryOptional):
        return converter(type_.of_type, scalar_registry, config, inputs)
    if isinstance(type_, StrawberryList):
        return _list(type_.of_type, scalar_registry, config, inputs)
    if _is_leaf_type(type_, scalar_registry):
        return None if type_ is GlobalID else _same
    if isinstance(type_, LazyType):
        return converter(type_.resolve_type(), scalar_registry, config, inputs)
    if has_enum_definition(type_):
        return converter(type_.__strawberry_definition__, scalar_registry, config, inputs)
    if has_object_definition(type_):
        if type_ not in inputs:
            _input_object(type_, scalar_registry, config, inputs)
        return inputs[type_]
    return None


def _same(value: Any) -> Any:
    """Scalars and enums: graphql-core's value is the resolver's."""
    return value


def _list(
    item_type: Any, scalar_registry: Mapping[object, Any], config: Any,
    inputs: dict[type, Convert | None],
) -> Convert | None:
    if (_is_leaf_type(item_type, scalar_registry, skip_classes=(GlobalID,))
            or _is_optional_leaf_type(item_type, scalar_registry, skip_classes=(GlobalID,))):
        # Copied, as strawberry copies it: graphql-core hands every request that omits
        # the value the same default list.
        def copy(value: Any) -> Any:
            return value if value is None or value is UNSET else list(value)

        return copy
    item = converter(item_type, scalar_registry, config, inputs)
    if item is None:
        return None

    def convert_items(value: Any) -> Any:
        return value if value is None or value is UNSET else [item(each) for each in value]

    return convert_items


def _input_object(
    type_: Any, scalar_registry: Mapping[object, Any], config: Any,
    inputs: dict[type, Convert | None],
) -> None:
    """Put the converter of the input type `type_` (or None) in `inputs`; while its
    fields are being built, a field of its own type converts through `inputs`."""
    definition = type_.__strawberry_definition__
    if definition.from_input is not None or not definition.is_input:
        inputs[type_] = None
        return
    inputs[type_] = lambda value: built(value)
    # Fields without a Python default are None unless given (graphql-core has already
    # refused a missing required one).
    implicit = {field.python_name: None for field in definition.fields
                if field.default_value is MISSING and field.default_factory is MISSING}
    fields: list[tuple[str, str, Convert]] = []
    for field in definition.fields:
        convert = converter(field.resolve_type(type_definition=definition), scalar_registry,
                            config, inputs)
        if convert is None:
            inputs[type_] = None
            return
        fields.append((config.name_converter.from_field(field), field.python_name, convert))

    def build(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        kwargs = dict(implicit)
        for name, python_name, convert in fields:
            if name in value:
                kwargs[python_name] = convert(value[name])
        return type_(**kwargs)

    built = inputs[type_] = build

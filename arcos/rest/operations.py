"""The GraphQL operations REST adapters run: loaded from each domain's `rest.graphql`
(arcos/registry.py), split into one document per operation (with the fragments it uses),
validated once at start-up.

Validation runs once over all the operations together, not once per operation: most of
graphql-core's cost is setting up its rules for a document, which per operation made this
most of the app's build time (42 documents: ~0.13 s against ~0.03 s together). Only when
that finds errors are the operations validated one by one, to name the broken one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib.resources.abc import Traversable

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
    print_ast,
    validate,
)


class OperationDocumentError(RuntimeError):
    """A packaged operation does not validate against the schema: a bug caught at start-up."""


@dataclass(frozen=True)
class PreparedOperation:
    name: str
    operation_type: OperationType
    document: DocumentNode
    root_fields: tuple[str, ...]

    @cached_property
    def source(self) -> str:
        """The operation's text, as executed (printed when it first runs, not at start-up)."""
        return print_ast(self.document)


def load_operations(
    schema: GraphQLSchema, documents: Iterable[Traversable]
) -> dict[str, PreparedOperation]:
    """Every named operation in `documents` (.graphql files), validated against `schema`.
    A fragment defined in one document may be used in another."""
    definitions: list[OperationDefinitionNode] = []
    fragments: dict[str, FragmentDefinitionNode] = {}
    for entry in documents:
        document = parse(entry.read_text(encoding="utf-8"))
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
            elif isinstance(definition, OperationDefinitionNode):
                if definition.name is None:
                    raise OperationDocumentError(f"{entry.name}: every operation needs a name")
                definitions.append(definition)
    combined_errors = validate(
        schema, DocumentNode(definitions=(*definitions, *fragments.values()))
    )
    prepared = {}
    for operation in definitions:
        name = operation.name.value  # type: ignore[union-attr]
        needed = [fragments[f] for f in sorted(_fragments_used(operation, fragments))]
        document = DocumentNode(definitions=(operation, *needed))
        errors = validate(schema, document) if combined_errors else []
        if errors:
            raise OperationDocumentError(
                f"REST operation {name} does not match the schema: "
                + "; ".join(error.message for error in errors)
            )
        prepared[name] = PreparedOperation(
            name=name, operation_type=operation.operation, document=document,
            root_fields=tuple(
                s.name.value for s in operation.selection_set.selections
                if isinstance(s, FieldNode)
            ),
        )
    if combined_errors:  # each operation is valid alone; together they are not
        raise OperationDocumentError(
            "the REST operation documents do not validate together: "
            + "; ".join(error.message for error in combined_errors)
        )
    return prepared


def _fragments_used(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> set[str]:
    """Names of the fragments `operation` spreads, directly or through other fragments.

    Spreads only occur in selection sets, so this walks those alone rather than visiting
    every node with a graphql-core `Visitor` (a visitor class per call and a walk over
    every argument and directive made this a sixth of loading the operations)."""
    found: set[str] = set()
    pending: list[SelectionSetNode | None] = [operation.selection_set]
    while pending:
        selection_set = pending.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in found and name in fragments:
                    found.add(name)
                    pending.append(fragments[name].selection_set)
            else:  # a field or an inline fragment
                pending.append(selection.selection_set)  # type: ignore[attr-defined]
    return found

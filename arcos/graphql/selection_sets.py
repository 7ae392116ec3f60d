"""Every selection set a document writes, as written: fragments are visited where they are
defined, never expanded at their spreads, so a walk costs the size of the text."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import DocumentNode, ExecutableDefinitionNode, SelectionSetNode


def written_selection_sets(document: DocumentNode) -> Iterator[SelectionSetNode]:
    """Each selection set of each operation and fragment definition, nested ones included."""
    pending: list[SelectionSetNode | None] = [
        definition.selection_set
        for definition in document.definitions
        if isinstance(definition, ExecutableDefinitionNode)
    ]
    while pending:
        selection_set = pending.pop()
        if selection_set is None:
            continue
        yield selection_set
        pending.extend(
            getattr(selection, "selection_set", None) for selection in selection_set.selections
        )

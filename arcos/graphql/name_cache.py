"""A strawberry name converter that remembers the names it converted.

Strawberry converts every input field's Python name to its GraphQL name on every request
(argument conversion calls `apply_naming_config`, a regex substitution, per input field):
about 0.06 ms of each webhook delivery went there. The conversion is a pure function of
the name, so remembering it answers the same name, computed once.
"""

from __future__ import annotations

from strawberry.schema.name_converter import NameConverter


class RememberingNameConverter(NameConverter):
    """`NameConverter` whose `apply_naming_config` is computed once per name. The set of
    names is the schema's own field and argument names, so the memo stays bounded."""

    def __init__(self, auto_camel_case: bool = True) -> None:
        super().__init__(auto_camel_case)
        self._converted: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        converted = self._converted.get(name)
        if converted is None:
            converted = self._converted[name] = super().apply_naming_config(name)
        return converted

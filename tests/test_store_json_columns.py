"""Every JSON column keeps what JSON can carry (arcos/store/json_field.py): Tortoise would
switch to orjson, installed for the direct list answers, which refuses integers beyond
64 bits and lone surrogates and reads big integers back as floats."""

from __future__ import annotations

from typing import Any

import pytest
from test_store_models import arcos_models
from tortoise import fields

#: Values a client may send in any JSON field (the schemathesis run found the first).
AWKWARD: list[Any] = [
    {"big": -21509081203394727936, "bigger": 2**80},
    {"lone": "a \ud8a9 surrogate", "accents": "caf\u00e9 \u2603", "emoji": "\U0001f600"},
    [1.5, -0.0, 1e300, None, True, {"nested": [2**64]}],
]


def json_columns() -> list[tuple[str, fields.JSONField]]:
    found = [
        (f"{model.__qualname__}.{name}", field)
        for model in arcos_models()
        for name, field in model._meta.fields_map.items()
        if isinstance(field, fields.JSONField)
    ]
    assert len(found) > 20  # the domains' models were imported (through test_store_models)
    return found


@pytest.mark.parametrize("value", AWKWARD, ids=["big-integers", "text", "mixed"])
def test_every_json_column_stores_and_reads_back_any_json_value(value: Any):
    for name, field in json_columns():
        text = field.to_db_value(value, None)
        assert isinstance(text, str), name
        assert field.to_python_value(text) == value, name

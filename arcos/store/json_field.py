"""JSON columns written and read with the standard library's codec, whatever is installed.

Tortoise's `JSONField` switches to orjson when orjson can be imported, and it can: the
direct list answers encode with it (arcos/graphql/direct_http.py). For stored values that
would change what the store keeps: orjson refuses integers beyond 64 bits and lone
surrogates when writing, and reads such integers back as floats. The standard codec keeps
every value JSON can carry, as the store always has, so every model's JSON column is made
here, naming its codec (tests/test_store_json_columns.py checks them all).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from tortoise import fields

#: The text a JSON column stores: compact, ASCII, any integer.
dumps_column = functools.partial(json.dumps, separators=(",", ":"))
#: How a JSON column's text is read back.
loads_column = json.loads


def json_field(**options: Any) -> Any:
    """A Tortoise `JSONField` with the standard codec (`encoder=` may replace the writer,
    as evidence does for text it has already encoded)."""
    options.setdefault("encoder", dumps_column)
    return fields.JSONField(decoder=loads_column, **options)

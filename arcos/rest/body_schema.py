"""Checking a JSON body against its row's documented schema (`RestRoute.body_schema`), after
the row's own reading of it (whose messages say more about what to fix).

A row whose body is no GraphQL input type (an original envelope) would otherwise check only
what its variable builder happens to look at, and GraphQL's input coercion would quietly
turn `"references": "x"` into `["x"]`. Checking the body against the schema OpenAPI
publishes makes the documentation the contract: what it refuses, the route refuses, with
a 400 naming the field.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from arcos.log_bounds import clip
from arcos.web.refusal import RestRefusal

#: One validator per schema (schemas are module constants, so their ids are stable).
_VALIDATORS: dict[int, Draft202012Validator] = {}


def check_body(body: Any, schema: dict[str, Any]) -> None:
    """Raise a 400 naming the most relevant problem with `body`, if it has one."""
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        validator = _VALIDATORS[id(schema)] = Draft202012Validator(schema)
    error = best_match(validator.iter_errors(body))
    if error is None:
        return
    where = ".".join(str(part) for part in error.absolute_path) or "the body"
    raise RestRefusal(400, f"{where}: {clip(error.message, 300)}", "BAD_REQUEST")

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


class BodyCheck:
    """One row's schema, compiled once when the app builds the row's endpoint: the
    validator belongs to that endpoint (and so to its app), never to the process."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.validator = Draft202012Validator(schema)

    def __call__(self, body: Any) -> None:
        """Raise a 400 naming the most relevant problem with `body`, if it has one."""
        error = best_match(self.validator.iter_errors(body))
        if error is None:
            return
        where = ".".join(str(part) for part in error.absolute_path) or "the body"
        raise RestRefusal(400, f"{where}: {clip(error.message, 300)}", "BAD_REQUEST")

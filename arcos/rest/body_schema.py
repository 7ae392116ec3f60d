"""Checking a JSON body against its row's documented schema (`RestRoute.body_schema`), after
the row's own reading of it (whose messages say more about what to fix).

A row whose body is no GraphQL input type (an original envelope) would otherwise check only
what its variable builder happens to look at, and GraphQL's input coercion would quietly
turn `"references": "x"` into `["x"]`. Checking the body against the schema OpenAPI
publishes makes the documentation the contract: what it refuses, the route refuses, with
a 400 naming the field.

jsonschema is imported when a row first checks a body, not at start-up: its import is
most of a start-up's cost where `rfc3987_syntax` is installed (it builds a grammar), and
the app imports it in a background thread once it serves (`DEFERRED_IMPORTS`).
"""

from __future__ import annotations

import asyncio
from functools import cached_property
from typing import TYPE_CHECKING, Any

from arcos.log_bounds import clip
from arcos.web.refusal import RestRefusal

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

#: What the app imports in a background thread once it serves, for the first body check.
DEFERRED_IMPORTS = ("jsonschema",)


class BodyCheck:
    """One row's schema, compiled once, when the row first checks a body: the validator
    belongs to the row's endpoint (and so to its app), never to the process."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema

    @cached_property
    def validator(self) -> Validator:
        from jsonschema import Draft202012Validator

        return Draft202012Validator(self.schema)

    async def ready(self) -> None:
        """Compile the validator in a worker thread, so the loop never waits for the
        jsonschema import (nor for the background thread's import of it to finish)."""
        if "validator" not in self.__dict__:
            await asyncio.to_thread(lambda: self.validator)

    def __call__(self, body: Any) -> None:
        """Raise a 400 naming the most relevant problem with `body`, if it has one."""
        from jsonschema.exceptions import best_match

        error = best_match(self.validator.iter_errors(body))
        if error is None:
            return
        where = ".".join(str(part) for part in error.absolute_path) or "the body"
        raise RestRefusal(400, f"{where}: {clip(error.message, 300)}", "BAD_REQUEST")

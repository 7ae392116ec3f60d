"""Reading one request header straight from an ASGI scope.

The middlewares that run before Starlette builds a `Request` (the body limit, request ids,
the browser's security headers) need a single header, and building a `Headers` mapping of
every header for that would cost more than the lookup itself.
"""

from __future__ import annotations

from starlette.types import Scope


def scope_header(scope: Scope, name: bytes) -> bytes | None:
    """The raw value of the first header called `name` (lower-case bytes), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None

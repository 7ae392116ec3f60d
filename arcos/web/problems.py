"""The one builder of JSON error responses, in the shape GraphQL clients already parse.

Every HTTP refusal (the /graphql transport, REST routes, uploads, webhooks, the SSE
stream before it starts) answers `{"errors": [{"message", "extensions": {"code"}}]}`, so
one client-side handler covers every failure. A 401 always carries the bearer challenge
(RFC 9110 §15.5.2 requires one), added here so no route can forget it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

from arcos.auth.transport import WWW_AUTHENTICATE

HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE_ENTITY",
    429: "RATE_LIMITED",
}


def error_entry(message: str, code: str) -> dict[str, Any]:
    """One entry of an `errors` list: `{"message", "extensions": {"code"}}`."""
    return {"message": message, "extensions": {"code": code}}


def error_response(
    status: int,
    errors: list[dict[str, Any]],
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """`{"errors": errors, **extra}` with `status`; a 401 gets the bearer challenge."""
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
    return JSONResponse({"errors": errors, **(extra or {})}, status_code=status,
                        headers=all_headers)


def problem(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A one-error response with a code derived from the status."""
    return error_response(
        status, [error_entry(message, HTTP_CODES.get(status, "BAD_REQUEST"))], headers
    )

"""Plain-HTTP errors in the same shape GraphQL clients already parse.

A request refused before any GraphQL runs (too large, wrong content type, bad JSON) still
answers `{"errors": [{"message", "extensions": {"code"}}]}`, so one client-side handler
covers every failure.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

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


def problem(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error response with a code derived from the status."""
    code = HTTP_CODES.get(status, "BAD_REQUEST")
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers=headers,
    )

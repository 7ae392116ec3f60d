"""One mapping from GraphQL outcomes to HTTP, shared by every REST route.

GraphQL errors map by `extensions.code`; a mutation payload's `errors` (UserErrors) map to
422 with each field named; a missing object maps to 404.
"""

from __future__ import annotations

import math
from typing import Any

from strawberry.types import ExecutionResult

from arcos.graphql.errors import ErrorCode
from arcos.web.refusal import RestRefusal

STATUS_BY_CODE: dict[str, int] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.GRAPHQL_PARSE_FAILED: 400,
    ErrorCode.GRAPHQL_VALIDATION_FAILED: 400,
    ErrorCode.QUERY_TOO_COMPLEX: 400,
    ErrorCode.RESPONSE_TOO_LARGE: 400,
    ErrorCode.SANDBOX_UNAVAILABLE: 503,
    ErrorCode.BUSY: 503,
    ErrorCode.BROKER_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_SERVER_ERROR: 500,
}


def data_or_refusal(result: ExecutionResult) -> dict[str, Any]:
    """The result's data, or a RestRefusal carrying the status its first error calls for."""
    if result.errors:
        errors = [error.formatted for error in result.errors]
        first = errors[0]
        code = first.get("extensions", {}).get("code", ErrorCode.INTERNAL_SERVER_ERROR)
        status = STATUS_BY_CODE.get(code, 500)
        headers: dict[str, str] = {}
        if status == 429 or code == ErrorCode.BUSY:
            retry = first.get("extensions", {}).get("retryAfterSeconds", 1)
            headers["Retry-After"] = str(max(1, math.ceil(float(retry))))
        raise RestRefusal(status, first["message"], code, headers, details=[
            {"message": e["message"], "extensions": e.get("extensions", {})} for e in errors
        ])
    assert result.data is not None
    return result.data


#: The status of a payload whose UserErrors all share one code; 422 otherwise.
USER_ERROR_STATUS = {"CONFLICT": 409, "NOT_FOUND": 404}


def refuse_user_errors(payload: dict[str, Any]) -> None:
    """422 listing each UserError of a mutation payload, when there are any (409 when
    every one is a CONFLICT, such as an idempotency key reused for other content; 404 when
    every one names something missing)."""
    user_errors = payload.get("errors") or []
    if user_errors:
        codes = {error["code"] for error in user_errors}
        raise RestRefusal(
            USER_ERROR_STATUS.get(codes.pop(), 422) if len(codes) == 1 else 422,
            user_errors[0]["message"],
            "UNPROCESSABLE_ENTITY",
            details=[
                {"message": e["message"], "extensions": {"code": e["code"], "field": e["field"]}}
                for e in user_errors
            ],
        )


def value_at(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value

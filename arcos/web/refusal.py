"""An HTTP request refused with a status, in the JSON error shape every route uses (REST
and webhook adapters alike)."""

from __future__ import annotations

from typing import Any

from arcos.web.problems import error_entry


class RestRefusal(Exception):
    """Stop handling a REST request and answer `status` with these errors."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.extra = extra or {}
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}
        self.details = details

    def errors(self) -> list[dict[str, Any]]:
        """`[{message, extensions: {code, …}}]`, the shape GraphQL clients already read."""
        if self.details:
            return self.details
        return [error_entry(self.message, self.code)]

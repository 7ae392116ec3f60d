"""What services say when they refuse: plain Python, so no service imports strawberry.

Two kinds of expected failure exist. Problems with one write's input are a list of
`Problem`s carried by `Refused`; the GraphQL layer turns them into `UserError`s in the
mutation's payload, the REST layer into a 4xx body. Problems with a request as a whole (a
bad id, a page too large, a missing permission) raise an `ArcosError` whose `code` reaches
the client as `extensions.code`. Anything else is a bug and is masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum


class ErrorCode(StrEnum):
    """Values of `extensions.code` on GraphQL errors (Apollo's names where they exist)."""

    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"
    SUBSCRIBER_TOO_SLOW = "SUBSCRIBER_TOO_SLOW"
    TOO_MANY_OPERATIONS = "TOO_MANY_OPERATIONS"
    #: A plugin call cannot run: this machine cannot apply a sandbox layer (fail closed).
    SANDBOX_UNAVAILABLE = "SANDBOX_UNAVAILABLE"
    #: Every sandbox slot is running and the waiting queue is full; retry shortly.
    BUSY = "BUSY"
    #: The shared broker (Redis) cannot carry live events now: the subscription was
    #: refused or ended; subscribe again (with `after` / Last-Event-ID to catch up).
    BROKER_UNAVAILABLE = "BROKER_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class ArcosError(Exception):
    """An expected failure of a whole request or field; its code reaches the client."""

    code: ErrorCode = ErrorCode.BAD_USER_INPUT

    def __init__(
        self,
        message: str,
        code: ErrorCode | None = None,
        extensions: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.extensions = extensions or {}


class BadUserInput(ArcosError):
    code = ErrorCode.BAD_USER_INPUT


class NotFound(ArcosError):
    code = ErrorCode.NOT_FOUND


class ProblemCode(Enum):
    """Why one part of a write's input was refused (exposed as `UserErrorCode`)."""

    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LARGE = "TOO_LARGE"
    NOT_FOUND = "NOT_FOUND"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    CONFLICT = "CONFLICT"


@dataclass(frozen=True)
class Problem:
    """One refused part of an input: `field` is the dotted path (`items.2.data`), or None
    when the problem is with the input as a whole."""

    field: str | None
    message: str
    code: ProblemCode


class Refused(Exception):
    """Raised by a service when its input is unacceptable; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = list(problems)

    @classmethod
    def one(cls, field: str | None, message: str, code: ProblemCode) -> Refused:
        """The common case: one problem."""
        return cls([Problem(field, message, code)])

"""Error vocabulary: expected failures carry a code, unexpected ones are masked.

Two kinds of expected failure exist. Problems with one mutation's input are returned as
`UserError`s in the payload. Problems with the request as a whole (a bad id, a page too
large, a missing permission) raise an `ArcosError`, which reaches the client as a GraphQL
error whose `extensions.code` says what happened. Anything else is a bug: the client sees
"Unexpected error." with code INTERNAL_SERVER_ERROR and the log gets the traceback.
"""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from arcos.log_bounds import clip
from arcos.problems import ArcosError, ErrorCode, Problem, ProblemCode, Refused

logger = logging.getLogger("arcos.graphql")


# The services' plain enum, exposed to clients under its GraphQL name.
strawberry.enum(
    ProblemCode, name="UserErrorCode", description="Why one part of a mutation's input was refused."
)


@strawberry.type(description="An expected problem with a mutation's input; nothing was written.")
class UserError:
    field: str | None = strawberry.field(
        description="Dotted path of the input field at fault, e.g. `items.2.data`."
    )
    message: str
    code: ProblemCode

    @classmethod
    def of(cls, problem: Problem) -> UserError:
        return cls(field=problem.field, message=problem.message, code=problem.code)


def user_errors(refused: Refused) -> list[UserError]:
    """A service's refusal as the `errors` of a mutation payload."""
    return [UserError.of(problem) for problem in refused.problems]


def classify(error: GraphQLError) -> ErrorCode | None:
    """The code an error should carry, or None when it is unexpected and must be masked."""
    original = error.original_error
    if isinstance(original, ArcosError):
        return original.code
    if isinstance(original, RecursionError):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if isinstance(original, InvalidOperationTypeError | CannotGetOperationTypeError):
        return ErrorCode.GRAPHQL_VALIDATION_FAILED
    if isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if original is None or isinstance(original, GraphQLError):
        if error.message.startswith("Variable ") or error.path:
            # Variable coercion, or an argument literal refused while executing a field.
            return ErrorCode.BAD_USER_INPUT
        return ErrorCode.GRAPHQL_VALIDATION_FAILED
    return None


class ClassifyErrors(MaskErrors):
    """Stamp `extensions.code` on every error and mask the unexpected ones.

    Runs for queries, mutations and each subscription event (MaskErrors covers streams
    since strawberry 0.323), so every transport sees the same codes.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: classify(error) is None)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed: list[GraphQLError] = []
        for error in errors:
            existing = (error.extensions or {}).get("code")
            if existing:
                processed.append(error)
                continue
            code = classify(error)
            if code is None:
                processed.append(self.anonymise_error(error))
                continue
            message = error.message
            if isinstance(error.original_error, RecursionError):
                message = "The document is nested too deeply to parse; flatten it."
            elif isinstance(error.original_error, InvalidOperationTypeError):
                message = (
                    f"{message} here: send queries and mutations with POST /graphql or over "
                    "graphql-transport-ws; the legacy graphql-ws protocol carries only "
                    "subscriptions"
                )
            processed.append(
                GraphQLError(
                    message,
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    original_error=error.original_error,
                    extensions={
                        **(error.extensions or {}),
                        **getattr(error.original_error, "extensions", {}),
                        "code": code.value,
                    },
                )
            )
        return processed

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return GraphQLError(
            self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value},
        )


def log_unexpected(errors: list[GraphQLError]) -> None:
    """Log unexpected errors with their traceback; expected ones are the client's business."""
    for error in errors:
        if classify(error) is None:
            # Clipped: the message may quote request values of any size.
            logger.error("unexpected error: %s", clip(str(error)), exc_info=error.original_error)

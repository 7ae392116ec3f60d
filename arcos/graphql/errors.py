"""Error vocabulary: expected failures carry a code, unexpected ones are masked.

Two kinds of expected failure exist. Problems with one mutation's input are returned as
`UserError`s in the payload. Problems with the request as a whole (a bad id, a page too
large, a missing permission) raise an `ArcosError`, which reaches the client as a GraphQL
error whose `extensions.code` says what happened. Anything else is a bug: the client sees
"Unexpected error." with code INTERNAL_SERVER_ERROR and the log gets the traceback.
"""

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import StreamExecutionResult

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
    def of(cls, problem: Problem) -> "UserError":
        return cls(field=problem.field, message=problem.message, code=problem.code)


def user_errors(refused: Refused) -> list[UserError]:
    """A service's refusal as the `errors` of a mutation payload."""
    return [UserError.of(problem) for problem in refused.problems]


Done = TypeVar("Done")
Payload = TypeVar("Payload")


async def payload_of(
    write: Awaitable[Done], answer: Callable[[Done], Payload], refused: Callable[..., Payload]
) -> Payload:
    """A mutation's payload: `answer(result)` of the service call `write`, or, when the
    service refuses, `refused(errors=…)` with its problems as user errors. The one place a
    resolver turns a Refused into a payload (`refused` is usually the payload class with
    its empty fields bound: `partial(BenchmarkPayload, benchmark=None)`)."""
    try:
        done = await write
    except Refused as refusal:
        return refused(errors=user_errors(refusal))
    return answer(done)


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


#: What a client reads instead of an unexpected error's message.
MASKED_MESSAGE = "Unexpected error."


class ClassifyErrors(SchemaExtension):
    """Stamp `extensions.code` on every error and mask the unexpected ones.

    Uses only strawberry's public hooks: `on_operation` rewrites the result of a query or
    mutation once it is complete, and `on_stream_result` each result a stream yields
    (every subscription event, and a stream's refusals), before a transport sends it. So
    every transport sees the same codes and the same masking.
    """

    def __init__(self) -> None:
        self._streamed = False

    def on_operation(self) -> Iterator[None]:
        self._streamed = False
        yield
        if not self._streamed:  # a stream's results were rewritten one by one
            rewrite_errors(self.execution_context.result)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        self._streamed = True
        rewrite_errors(result)
        yield


def rewrite_errors(result: object) -> None:
    """What ClassifyErrors does to a result: every error coded, unexpected ones masked
    (also run by direct mutations, arcos/graphql/direct_mutation.py)."""
    errors = getattr(result, "errors", None)
    if errors:
        result.errors = [coded(error) for error in errors]  # type: ignore[attr-defined]


def coded(error: GraphQLError) -> GraphQLError:
    """`error` with `extensions.code`; an unexpected error masked, keeping only where
    it happened."""
    if (error.extensions or {}).get("code"):
        return error
    code = classify(error)
    if code is None:
        return _replacing(error, MASKED_MESSAGE, {"code": ErrorCode.INTERNAL_SERVER_ERROR.value})
    message = error.message
    if isinstance(error.original_error, RecursionError):
        message = "The document is nested too deeply to parse; flatten it."
    elif isinstance(error.original_error, InvalidOperationTypeError):
        message = (
            f"{message} here: send queries and mutations with POST /graphql or over "
            "graphql-transport-ws; the legacy graphql-ws protocol carries only "
            "subscriptions"
        )
    extensions = {
        **(error.extensions or {}),
        **getattr(error.original_error, "extensions", {}),
        "code": code.value,
    }
    return _replacing(error, message, extensions, error.original_error)


def _replacing(
    error: GraphQLError,
    message: str,
    extensions: dict[str, object],
    original_error: Exception | None = None,
) -> GraphQLError:
    """A new error in place of `error`: the same position in the document and the response."""
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original_error,
        extensions=extensions,
    )


def log_unexpected(errors: list[GraphQLError]) -> None:
    """Log unexpected errors with their traceback; expected ones are the client's business."""
    for error in errors:
        if classify(error) is None:
            # Clipped: the message may quote request values of any size.
            logger.error("unexpected error: %s", clip(str(error)), exc_info=error.original_error)

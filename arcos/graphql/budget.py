"""A per-operation bound on the bytes a response may carry.

The query cost counts fields, not bytes: twenty 5 MB evidence items under fifteen aliases
are a cheap query and a 1.5 GB answer. Resolvers of large values (evidence `data` and
`metadata`) know each value's size from a stored column and charge it here *before*
loading the value, so an operation that would pass `ARCOS_MAX_RESPONSE_BYTES` loads at most
that much and is then answered with one RESPONSE_TOO_LARGE error instead of a partial
response.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from arcos.graphql.errors import ArcosError, ErrorCode
from arcos.settings import env_name

SETTING = env_name("max_response_bytes")


class ResponseTooLarge(ArcosError):
    code = ErrorCode.RESPONSE_TOO_LARGE


class ResponseBudget:
    """Bytes of large values one operation (or one subscription event) may still return."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0
        self.exceeded = False

    def charge(self, size: int) -> None:
        """Count `size` bytes, or raise ResponseTooLarge when they do not fit; once one
        value has not fit, none does, so the refusal does not depend on field order."""
        if not self.exceeded and self.spent + size <= self.limit:
            self.spent += size
            return
        self.exceeded = True
        raise self.refusal()

    def refusal(self) -> ResponseTooLarge:
        return ResponseTooLarge(
            f"the response would be larger than {SETTING} ({self.limit} bytes of evidence "
            "data and metadata): ask for fewer items (first/limit), select `dataSize` "
            "instead of `data`, and read large items one at a time with evidence(id:)",
            extensions={"setting": SETTING, "limit": self.limit},
        )


#: The budget of the operation (or subscription event) running in this task. Per task, not
#: per context: a websocket's operations share one context but each runs in its own task,
#: and a mutation's later fields must not get a fresh allowance.
_current: ContextVar[ResponseBudget | None] = ContextVar("arcos_response_budget", default=None)


def start_response(limit: int) -> ResponseBudget:
    """A fresh budget for the operation or subscription event this task is answering."""
    budget = ResponseBudget(limit)
    _current.set(budget)
    return budget


def charge_response(limit: int, size: int) -> None:
    """Charge `size` bytes to this task's budget (started with `limit` if there is none)."""
    budget = _current.get() or start_response(limit)
    budget.charge(size)


class BoundedResponse(SchemaExtension):
    """Answer a query or mutation that ran out of response budget with that one error.

    The resolvers that hit the bound have already failed, so nothing large was loaded
    for them; dropping the partial data also frees what was loaded before the bound.
    Subscription events keep their field error: each event is its own response.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        budget = start_response(context.context.settings.max_response_bytes)
        yield
        if not budget.exceeded or context.result is None:
            return  # (before reading the operation type: a parse error leaves none)
        if context.operation_type is not OperationType.SUBSCRIPTION:
            refuse_over_budget(context.result, budget)


def refuse_over_budget(result: Any, budget: ResponseBudget) -> None:
    """Replace a query's or mutation's `result` by the one RESPONSE_TOO_LARGE error when
    `budget` ran out (also run by direct mutations, arcos/graphql/direct_mutation.py)."""
    if not budget.exceeded or result is None:
        return
    refusal = budget.refusal()
    result.data = None
    result.errors = [GraphQLError(
        str(refusal), extensions={"code": refusal.code.value, **refusal.extensions}
    )]

"""A field's permission checked once per operation and parent type, not once per row.

Strawberry awaits a field's permission classes every time the field resolves: a guarded
field selected on each of 100 listed items was checked 100 times with the same caller and
the same answer. Within one operation the caller is fixed, so a check that passed for a
(permission, parent type) pair passes again; `PermissionMemo` starts an empty memo for each
operation and `remembered`/`remember` consult it.

What is never remembered, so each occurrence is checked as before: refusals (every refused
row gets its own error, as without the memo), permissions that spend write allowance (each
use is charged), and anything over a websocket, whose long-lived token is re-checked
periodically inside the check itself. The memo lives in a context variable set at the
start of each operation, so no two operations (nor two callers) ever share one.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from contextvars import ContextVar

from strawberry.extensions import SchemaExtension

#: Checks that passed in the operation this task is running; None outside one.
_passed: ContextVar[set[Hashable] | None] = ContextVar("arcos_permissions_passed", default=None)


def start_memo() -> None:
    """An empty memo for the operation this task is starting."""
    _passed.set(set())


def remembered(key: Hashable) -> bool:
    """Whether the check `key` already passed in this operation."""
    memo = _passed.get()
    return memo is not None and key in memo


def remember(key: Hashable) -> None:
    """Record that the check `key` passed in this operation (outside one: nothing)."""
    memo = _passed.get()
    if memo is not None:
        memo.add(key)


class PermissionMemo(SchemaExtension):
    """Starts each operation with an empty memo of passed permission checks."""

    def on_operation(self) -> Iterator[None]:
        start_memo()
        yield

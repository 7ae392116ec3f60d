"""The id of the request being served, for every log line it causes.

A contextvar, set by the HTTP middleware (arcos/web/request_ids.py) for the request's
task: asyncio copies it into the tasks the request starts, and the unit of work and the
relay run in the request's own task after its commit, so the REST and webhook adapters,
GraphQL execution, the services and the broker publish all log under it without passing
it along. The log filter (arcos/log_config.py) reads it.

It also crosses the broker: a unit of work stamps its messages with the id it commits
under (arcos/store/unit_of_work.py), the brokers carry it beside each event (in the Redis
envelope, and in each in-process subscriber's queue, never in the event itself), and the
work an event causes on any instance (the broker's fan-out, a subscriber's handling of
the event, plugin triggers, case watchers) runs under it (`serving`), so one id finds a
write's lines on every instance.

A client may choose the id (`X-Request-ID`, e.g. a proxy's `$request_id`), but it is
echoed in a response header and written into every log line: only a short token of
plain characters is taken; anything else is replaced by a generated one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: What a client-chosen id may look like: nginx's $request_id (32 hex), UUIDs, and the
#: usual trace ids; no spaces, quotes or control characters, at most 128 characters.
ACCEPTABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}")

CURRENT: ContextVar[str | None] = ContextVar("arcos_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(given: str | None) -> str:
    """`given` when it is an acceptable id, otherwise a new one."""
    if given is not None and ACCEPTABLE.fullmatch(given):
        return given
    return new_request_id()


def carried_request_id(value: object) -> str | None:
    """A request id as another process sent it (the Redis envelope): kept when it is an
    acceptable id, None otherwise (it is written into log lines)."""
    return value if isinstance(value, str) and ACCEPTABLE.fullmatch(value) else None


def current_request_id() -> str | None:
    return CURRENT.get()


@contextmanager
def serving(request_id: str | None) -> Iterator[None]:
    """Log under `request_id` inside the block (the work an event of that request causes).

    Restores the previous id by value rather than by token, so it is safe around a `yield`
    in an async generator, whose resumption may run in another context than its start.
    Around a `yield`, the consumer's task holds the id until the generator is resumed or
    closed in that task: iterate such generators (the brokers' event streams) to their end,
    under `contextlib.aclosing`, or in a task of their own, never by breaking out and
    leaving them to the garbage collector.
    """
    previous = CURRENT.get()
    CURRENT.set(request_id)
    try:
        yield
    finally:
        CURRENT.set(previous)

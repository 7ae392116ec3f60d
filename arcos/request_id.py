"""The id of the request being served, for every log line it causes.

A contextvar, set by the HTTP middleware (arcos/web/request_ids.py) for the request's
task: asyncio copies it into the tasks the request starts, and the unit of work and the
relay run in the request's own task after its commit, so the REST and webhook adapters,
GraphQL execution, the services and the broker publish all log under it without passing
it along. The log filter (arcos/log_config.py) reads it.

A client may choose the id (`X-Request-ID`, e.g. a proxy's `$request_id`), but it is
echoed in a response header and written into every log line: only a short token of
plain characters is taken; anything else is replaced by a generated one.
"""

from __future__ import annotations

import re
import uuid
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


def current_request_id() -> str | None:
    return CURRENT.get()

"""Per-request state handed to every resolver: settings, broker, caller, rate limiter and
the DataLoaders that domains register on it (arcos/graphql/loaders.py).

Over HTTP a context lives for one request. Over a websocket strawberry builds it once per
connection, so subscriptions call `next_event()` before each event to keep DataLoader
caches from serving one event's rows to the next, and to give each event its own response
budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import DocumentNode
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from arcos.auth.caller import Caller
from arcos.auth.rate_limit import WriteRateLimiter
from arcos.auth.scopes import ScopeCatalogue
from arcos.broker import Broker
from arcos.graphql.budget import start_response
from arcos.settings import Settings
from arcos.store.unit_of_work import Writer
from arcos.store.write_context import WriteContext
from arcos.web.connection_limits import ConnectionLimits
from arcos.web.json_threads import INLINE, JsonThreads
from arcos.web.parse_pool import ParsePool

if TYPE_CHECKING:
    from arcos.shared_state.redis_state import SharedRedis


@dataclass(frozen=True)
class ParsedText:
    """A JSON text an adapter has already parsed, with its value: a resolver that receives
    this very text as a variable uses the value instead of parsing megabytes again."""

    text: str
    value: Any
    #: The text's hex SHA-256 (of its UTF-8 bytes) when the adapter already took it.
    sha256: str | None = None


@dataclass(frozen=True)
class AppServices:
    """What one app owns and every request uses, built once by `create_app` and handed to
    the GraphQL view and the REST adapter (which both build contexts from it)."""

    settings: Settings
    broker: Broker
    #: The one write path (units of work, outbox, relay).
    writer: Writer
    rate_limiter: WriteRateLimiter
    #: Live-connection and subscription counts per principal and address.
    connection_limits: ConnectionLimits
    #: Where uploads are parsed, off the event loop.
    parse_pool: ParsePool | None = None
    #: Where large JSON is decoded, checked and encoded, off the event loop.
    json_threads: JsonThreads = INLINE
    #: The domains' own app services by name (arcos/registry.py `ServiceFactory`), filled
    #: in by `create_app` once this object exists (a factory may need it).
    domain_services: dict[str, Any] = field(default_factory=dict)
    #: Every scope the app's domains declare (arcos/registry.py `Registry.scopes`).
    scopes: ScopeCatalogue = field(default_factory=ScopeCatalogue)
    #: The Redis instances share state through (ARCOS_BROKER_URL); None in one process.
    shared_redis: SharedRedis | None = None


class ServiceMissing(RuntimeError):
    """A resolver asked for an app service this app does not run."""


@dataclass
class ArcosContext:
    """What every resolver gets as `info.context`: who is calling, the app's shared
    services (settings, broker, rate limiter, pools), the request's transport objects, and
    its DataLoaders. Built per request by the view and the REST adapter, and per socket
    over websockets (hence `next_event`)."""

    settings: Settings
    broker: Broker
    caller: Caller
    rate_limiter: WriteRateLimiter
    request: Request | WebSocket | None = None
    response: Response | WebSocket | None = None
    connection_params: dict[str, Any] | None = None
    #: A document parsed and validated once at start-up, used instead of parsing `query`.
    prepared_document: DocumentNode | None = None
    #: When the caller's token was last found valid (monotonic seconds; websockets).
    auth_checked_at: float = field(default_factory=time.monotonic)
    #: This context's DataLoaders by class, each created on first use (ContextLoader).
    loaders: dict[type[Any], DataLoader[Any, Any]] = field(default_factory=dict)
    #: Where uploads are parsed, off the event loop; None parses inline (unit tests).
    parse_pool: ParsePool | None = None
    #: The process's live-connection and subscription counts; None counts nothing (unit
    #: tests).
    connection_limits: ConnectionLimits | None = None
    #: Where large JSON is decoded, checked and encoded, off the event loop.
    json_threads: JsonThreads = INLINE
    #: The app's one write path; None in contexts that only read (unit tests).
    writer: Writer | None = None
    #: The domains' app services by name; empty in contexts built without an app.
    domain_services: dict[str, Any] = field(default_factory=dict)
    #: Every scope the app knows; only `admin` in contexts built without an app.
    scopes: ScopeCatalogue = field(default_factory=ScopeCatalogue)

    #: A JSON text among the variables that the adapter already parsed.
    parsed_text: ParsedText | None = None

    @classmethod
    def of(cls, services: AppServices, caller: Caller, **request_parts: Any) -> ArcosContext:
        """A context for one request (or socket) of the app that owns `services`."""
        return cls(
            settings=services.settings, broker=services.broker, caller=caller,
            rate_limiter=services.rate_limiter, parse_pool=services.parse_pool,
            connection_limits=services.connection_limits,
            json_threads=services.json_threads, writer=services.writer,
            domain_services=services.domain_services, scopes=services.scopes,
            **request_parts,
        )

    def service(self, name: str) -> Any:
        """The app service a domain registered under `name` (see arcos/registry.py)."""
        try:
            return self.domain_services[name]
        except KeyError:
            raise ServiceMissing(f"this app runs no service named {name!r}") from None

    def parsed(self, text: str) -> Any | None:
        """The value of `text` if the adapter parsed this same string, else None."""
        known = self.parsed_text
        return known.value if known is not None and known.text is text else None

    def parsed_sha256(self, text: str) -> str | None:
        """The hex SHA-256 of `text` if the adapter took it of this same string."""
        known = self.parsed_text
        return known.sha256 if known is not None and known.text is text else None

    def write_context(self) -> WriteContext:
        """What a service needs to write on behalf of this context's caller."""
        if self.writer is None:
            raise RuntimeError("this context has no writer; build it with the app's")
        return WriteContext(self.caller.name, self.settings, self.writer, self.json_threads)

    def fresh_loaders(self) -> None:
        """Drop every DataLoader and its cache (per operation, and after a write so later
        fields see it); each is created again on its next use. The response budget is
        untouched: it belongs to the whole operation."""
        self.loaders.clear()

    def next_event(self) -> None:
        """Before a subscription event: fresh DataLoaders, and a response budget of its own
        (each event is its own response)."""
        self.fresh_loaders()
        start_response(self.settings.max_response_bytes)

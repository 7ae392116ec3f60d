"""The /graphql endpoint: strawberry's ASGI view with ARCOS's context and HTTP errors.

Strawberry answers transport problems with plain-text 400s; here they become JSON with
`extensions.code` and the status the GraphQL-over-HTTP spec asks for (415 for a wrong
content type, 405 for a mutation over GET).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException, StarletteRequestAdapter
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from arcos.auth.caller import Caller
from arcos.auth.service import AuthenticationFailed
from arcos.auth.transport import (
    authorization_from_params,
    caller_from_authorization,
    principals_of,
)
from arcos.graphql.cohorts import SubscriptionCohorts
from arcos.graphql.context import AppServices, ArcosContext
from arcos.graphql.direct_http import HANDOVER, DirectAnswers, Handover
from arcos.graphql.document_cache import MAX_CACHED_DOCUMENT_CHARS, document_cache
from arcos.graphql.limits import validation_rules
from arcos.graphql.prepared import PreparedOperations
from arcos.graphql.websocket import (
    ArcosWebSocketAdapter,
    LegacyWSHandler,
    TransportWSHandler,
    close_reason,
)
from arcos.metrics import OPEN_WEBSOCKETS, OperationNames, count_operation
from arcos.web.body_limit import read_body
from arcos.web.browser.graphiql import graphiql_response
from arcos.web.connection_limits import (
    TOO_MANY_CONNECTIONS,
    Admission,
    ConnectionRefused,
)
from arcos.web.json_text import UnreadableJson, parse_json, parse_json_buffer
from arcos.web.preencoded import dumps
from arcos.web.problems import problem
from arcos.web.send_lane import SendLane
from arcos.web.ws_protocol import raise_message_limit

JSON_TYPES = ("application/json", "application/graphql-response+json", "multipart/form-data")
NO_QUERY = "the request has no `query`; send {\"query\": \"...\"}"
SUBSCRIPTIONS_NEED_A_STREAM = (
    "subscriptions need a websocket: connect to /graphql with graphql-transport-ws (or "
    "graphql-ws), or read one of the REST stream routes (text/event-stream) listed in "
    "GET /api/openapi.json"
)
#: Where a websocket's `Admission` lives in its ASGI scope's per-connection state.
ADMISSION = "arcos.websocket_admission"


class DecodedBody(bytes):
    """What `ArcosRequestAdapter.get_body` hands strawberry for a JSON body the view has
    already read and decoded: no bytes, only the decoded `value`, which `decode_json`
    returns."""

    value: object


class ArcosRequestAdapter(StarletteRequestAdapter):
    """Starlette's adapter, whose JSON body `ArcosGraphQL.parse_http_body` reads (into one
    buffer) and decodes before strawberry asks for it; strawberry then gets the value."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.request = request
        self.decoded: DecodedBody | None = None

    async def get_body(self) -> bytes:
        if self.decoded is not None:
            decoded, self.decoded = self.decoded, None
            return decoded
        return await super().get_body()


class ArcosGraphQL(GraphQL[ArcosContext, None]):
    """The /graphql endpoint (HTTP, GraphiQL, both websocket protocols) over the one
    schema: authenticates each request or socket, counts live connections, refuses a
    subscription sent over plain HTTP, decodes large bodies in a JSON thread, and builds
    the `ArcosContext` every resolver gets."""

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    websocket_adapter_class = ArcosWebSocketAdapter  # type: ignore[assignment]
    request_adapter_class = ArcosRequestAdapter

    def __init__(self, schema: Any, services: AppServices) -> None:
        settings = services.settings
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.expose_schema else None,
            allow_queries_via_get=True,
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
            keep_alive=True,
            # Safe here: every operation needs a bearer token, which browsers never attach
            # on their own, so a cross-site form post cannot act for anyone.
            multipart_uploads_enabled=True,
            keep_alive_interval=15,
        )
        self.services = services
        self.settings = settings
        #: The operation names /metrics counts separately (the rest share one label).
        self.operation_names = OperationNames(settings.metrics_max_operation_names)
        self.connection_limits = services.connection_limits
        self.json_threads = services.json_threads
        #: Who recently authenticated tokens stand for (None: read every token).
        self.principals = principals_of(services)
        #: Large outgoing websocket messages of this process take turns here.
        self.send_lane = SendLane()
        #: Subscriptions that share one execution (arcos/graphql/cohorts.py).
        self.cohorts = SubscriptionCohorts(schema, services)
        #: Queries answered by a prepared direct plan (arcos/graphql/direct_http.py).
        self.direct = DirectAnswers(self, services, PreparedOperations(
            schema, max_tokens=settings.max_tokens, limits=schema.document_limits,
            rules=validation_rules(settings.expose_schema),
        ))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._serve_websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=receive)
        refusal = _refuse_transport(request)
        if refusal is None:
            try:
                response = await self.direct.answer(request) or await self.run(request)
            except HTTPException as error:
                refusal = _from_strawberry(request, error)
            except MissingQueryError:
                refusal = problem(400, NO_QUERY)
            except AuthenticationFailed as failure:
                refusal = problem(401, str(failure))
        await (refusal or response)(scope, receive, send)

    async def _serve_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run one websocket while it holds a place in the connection counts (refused with
        4429 when its address has too many awaiting connection_ack); the places are given
        back however the socket ends."""
        client = scope.get("client")
        try:
            admission = self.connection_limits.admit_websocket(client[0] if client else "unknown")
        except ConnectionRefused as refused:
            websocket = WebSocket(scope, receive, send)
            await websocket.accept(subprotocol=await self.pick_websocket_subprotocol(websocket))
            await websocket.close(TOO_MANY_CONNECTIONS, close_reason(refused.reason))
            return
        scope.setdefault("state", {})[ADMISSION] = admission
        OPEN_WEBSOCKETS.inc()
        try:
            await super().__call__(scope, receive, send)
        finally:
            OPEN_WEBSOCKETS.dec()
            admission.release()

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """ARCOS's GraphiQL page (arcos/web/browser/graphiql.py) instead of strawberry's, whose
        assets come from a CDN and whose start-up is inline script."""
        return graphiql_response(request, self.settings)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ArcosContext:
        """HTTP callers authenticate here, from the Authorization header. Websockets start
        anonymous and authenticate in `on_ws_connect`, from connection_init."""
        if isinstance(request, WebSocket):
            caller = Caller.anonymous(allow_read=False)
        else:
            handover: Handover | None = request.scope.get(HANDOVER)
            caller = handover.caller if handover else await self.authenticate(request)
        return ArcosContext.of(self.services, caller, request=request, response=response)

    async def authenticate(self, request: Request) -> Caller:
        """The caller of an HTTP request, from its Authorization header."""
        caller = await caller_from_authorization(
            request.headers.get("authorization"), self.settings.anonymous_read,
            self.principals,
        )
        if not caller.authenticated and _is_upload(request):
            # Only mutations take files, and they all need a token: refuse before the
            # (possibly large) multipart body is read. A bad token never gets this far.
            raise AuthenticationFailed(
                "multipart uploads need a token: send 'Authorization: Bearer <token>'"
            )
        return caller

    async def on_ws_connect(self, context: ArcosContext) -> UnsetType | dict[str, object] | None:
        """Authenticate a websocket before any subscription can start; refuse with 4403.

        The token travels in the connection_init payload (`{"authorization": "Bearer …"}`),
        since browsers cannot set headers on websockets; an Authorization header on the
        upgrade request is accepted too.
        """
        value = authorization_from_params(context.connection_params)
        if value is None and isinstance(context.request, WebSocket):
            value = context.request.headers.get("authorization")
        if value is None and not self.settings.anonymous_read:
            raise ConnectionRejectionError(
                {"message": "send {\"authorization\": \"Bearer <token>\"} in connection_init"}
            )
        try:
            context.caller = await caller_from_authorization(
                value, self.settings.anonymous_read, self.principals
            )
        except AuthenticationFailed as failure:
            raise ConnectionRejectionError({"message": str(failure)}) from None
        if isinstance(context.request, WebSocket):
            admission: Admission = context.request.scope["state"][ADMISSION]
            admission.acknowledge(context.caller)  # ConnectionRefused: handlers close 4429
            raise_message_limit(context.request.scope, self.settings.ws_max_message_bytes)
        return UNSET

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: ArcosContext,
        root_value: None,
        request_data: Any,
    ) -> Any:
        """Strawberry's, after refusing a subscription with a pointer to the transports
        that carry them: over plain HTTP strawberry would run one as plain fields."""
        if self._is_subscription(request_data.query, request_data.operation_name):
            raise HTTPException(400, SUBSCRIPTIONS_NEED_A_STREAM)
        result = await super().execute_single(
            request=request, request_adapter=request_adapter, sub_response=sub_response,
            context=context, root_value=root_value, request_data=request_data,
        )
        if isinstance(result, ExecutionResult):
            count_operation(self.operation_names, request_data.operation_name, result.errors)
        return result

    def _is_subscription(self, query: str | None, operation_name: str | None) -> bool:
        """Whether the operation to run is a subscription. The document is parsed as
        CachedParse parses it (same token limit, same cache), so a small one is parsed
        once for both; one that does not parse is left for strawberry to report."""
        if not query or "subscription" not in query:
            return False
        parse_document = parse
        if len(query) <= MAX_CACHED_DOCUMENT_CHARS:
            parse_document = document_cache(self.schema).remembered(parse)
        try:
            document = parse_document(query, max_tokens=self.settings.max_tokens)
        except GraphQLError:
            return False
        operation = get_operation_ast(document, operation_name)
        return operation is not None and operation.operation is OperationType.SUBSCRIPTION

    def encode_json(self, data: object) -> str:
        """HTTP bodies and websocket messages; pre-encoded evidence values are spliced in."""
        return dumps(data)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> Any:
        """Strawberry's parsing, after reading a JSON body into one buffer and decoding it
        (a large one in a JSON thread): the bytes are dropped as soon as they are text,
        the text as soon as it is a value, so a report sent as a variable is held at most
        twice at once, never as chunks, their join and the text together."""
        if (isinstance(request, ArcosRequestAdapter) and request.method == "POST"
                and "application/json" in (request.content_type or "")):
            handover: Handover | None = request.request.scope.get(HANDOVER)
            if handover is not None:  # the direct path read and decoded it
                request.decoded = DecodedBody()
                request.decoded.value = handover.body
                return await super().parse_http_body(request)
            body = await read_body(request.request, self.settings.max_body_bytes)
            decoded = DecodedBody()
            decoded.value = await self.json_threads.run(
                self._decode_buffer, body, size=len(body)
            )
            del body
            request.decoded = decoded
        return await super().parse_http_body(request)

    def _decode_buffer(self, body: bytearray) -> object:
        try:
            return _request_value(parse_json_buffer(body))
        except UnreadableJson as error:
            raise HTTPException(400, f"request body: {error}") from None

    def decode_json(self, data: str | bytes) -> object:
        if isinstance(data, DecodedBody):
            return data.value
        try:
            return _request_value(parse_json(data))
        except UnreadableJson as error:
            raise HTTPException(400, f"request body: {error}") from None


def _request_value(value: object) -> object:
    if not isinstance(value, dict | list):
        raise HTTPException(400, "request body must be a JSON object like {\"query\": ...}")
    return value


def _is_upload(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return request.method == "POST" and content_type == "multipart/form-data"


def _refuse_transport(request: Request) -> Response | None:
    """Refusals strawberry would get wrong or answer as plain text."""
    if request.method == "POST":
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in JSON_TYPES:
            return problem(
                415,
                f"POST /graphql needs Content-Type: application/json (or multipart/form-data "
                f"for uploads; got "
                f"{content_type or 'none'!r})",
            )
    elif request.method != "GET":
        return problem(405, "GraphQL accepts GET (queries) and POST", {"Allow": "GET, POST"})
    return None


def _from_strawberry(request: Request, error: HTTPException) -> Response:
    if isinstance(error.__cause__, MissingQueryError):
        return problem(400, NO_QUERY)
    reason = error.reason
    if request.method == "GET" and "not allowed" in reason.lower():
        return problem(
            405,
            f"{reason}: GET carries only queries; send mutations with POST and "
            "subscriptions over a websocket",
            {"Allow": "POST"},
        )
    return problem(error.status_code, reason)

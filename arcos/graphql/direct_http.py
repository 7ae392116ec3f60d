"""POST /graphql answered by a prepared direct plan, before strawberry sees the request.

The steps the generic path takes for an HTTP request happen here in the same order, with
the same functions: authenticate from the Authorization header (a bad token raises the
same AuthenticationFailed, answered 401), read the body under ARCOS_MAX_BODY_BYTES and
decode it as the view does (same 413 and 400). Then, when the request is a plain JSON
operation whose document has a direct plan (arcos/graphql/prepared.py) and the plan can
answer it, the response is encoded with orjson. Otherwise the decoded body and the caller
are left in the ASGI scope (`Handover`) and the view runs the request the generic way
without reading or authenticating it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from arcos.auth.caller import Caller
from arcos.graphql.context import AppServices, ArcosContext
from arcos.graphql.prepared import PreparedOperations
from arcos.metrics import count_operation
from arcos.web.body_limit import read_body
from arcos.web.preencoded import dumps

#: Where a request's `Handover` waits in its ASGI scope for the generic path.
HANDOVER = "arcos.graphql_handover"
#: Bytes outside printable ASCII: orjson writes non-ASCII characters (and DEL) as they are,
#: where the generic encoder (json.dumps) escapes them. Such a response is encoded again
#: the generic way, so the two paths stay byte-identical.
NOT_PRINTABLE_ASCII = re.compile(rb"[^\x20-\x7e]")


@dataclass(frozen=True)
class Handover:
    """What the direct path already did for a request it hands to the generic path."""

    caller: Caller
    body: object


class DirectAnswers:
    """Answers the requests a prepared plan can answer; `view` is the GraphQL view
    (authentication, body decoding and streaming-transport detection are its own)."""

    def __init__(self, view: Any, services: AppServices, prepared: PreparedOperations) -> None:
        self.view = view
        self.services = services
        self.settings = services.settings
        self.prepared = prepared
        #: Requests answered directly (tests read it to know which path answered).
        self.answered = 0

    async def answer(self, request: Request) -> Response | None:
        """The direct response, or None after leaving a `Handover` for the generic path
        (or without one, when nothing was read yet)."""
        if request.method != "POST" or not _is_json(request):
            return None
        if self.view._get_stream_transport_from_headers(request.headers) is not None:
            return None
        caller = await self.view.authenticate(request)
        body = await read_body(request, self.settings.max_body_bytes)
        value = await self.view.json_threads.run(
            self.view._decode_buffer, body, size=len(body)
        )
        del body
        response = await self._answer(request, caller, value)
        if response is None:
            request.scope[HANDOVER] = Handover(caller, value)
        return response

    async def _answer(self, request: Request, caller: Caller, value: object) -> Response | None:
        if not isinstance(value, dict) or value.get("extensions") is not None:
            return None
        query, variables = value.get("query"), value.get("variables")
        operation_name = value.get("operationName")
        if (not isinstance(query, str) or not isinstance(variables, dict | None)
                or not isinstance(operation_name, str | None)):
            return None
        prepared = self.prepared.direct(query, operation_name)
        if prepared is None:
            return None
        context = ArcosContext.of(self.services, caller, request=request)
        result = await prepared.plan.run(context, variables, prepared.sites)
        if result is None:
            return None
        self.answered += 1
        count_operation(self.view.operation_names, operation_name, result.get("errors"))
        return Response(encode(result), status_code=200, media_type="application/json")


def encode(result: dict[str, Any]) -> bytes:
    """The bytes the generic path's encoder (`arcos.web.preencoded.dumps`) writes.

    orjson refuses what the generic encoder escapes (a lone surrogate): such a value,
    like any non-ASCII output, is encoded the generic way rather than failing."""
    try:
        body = orjson.dumps(result)
    except orjson.JSONEncodeError:
        return dumps(result).encode()
    if NOT_PRINTABLE_ASCII.search(body) is None:
        return body
    return dumps(result).encode()


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower() == "application/json"

"""A tiny websocket client for both GraphQL subscription protocols, plus HTTP helpers,
used by the end-to-end subscription tests against a real uvicorn process."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PROTOCOLS = (TRANSPORT_WS, LEGACY_WS)

#: Upper bound for any single wait in these tests; a bug fails instead of hanging.
TIMEOUT = 10.0

EVIDENCE_ADDED = """
subscription($type: String, $project: String) {
  evidenceAdded(type: $type, project: $project) {
    id type source project { slug } data submittedBy
  }
}
"""

SUBMIT_EVIDENCE = """
mutation($i: SubmitEvidenceInput!) {
  submitEvidence(input: $i) { evidence { id } errors { field message code } }
}
"""


class ProtocolViolation(AssertionError):
    """The server sent something the protocol does not allow at this point."""


class SubscriptionClient:
    """One websocket speaking either graphql-transport-ws or the legacy graphql-ws.

    The two protocols differ only in message names, so tests are written once against
    `subscribe` / `next_payload` / `stop` and parametrized over the protocol.
    """

    def __init__(self, websocket: ClientConnection, protocol: str) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}")
        self.websocket = websocket
        self.protocol = protocol
        self.keep_alives = 0

    @property
    def legacy(self) -> bool:
        return self.protocol == LEGACY_WS

    async def send(self, message: dict[str, Any]) -> None:
        await self.websocket.send(json.dumps(message))

    async def receive(self, within: float = TIMEOUT) -> dict[str, Any]:
        """The next meaningful message: legacy 'ka' is counted and skipped, pings answered."""
        while True:
            raw = await asyncio.wait_for(self.websocket.recv(), within)
            message = json.loads(raw)
            if self.legacy and message.get("type") == "ka":
                self.keep_alives += 1
                continue
            if not self.legacy and message.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """connection_init, then wait for connection_ack (returned)."""
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)
        ack = await self.receive()
        if ack.get("type") != "connection_ack":
            raise ProtocolViolation(f"expected connection_ack, got {ack}")
        return ack

    async def subscribe(
        self, operation_id: str, query: str = EVIDENCE_ADDED,
        variables: dict[str, Any] | None = None,
    ) -> None:
        await self.send({
            "id": operation_id,
            "type": "start" if self.legacy else "subscribe",
            "payload": {"query": query, "variables": variables or {}},
        })

    async def stop(self, operation_id: str) -> None:
        """End one operation from the client side (legacy `stop`, new `complete`)."""
        await self.send({"id": operation_id, "type": "stop" if self.legacy else "complete"})

    async def next_payload(self, operation_id: str, within: float = TIMEOUT) -> dict[str, Any]:
        """The payload of the next result for `operation_id`; anything else is a failure."""
        message = await self.receive(within)
        expected = "data" if self.legacy else "next"
        if message.get("type") != expected or message.get("id") != operation_id:
            raise ProtocolViolation(f"expected {expected} for {operation_id!r}, got {message}")
        return message["payload"]

    async def next_evidence(self, operation_id: str, within: float = TIMEOUT) -> dict[str, Any]:
        """The evidenceAdded object of the next result, which must carry no errors."""
        payload = await self.next_payload(operation_id, within)
        if payload.get("errors"):
            raise ProtocolViolation(f"result carries errors: {payload}")
        return payload["data"]["evidenceAdded"]

    async def expect_error(
        self, operation_id: str, within: float = TIMEOUT
    ) -> list[dict[str, Any]]:
        """The errors of an `error` message for `operation_id`, always as a list.

        graphql-transport-ws sends a list of GraphQL errors, legacy graphql-ws one error.
        """
        message = await self.receive(within)
        if message.get("type") != "error" or message.get("id") != operation_id:
            raise ProtocolViolation(f"expected error for {operation_id!r}, got {message}")
        payload = message["payload"]
        return payload if isinstance(payload, list) else [payload]

    async def expect_complete(self, operation_id: str, within: float = TIMEOUT) -> None:
        message = await self.receive(within)
        if message.get("type") != "complete" or message.get("id") != operation_id:
            raise ProtocolViolation(f"expected complete for {operation_id!r}, got {message}")

    async def expect_silence(self, seconds: float) -> None:
        """Fail if any meaningful message arrives within `seconds` (keep-alives excepted)."""
        try:
            message = await self.receive(within=seconds)
        except TimeoutError:
            return
        raise ProtocolViolation(f"expected no message, got {message}")

    async def expect_close(self, within: float = TIMEOUT) -> tuple[int | None, str | None]:
        """Wait until the server closes the socket; return its close code and reason."""
        try:
            while True:
                await self.receive(within)
        except ConnectionClosed as closed:
            received = closed.rcvd
            return (received.code, received.reason) if received else (None, None)

    def abort(self) -> None:
        """Drop the TCP connection without a close frame or any protocol goodbye."""
        transport = self.websocket.transport
        if transport is not None:
            transport.abort()


def bearer(token: str | None) -> dict[str, Any] | None:
    """The connection_init payload that authenticates a websocket with `token`."""
    return {"authorization": f"Bearer {token}"} if token else None


@asynccontextmanager
async def ws_connect(
    url: str, protocol: str, *, token: str | None = None, init: bool = True,
    init_payload: dict[str, Any] | None = None,
) -> AsyncIterator[SubscriptionClient]:
    """An open websocket to `url` speaking `protocol`, initialised (with `token` in the
    connection_init payload) unless `init=False`."""
    async with connect(
        url, subprotocols=[Subprotocol(protocol)], open_timeout=TIMEOUT, close_timeout=2
    ) as websocket:
        client = SubscriptionClient(websocket, protocol)
        if init:
            await client.init(init_payload if init_payload is not None else bearer(token))
        yield client


async def open_client(url: str, protocol: str, token: str | None) -> SubscriptionClient:
    """An initialised client the caller must `abort()` or close itself (for bulk tests)."""
    websocket = await connect(url, subprotocols=[Subprotocol(protocol)], open_timeout=TIMEOUT)
    client = SubscriptionClient(websocket, protocol)
    await client.init(bearer(token))
    return client


@dataclass
class Api:
    """One live server seen from a test: HTTP GraphQL calls, /healthz, websockets."""

    http: httpx.AsyncClient
    http_url: str
    ws_url: str
    #: An admin token; calls use it unless given another.
    token: str

    async def graphql(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """POST one operation and return the decoded body (HTTP 200 required)."""
        response = await self.http.post(
            f"{self.http_url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"authorization": f"Bearer {token or self.token}"},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def submit(self, token: str | None = None, **fields: Any) -> str:
        """submitEvidence with `fields` as its input; returns the new id, fails on errors."""
        body = await self.graphql(SUBMIT_EVIDENCE, {"i": fields}, token)
        assert "errors" not in body, body
        payload = body["data"]["submitEvidence"]
        assert payload["errors"] == [], payload
        return payload["evidence"]["id"]

    async def issue_token(self, name: str, *scopes: str) -> str:
        """A new API token with `scopes`, issued by the admin over GraphQL."""
        body = await self.graphql(
            "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) "
            "{ token errors { message } } }",
            {"i": {"name": name, "scopes": list(scopes)}},
        )
        assert body["data"]["createApiToken"]["errors"] == [], body
        return body["data"]["createApiToken"]["token"]

    async def revoke_token(self, name: str) -> None:
        body = await self.graphql(
            "mutation($i: RevokeApiTokenInput!) { revokeApiToken(input: $i) "
            "{ errors { message } } }",
            {"i": {"token": name}},
        )
        assert body["data"]["revokeApiToken"]["errors"] == [], body

    async def subscriptions(self) -> int:
        """The broker's live subscriber count, from /healthz."""
        response = await self.http.get(f"{self.http_url}/healthz", timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return int(response.json()["subscriptions"])

    async def wait_for_subscriptions(self, expected: int, within: float = TIMEOUT) -> None:
        """Poll /healthz until the broker has exactly `expected` subscribers, or fail.

        Subscribing is asynchronous on the server, so tests wait here before publishing
        instead of sleeping and hoping.
        """
        deadline = time.monotonic() + within
        count = await self.subscriptions()
        while count != expected:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"/healthz reports {count} subscriptions after {within}s, "
                    f"expected {expected}"
                )
            await asyncio.sleep(0.05)
            count = await self.subscriptions()

    def connect(
        self, protocol: str, *, token: str | None = None, init: bool = True
    ) -> AbstractAsyncContextManager[SubscriptionClient]:
        """A websocket to this server, authenticated with `token` (default: the admin's)."""
        return ws_connect(self.ws_url, protocol, token=token or self.token, init=init)

    async def open(self, protocol: str) -> SubscriptionClient:
        """An authenticated client the caller must close or abort."""
        return await open_client(self.ws_url, protocol, self.token)

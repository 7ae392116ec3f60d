"""Issue #9, item 5 (the rest of the class): one principal's subscriptions are counted
across all its websockets and SSE streams, because each one costs the server its own copy
of every event.

Sockets times ARCOS_MAX_SUBSCRIPTIONS_PER_CONNECTION let one read token hold 1,280
subscriptions; ARCOS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL refuses the one past it with a coded
error naming the setting, and a completed operation or a closed socket gives its places
back. (That large messages to many subscribers take turns with other clients is tested in
test_hardening_responses.py.)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, start_server, stop_server
from ws_client import LEGACY_WS, TIMEOUT, TRANSPORT_WS, Api, SubscriptionClient

pytestmark = pytest.mark.server

LIMIT = 4


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(
        f"sqlite://{tmp_path / 'arcos.db'}", tmp_path / "server.log",
        extra_env={"ARCOS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL": str(LIMIT)},
    )
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
async def api(server: LiveServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        yield Api(http, server.http_url, server.ws_url, server.token)


async def expect_refused(client: SubscriptionClient, operation_id: str) -> None:
    payload = await client.next_payload(operation_id)
    [error] = payload["errors"]
    assert error["extensions"] == {
        "code": "TOO_MANY_OPERATIONS", "setting": "ARCOS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL",
        "limit": LIMIT,
    }, error
    assert f"ARCOS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL={LIMIT}" in error["message"]
    await client.expect_complete(operation_id)


def refused_stream(server: LiveServer, token: str) -> dict[str, object]:
    """The error event of an SSE stream the count refuses."""
    with httpx.stream(
        "GET", f"{server.http_url}/api/v3/evidence/stream", timeout=TIMEOUT,
        headers={"authorization": f"Bearer {token}"},
    ) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        for line in lines:
            if line == "event: error":
                return json.loads(next(lines).removeprefix("data: "))
    raise AssertionError("the stream ended without an error event")


async def test_subscriptions_are_capped_per_principal_across_sockets(
    server: LiveServer, api: Api
) -> None:
    reader = await api.issue_token("fan-out-reader", "evidence:read")
    async with (
        api.connect(TRANSPORT_WS, token=reader) as first,
        api.connect(LEGACY_WS, token=reader) as second,
    ):
        for n in range(3):
            await first.subscribe(f"a{n}")
        await api.wait_for_subscriptions(3)
        await second.subscribe("b0")
        await api.wait_for_subscriptions(LIMIT)
        # Past the count, on either socket and in either protocol, and for an SSE stream.
        await second.subscribe("b1")
        await expect_refused(second, "b1")
        await first.subscribe("a3")
        await expect_refused(first, "a3")
        error = refused_stream(server, reader)
        assert "ARCOS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL" in json.dumps(error), error

        # Another principal has its own count.
        async with api.connect(TRANSPORT_WS) as admin:
            await admin.subscribe("x")
            await api.wait_for_subscriptions(LIMIT + 1)
        await api.wait_for_subscriptions(LIMIT)

        # A completed subscription gives its place back ...
        await first.stop("a0")
        await api.wait_for_subscriptions(LIMIT - 1)
        await second.subscribe("b2")
        await api.wait_for_subscriptions(LIMIT)
        # ... and so does a closed socket, for each of its subscriptions.
        await first.websocket.close()
        await api.wait_for_subscriptions(2)
        for n in (3, 4):
            await second.subscribe(f"b{n}")
        await api.wait_for_subscriptions(LIMIT)
        await second.subscribe("b5")
        await expect_refused(second, "b5")
    assert "Traceback" not in server.log()

"""Issue #13: equal subscriptions share one execution per event (a cohort), and each member
keeps what is its own: its scopes' refusals, its token re-check, its queue, its end.

The server runs in this process (uvicorn on a real socket, the same protocol class as
`arcos serve`), so the resolver's event hook can be counted: `EvidenceType.from_event` is
called once per execution of an `evidenceAdded` event.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from functools import partial
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import uvicorn
from conftest import free_port
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol
from ws_client import (
    LEGACY_WS,
    PROTOCOLS,
    TIMEOUT,
    TRANSPORT_WS,
    Api,
    SubscriptionClient,
    bearer,
)

import arcos.auth.live
from arcos.app import create_app
from arcos.auth.caller import Caller
from arcos.auth.scopes import ADMIN
from arcos.auth.service import create_token
from arcos.evidence.types import EvidenceType
from arcos.graphql.cohorts import END, Member, Outgoing
from arcos.settings import Settings
from arcos.web.ws_protocol import ArcosWebSocketProtocol

pytestmark = pytest.mark.server

AFTER = """
subscription($after: String) { evidenceAdded(after: $after) { id } }
"""


class Executions:
    """Calls of `EvidenceType.from_event`: one per execution of an evidenceAdded event."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> Iterator[Executions]:
    counter = Executions()
    original = EvidenceType.from_event.__func__  # type: ignore[attr-defined]

    def counted(cls: Any, event: Any) -> Any:
        counter.count += 1
        return original(cls, event)

    monkeypatch.setattr(EvidenceType, "from_event", classmethod(counted))
    yield counter


@pytest.fixture
def members(monkeypatch: pytest.MonkeyPatch) -> list[Member]:
    """Every cohort member the server makes, in the order the operations joined."""
    made: list[Member] = []
    original = Member.__init__

    def recorded(self: Member, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(Member, "__init__", recorded)
    return made


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Api]:
    """The app on a real socket in this process, and an admin `Api` for it."""
    app = create_app(settings.replace(bootstrap_admin=False))
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_level="warning",
        ws=partial(ArcosWebSocketProtocol, max_init_bytes=settings.ws_max_init_bytes),
        ws_max_size=settings.ws_max_message_bytes,
        ws_per_message_deflate=settings.ws_compression,
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the server did not start"
            await asyncio.sleep(0.02)
        issued = await create_token("test-admin", frozenset({ADMIN}), app.state.writer)
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            yield Api(http, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/graphql",
                      issued.secret)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with serving(settings.replace(auth_recheck_seconds=0.2)) as running:
        yield running


async def subscribed(api: Api, protocol: str, token: str, count: int,
                     query: str | None = None,
                     variables: dict[str, Any] | None = None) -> list[SubscriptionClient]:
    """`count` sockets authenticated with `token`, each subscribed once (id "s")."""
    clients = []
    for _ in range(count):
        websocket = await connect(api.ws_url, subprotocols=[Subprotocol(protocol)],
                                  open_timeout=TIMEOUT, max_size=None)
        client = SubscriptionClient(websocket, protocol)
        await client.init(bearer(token))
        if query is None:
            await client.subscribe("s", variables=variables)
        else:
            await client.subscribe("s", query=query, variables=variables)
        clients.append(client)
    return clients


async def close_all(clients: list[SubscriptionClient]) -> None:
    for client in clients:
        await client.websocket.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_equal_subscriptions_share_one_execution_per_event(
    api: Api, executions: Executions, protocol: str
) -> None:
    reader = await api.issue_token("reader", "evidence:read")
    other_reader = await api.issue_token("other-reader", "evidence:read")
    clients = [
        *await subscribed(api, protocol, reader, 3),
        # Another principal with the same scopes: evidenceAdded depends on scopes only.
        *await subscribed(api, protocol, other_reader, 2),
    ]
    try:
        await api.wait_for_subscriptions(5)
        evidence_id = await api.submit(type="build", source="ci", data={"n": 1})
        received = [await client.next_evidence("s") for client in clients]
        assert {event["id"] for event in received} == {evidence_id}
        assert executions.count == 1
        # Other variables, another cohort.
        [filtered] = await subscribed(api, protocol, reader, 1, variables={"type": "build"})
        clients.append(filtered)
        await api.wait_for_subscriptions(6)
        second = await api.submit(type="build", source="ci", data={"n": 2})
        for client in clients:
            assert (await client.next_evidence("s"))["id"] == second
        assert executions.count == 3
    finally:
        await close_all(clients)
    await api.wait_for_subscriptions(0)


async def test_different_scopes_get_different_cohorts_and_a_refusal_stays_a_refusal(
    api: Api, executions: Executions
) -> None:
    reader = await api.issue_token("reader", "evidence:read")
    wider = await api.issue_token("wider", "evidence:read", "evidence:write")
    plugins_only = await api.issue_token("plugins-only", "plugins:read")
    clients = [
        *await subscribed(api, TRANSPORT_WS, reader, 2),
        *await subscribed(api, TRANSPORT_WS, wider, 2),
    ]
    [refused] = await subscribed(api, TRANSPORT_WS, plugins_only, 1)
    try:
        # The caller without evidence:read is refused as before, with its own token named.
        [error] = await refused.expect_error("s")
        assert error["extensions"]["code"] == "FORBIDDEN", error
        assert "plugins-only" in error["message"]
        await api.wait_for_subscriptions(4)
        evidence_id = await api.submit(type="build", source="ci", data={})
        for client in clients:
            assert (await client.next_evidence("s"))["id"] == evidence_id
        assert executions.count == 2  # one per scope set
        await refused.expect_silence(0.3)
    finally:
        await close_all([*clients, refused])


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_completing_one_member_leaves_the_others(
    api: Api, executions: Executions, protocol: str
) -> None:
    clients = await subscribed(api, protocol, api.token, 3)
    try:
        await api.wait_for_subscriptions(3)
        await clients[0].stop("s")
        if clients[0].legacy:
            await clients[0].expect_complete("s")
        await api.wait_for_subscriptions(2)
        evidence_id = await api.submit(type="build", source="ci", data={})
        for client in clients[1:]:
            assert (await client.next_evidence("s"))["id"] == evidence_id
        await clients[0].expect_silence(0.3)
        assert executions.count == 1
        # The last members leaving close the shared stream.
        await close_all(clients[1:])
        await api.wait_for_subscriptions(0)
    finally:
        await close_all(clients)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_revoked_member_ends_while_the_others_go_on(
    api: Api, executions: Executions, protocol: str
) -> None:
    doomed = await api.issue_token("doomed", "evidence:read")
    keeper = await api.issue_token("keeper", "evidence:read")
    [revoked] = await subscribed(api, protocol, doomed, 1)
    [kept] = await subscribed(api, protocol, keeper, 1)
    try:
        await api.wait_for_subscriptions(2)
        first = await api.submit(type="build", source="ci", data={})
        assert (await revoked.next_evidence("s"))["id"] == first
        assert (await kept.next_evidence("s"))["id"] == first
        assert executions.count == 1
        await api.revoke_token("doomed")
        # Within ARCOS_AUTH_RECHECK_SECONDS (0.2 s here) the revoked member learns why.
        payload = await revoked.next_payload("s")
        assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", payload
        await revoked.expect_complete("s")
        await api.wait_for_subscriptions(1)
        second = await api.submit(type="build", source="ci", data={})
        assert (await kept.next_evidence("s"))["id"] == second
        await revoked.expect_silence(0.3)
    finally:
        await close_all([revoked, kept])


#: Bounds the events the slow-member test sends before the stuck socket must be cut off:
#: far more than the kernel's and the client's buffers hold of either size.
MAX_EVENTS_BEFORE_CUT_OFF = 400


@pytest.mark.parametrize("blob", [
    pytest.param(2_000_000, id="large-events-through-the-send-lane"),
    pytest.param(40_000, id="small-events-written-straight-to-the-socket"),
])
async def test_a_slow_member_is_cut_off_while_the_others_keep_receiving(
    settings: Settings, executions: Executions, members: list[Member], blob: int
) -> None:
    # It writes until the server cuts the stuck member off (hundreds of events): the
    # write limiter has its own tests.
    lifted = settings.replace(subscriber_queue_size=2, write_rate_per_minute=1_000_000,
                              write_burst=1_000_000)
    async with serving(lifted) as api:
        # A socket that stops reading once one message waits unread (max_queue=1): its
        # server-side buffers fill with (uncompressed) events.
        stuck_socket = await connect(
            api.ws_url, subprotocols=[Subprotocol(TRANSPORT_WS)], open_timeout=TIMEOUT,
            max_size=None, max_queue=1, compression=None,
        )
        stuck = SubscriptionClient(stuck_socket, TRANSPORT_WS)
        await stuck.init(bearer(api.token))
        await stuck.subscribe("s")
        readers = await subscribed(api, TRANSPORT_WS, api.token, 2)
        try:
            await api.wait_for_subscriptions(3)
            [stuck_member] = [
                member for member in members
                if member.context.request.client.port == stuck_socket.local_address[1]
            ]
            ids = []
            # How many events the kernel's buffers absorb depends on the machine: send
            # until the server has cut the stuck member off, not a fixed number.
            while not stuck_member.ended:
                assert len(ids) < MAX_EVENTS_BEFORE_CUT_OFF, "the stuck member was never cut off"
                ids.append(await api.submit(type="build", source="ci",
                                            data={"n": len(ids), "blob": "x" * blob}))
                # Each reader keeps up, so only the stuck one falls behind.
                for reader in readers:
                    assert (await reader.next_evidence("s", within=30))["id"] == ids[-1]
            # One more event: the readers still get it, the stuck member nothing more.
            ids.append(await api.submit(type="build", source="ci", data={"n": len(ids)}))
            for reader in readers:
                assert (await reader.next_evidence("s", within=30))["id"] == ids[-1]
            assert executions.count == len(ids)
            seen = []
            while True:
                payload = await stuck.next_payload("s", within=30)
                if payload.get("errors"):
                    break
                seen.append(payload["data"]["evidenceAdded"]["id"])
            assert payload["errors"][0]["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW", payload
            # What it did get came in order, with no gap, and stopped before the end.
            assert seen == ids[:len(seen)] and len(seen) < len(ids) - 1
            await stuck.expect_complete("s", within=30)
            await api.wait_for_subscriptions(2)
        finally:
            await close_all([stuck, *readers])


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_members_that_keep_up_get_events_without_their_queue(
    api: Api, executions: Executions, members: list[Member], protocol: str
) -> None:
    """The cohort writes a small event straight to each member's socket: no member's
    queue (nor task) is involved, and every member still gets every event, in order."""
    clients = await subscribed(api, protocol, api.token, 3)
    try:
        await api.wait_for_subscriptions(3)
        ids = [await api.submit(type="build", source="ci", data={"n": n}) for n in range(3)]
        for client in clients:
            assert [(await client.next_evidence("s"))["id"] for _ in ids] == ids
        assert executions.count == len(ids)
        assert members[0].cohort.hub.queued == 0
    finally:
        await close_all(clients)


def lone_member() -> Member:
    """A cohort member without a server: a token-less caller, a queue of 10."""
    hub = SimpleNamespace(queued=0)
    cohort = SimpleNamespace(hub=hub, topic="evidence", remove=lambda member: None)
    context = SimpleNamespace(
        settings=SimpleNamespace(subscriber_queue_size=10, auth_recheck_seconds=60.0),
        caller=Caller(name="reader", scopes=frozenset(), authenticated=True),
        domain_services={},
    )
    return Member(cohort, context)  # type: ignore[arg-type]


async def test_once_an_event_is_queued_the_next_ones_queue_behind_it() -> None:
    """Order per member: an event the socket could not take at once is queued for the
    member's task, and later events queue behind it even when the socket could take them,
    until the task has sent what was queued; then they go straight to the socket again."""
    member = lone_member()
    hub = member.cohort.hub
    socket: list[str] = []  # what the member's socket got, in order
    full = True

    def direct(outgoing: Outgoing) -> bool:
        if full:
            return False
        socket.append(outgoing.text)
        return True

    async def task() -> None:  # the member's operation: it sends what it takes from the queue
        async for item in member.items(direct):
            if isinstance(item, str):
                socket.append(item)

    running = asyncio.create_task(task())
    await asyncio.sleep(0)

    def publish(text: str) -> None:
        member.offer(text, Outgoing(text))

    publish("1")  # the socket is full: queued
    full = False
    publish("2")  # the socket could take it, but "1" is still unsent
    for _ in range(5):
        await asyncio.sleep(0)
    publish("3")  # nothing unsent any more: straight to the socket
    member.end(END)
    await asyncio.wait_for(running, TIMEOUT)
    assert socket == ["1", "2", "3"]
    assert hub.queued == 2


async def test_a_failing_direct_write_falls_back_on_the_members_queue() -> None:
    """A writer that raises costs neither the event nor the cohort's pass (which would end
    every member's stream): the event is queued for the member's own task."""
    member = lone_member()
    taken: list[str] = []

    def broken(outgoing: Outgoing) -> bool:
        raise RuntimeError("the socket is in a state nobody expected")

    async def task() -> None:
        async for item in member.items(broken):
            if isinstance(item, str):
                taken.append(item)

    running = asyncio.create_task(task())
    await asyncio.sleep(0)
    member.offer("1", Outgoing("1"))
    member.offer("2", Outgoing("2"))
    member.end(END)
    await asyncio.wait_for(running, TIMEOUT)
    assert taken == ["1", "2"]


async def test_nothing_is_written_straight_to_a_member_whose_revocation_is_being_checked(
    api: Api, members: list[Member], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the token's revocation is signalled, the member's events wait for its re-check
    (held here until the next event was published), which ends it: the revoked client never
    sees that event, while a member with another token gets it at once."""
    doomed = await api.issue_token("doomed", "evidence:read")
    keeper = await api.issue_token("keeper", "evidence:read")
    [revoked] = await subscribed(api, TRANSPORT_WS, doomed, 1)
    [kept] = await subscribed(api, TRANSPORT_WS, keeper, 1)
    held = asyncio.Event()
    released = asyncio.Event()
    still_valid = arcos.auth.live.token_still_valid

    async def held_check(token_id: int) -> bool:
        if held.is_set():
            await released.wait()
        return await still_valid(token_id)

    monkeypatch.setattr(arcos.auth.live, "token_still_valid", held_check)
    try:
        await api.wait_for_subscriptions(2)
        held.set()
        await api.revoke_token("doomed")
        second = await api.submit(type="build", source="ci", data={})
        assert (await kept.next_evidence("s"))["id"] == second
        released.set()
        payload = await revoked.next_payload("s")
        assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", payload
        await revoked.expect_complete("s")
        assert members[0].cohort.hub.queued == 1  # the doomed member's, never sent
    finally:
        released.set()
        await close_all([revoked, kept])


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_resumed_subscription_is_not_shared(
    api: Api, executions: Executions, protocol: str
) -> None:
    first = await api.submit(type="build", source="ci", data={"n": 0})
    body = await api.graphql("{ evidenceConnection(first: 1) { edges { cursor } } }")
    cursor = body["data"]["evidenceConnection"]["edges"][0]["cursor"]
    missed = await api.submit(type="build", source="ci", data={"n": 1})
    clients = await subscribed(api, protocol, api.token, 2, query=AFTER,
                               variables={"after": cursor})
    try:
        for client in clients:  # each gets its own replay
            assert (await client.next_payload("s"))["data"]["evidenceAdded"]["id"] == missed
        await api.wait_for_subscriptions(2)
        live = await api.submit(type="build", source="ci", data={"n": 2})
        for client in clients:
            assert (await client.next_payload("s"))["data"]["evidenceAdded"]["id"] == live
        assert executions.count == 2  # one live execution per subscriber
        assert first != missed
    finally:
        await close_all(clients)


async def test_members_get_the_same_bytes_with_their_own_id(api: Api) -> None:
    raw = []
    sockets = []
    for operation_id in ("one", "two"):
        websocket = await connect(api.ws_url, subprotocols=[Subprotocol(TRANSPORT_WS)],
                                  open_timeout=TIMEOUT)
        sockets.append(websocket)
        await websocket.send(json.dumps({"type": "connection_init",
                                         "payload": bearer(api.token)}))
        assert json.loads(await websocket.recv())["type"] == "connection_ack"
        await websocket.send(json.dumps({"id": operation_id, "type": "subscribe",
                                         "payload": {"query": AFTER}}))
    try:
        await api.wait_for_subscriptions(2)
        await api.submit(type="build", source="ci", data={"text": "é"})
        for websocket in sockets:
            raw.append(await asyncio.wait_for(websocket.recv(), TIMEOUT))
        one, two = (json.loads(text) for text in raw)
        assert (one["id"], two["id"]) == ("one", "two")
        assert one["payload"] == two["payload"]
        assert raw[0].replace('"one"', '"two"', 1) == raw[1]
    finally:
        for websocket in sockets:
            await websocket.close()

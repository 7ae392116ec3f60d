"""End-to-end subscription tests: real uvicorn, real sockets, both websocket subprotocols.

Every wait is bounded (see ws_client.TIMEOUT) so a server bug fails a test instead of
hanging it; nothing here asserts on wall-clock speed.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import REPO_ROOT, LiveServer, free_port, start_server, stop_server
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol
from ws_client import LEGACY_WS, PROTOCOLS, TIMEOUT, TRANSPORT_WS, Api, SubscriptionClient

pytestmark = pytest.mark.server

EXAMPLES = REPO_ROOT / "examples"
#: How long to listen for a message that must not come (a duplicate, a filtered event).
QUIET_PERIOD = 0.5


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        yield client


def api_for(server: LiveServer, http: httpx.AsyncClient) -> Api:
    return Api(http, server.http_url, server.ws_url, server.token)


def assert_still_running(server: LiveServer) -> None:
    """Name the real cause when a test failed because its server went away mid-test."""
    code = server.process.poll()
    if code is None:
        return
    how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
    raise AssertionError(
        f"the live server (pid {server.process.pid}) stopped during the test ({how}). A "
        "SIGTERM usually comes from outside, e.g. `pkill -f 'arcos serve'` in another shell; "
        f"rerun. Log tail:\n{server.log()[-2000:]}"
    )


@pytest.fixture
def api(sqlite_live_server: LiveServer, http: httpx.AsyncClient) -> Iterator[Api]:
    """The fresh SQLite live server, driven with its admin token."""
    yield api_for(sqlite_live_server, http)
    assert_still_running(sqlite_live_server)


@pytest.fixture
def store_api(live_server: LiveServer, http: httpx.AsyncClient) -> Iterator[Api]:
    """A fresh live server on each store (SQLite, then PostgreSQL when configured)."""
    yield api_for(live_server, http)
    assert_still_running(live_server)


@pytest.fixture(scope="module")
def tuned_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server shared by the edge-case tests, with small limits: 3 subscriptions
    per connection, 1 s to send connection_init, tokens re-checked every 0.3 s, and 2
    events buffered per subscriber."""
    directory = tmp_path_factory.mktemp("tuned")
    server = start_server(
        f"sqlite://{directory / 'arcos.db'}", directory / "server.log",
        extra_env={
            "ARCOS_MAX_SUBSCRIPTIONS_PER_CONNECTION": "3",
            "ARCOS_WS_INIT_TIMEOUT_SECONDS": "1",
            "ARCOS_AUTH_RECHECK_SECONDS": "0.3",
            "ARCOS_SUBSCRIBER_QUEUE_SIZE": "2",
        },
    )
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
async def tuned(tuned_server: LiveServer, http: httpx.AsyncClient) -> AsyncIterator[Api]:
    """The shared tuned server, idle at the start; its log must gain no traceback."""
    api = api_for(tuned_server, http)
    await api.wait_for_subscriptions(0)  # the previous test's sockets are gone
    log_start = len(tuned_server.log())
    yield api
    assert_still_running(tuned_server)
    assert_no_traceback(tuned_server.log()[log_start:])


def assert_no_traceback(log: str) -> None:
    assert "Traceback" not in log, log
    assert "Task exception was never retrieved" not in log, log


async def receive_evidence_by_id(
    client: SubscriptionClient, count: int
) -> dict[str, dict[str, Any]]:
    """The next `count` results on one connection, keyed by operation id.

    Several operations on one socket interleave in no guaranteed order.
    """
    by_id: dict[str, dict[str, Any]] = {}
    result_type = "data" if client.legacy else "next"
    for _ in range(count):
        message = await client.receive()
        assert message["type"] == result_type, message
        assert "errors" not in message["payload"], message
        assert message["id"] not in by_id, f"second result for {message['id']}: {message}"
        by_id[message["id"]] = message["payload"]["data"]["evidenceAdded"]
    return by_id


# 1. Both subprotocols, the whole round trip ------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscription_receives_evidence_submitted_over_http(
    api: Api, sqlite_live_server: LiveServer, protocol: str
) -> None:
    reader = await api.issue_token("dashboard", "evidence:read")
    writer = await api.issue_token("jenkins", "evidence:write")
    async with api.connect(protocol, token=reader) as client:
        assert client.websocket.subprotocol == protocol
        await client.subscribe("op-1")
        await api.wait_for_subscriptions(1)

        evidence_id = await api.submit(
            writer, type="test_results", source="jenkins", project="GitHub.com/Acme/Widget",
            data={"passed": 12, "failed": 0},
        )
        event = await client.next_evidence("op-1")
        assert event == {
            "id": evidence_id,
            "type": "test_results",
            "source": "jenkins",
            "project": {"slug": "github.com/acme/widget"},
            "data": {"passed": 12, "failed": 0},
            "submittedBy": "jenkins",
        }

        if protocol == TRANSPORT_WS:
            await client.send({"type": "ping"})
            assert await client.receive() == {"type": "pong"}
        else:
            # The server's first `ka` follows connection_ack at once; the client skipped it.
            assert client.keep_alives >= 1

        await client.stop("op-1")
        if protocol == LEGACY_WS:
            # Legacy graphql-ws acknowledges `stop` with `complete`; graphql-transport-ws
            # sends nothing back for a client `complete`.
            await client.expect_complete("op-1")
        await api.wait_for_subscriptions(0)

        # Stopped means stopped: later evidence reaches nobody, and the socket stays usable.
        await api.submit(writer, type="test_results", source="jenkins", data={})
        await client.expect_silence(QUIET_PERIOD)
        await client.subscribe("op-2")
        await api.wait_for_subscriptions(1)
    await api.wait_for_subscriptions(0)
    assert_no_traceback(sqlite_live_server.log())


# 2. Server-side filters ---------------------------------------------------------------------


async def test_type_and_project_filters_are_applied_on_the_server(api: Api) -> None:
    async with api.connect(TRANSPORT_WS) as by_type, api.connect(LEGACY_WS) as by_project:
        await by_type.subscribe("t", variables={"type": "coverage"})
        # Project filters compare slugs case-insensitively, like the store does.
        await by_project.subscribe("p", variables={"project": "GitHub.com/Acme/Wanted"})
        await api.wait_for_subscriptions(2)

        async def submit(type_: str, project: str) -> str:
            return await api.submit(type=type_, source="ci", project=project, data={})

        await submit("test_results", "github.com/acme/other")  # matches neither
        type_match = await submit("coverage", "github.com/acme/other")
        project_match = await submit("test_results", "github.com/acme/wanted")
        both_match = await submit("coverage", "github.com/acme/wanted")

        assert (await by_type.next_evidence("t"))["id"] == type_match
        assert (await by_type.next_evidence("t"))["id"] == both_match
        first = await by_project.next_evidence("p")
        assert first["id"] == project_match
        assert first["project"] == {"slug": "github.com/acme/wanted"}
        assert (await by_project.next_evidence("p"))["id"] == both_match
        await asyncio.gather(
            by_type.expect_silence(QUIET_PERIOD), by_project.expect_silence(QUIET_PERIOD)
        )


@pytest.fixture
def crowd_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A live server that lets one principal hold 200 websockets and subscriptions (the
    defaults are fewer)."""
    server = start_server(
        f"sqlite://{tmp_path / 'arcos.db'}", tmp_path / "server.log",
        extra_env={
            "ARCOS_MAX_LIVE_CONNECTIONS_PER_PRINCIPAL": "200",
            "ARCOS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL": "200",
            "ARCOS_WS_MAX_PENDING_PER_ADDRESS": "200",
        },
    )
    try:
        yield server
    finally:
        stop_server(server)


# 3. Fan-out -------------------------------------------------------------------------------


async def test_fifty_subscribers_each_receive_one_event_exactly_once(
    crowd_server: LiveServer, http: httpx.AsyncClient
) -> None:
    api = api_for(crowd_server, http)
    clients = await asyncio.gather(*(api.open(PROTOCOLS[i % 2]) for i in range(50)))
    try:
        await asyncio.gather(*(client.subscribe(f"sub-{i}") for i, client in enumerate(clients)))
        await api.wait_for_subscriptions(50)

        evidence_id = await api.submit(type="sbom", source="syft", data={"packages": 3})
        events = await asyncio.gather(
            *(client.next_evidence(f"sub-{i}") for i, client in enumerate(clients))
        )
        assert [event["id"] for event in events] == [evidence_id] * 50
        await asyncio.gather(*(client.expect_silence(QUIET_PERIOD) for client in clients))
    finally:
        await asyncio.gather(*(client.websocket.close() for client in clients))
    await api.wait_for_subscriptions(0)


# 4. Abrupt disconnects release their subscriptions ------------------------------------------


async def test_abruptly_dropped_connections_release_their_subscriptions(
    crowd_server: LiveServer, http: httpx.AsyncClient
) -> None:
    api = api_for(crowd_server, http)
    batch_size, batches = 50, 4
    clients: list[SubscriptionClient] = []
    try:
        for _ in range(batches):
            batch = await asyncio.gather(
                *(api.open(PROTOCOLS[i % 2]) for i in range(batch_size))
            )
            await asyncio.gather(*(client.subscribe("sub") for client in batch))
            clients.extend(batch)
            # Every one of them really holds a subscription before it is dropped.
            await api.wait_for_subscriptions(len(clients))
        for start in range(0, len(clients), batch_size):
            for client in clients[start:start + batch_size]:
                client.abort()  # TCP gone: no complete, no stop, no close frame
            await asyncio.sleep(0.05)
    finally:
        for client in clients:
            client.abort()

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    count = await api.subscriptions()
    while count != 0 and loop.time() < deadline:
        await asyncio.sleep(0.1)
        count = await api.subscriptions()
    assert count == 0, f"{count} subscriptions still live 10 s after 200 clients dropped"

    # The server is still healthy: a new subscriber gets new evidence.
    async with api.connect(TRANSPORT_WS) as client:
        await client.subscribe("after")
        await api.wait_for_subscriptions(1)
        evidence_id = await api.submit(type="build", source="ci", data={})
        assert (await client.next_evidence("after"))["id"] == evidence_id
    assert_no_traceback(crowd_server.log())


# 5. Both stores ------------------------------------------------------------------------------


async def test_subscription_sees_evidence_committed_to_either_store(
    store_api: Api, live_server: LiveServer
) -> None:
    api = store_api
    async with api.connect(TRANSPORT_WS) as client:
        await client.subscribe("op", variables={"project": "github.com/acme/stores"})
        await api.wait_for_subscriptions(1)
        ids = [
            await api.submit(
                type="vulnerability", source="grype", project="github.com/acme/stores",
                data={"n": n},
            )
            for n in range(3)
        ]
        events = [await client.next_evidence("op") for _ in ids]
        assert [event["id"] for event in events] == ids
        assert [event["data"] for event in events] == [{"n": 0}, {"n": 1}, {"n": 2}]
        assert {event["project"]["slug"] for event in events} == {"github.com/acme/stores"}
    assert_no_traceback(live_server.log())


# 6. Protocol edge cases -----------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscribe_before_connection_init_closes_4401(tuned: Api, protocol: str) -> None:
    async with tuned.connect(protocol, init=False) as client:
        await client.subscribe("early")
        code, _ = await client.expect_close()
        assert code == 4401
    assert await tuned.subscriptions() == 0


async def test_missing_connection_init_times_out_with_4408(tuned: Api) -> None:
    async with tuned.connect(TRANSPORT_WS, init=False) as client:
        code, reason = await client.expect_close()
        assert code == 4408, reason


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_invalid_subscription_gets_coded_error_and_connection_survives(
    tuned: Api, protocol: str
) -> None:
    api = tuned
    async with api.connect(protocol) as client:
        await client.subscribe("bad", query="subscription { evidenceAdded { noSuchField } }")
        errors = await client.expect_error("bad")
        assert errors, "an error message must carry at least one error"
        assert all(e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" for e in errors), errors
        assert "noSuchField" in errors[0]["message"]

        await client.subscribe("bad-variable", variables={"type": 7})
        errors = await client.expect_error("bad-variable")
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", errors

        # The failed operations did not take the socket (or a subscription slot) with them.
        await client.subscribe("good")
        await api.wait_for_subscriptions(1)
        evidence_id = await api.submit(type="build", source="ci", data={})
        assert (await client.next_evidence("good"))["id"] == evidence_id


UNPARSABLE = {
    "syntax-error": ("subscription { evidenceAdded(", "Syntax Error"),
    # More than the default ARCOS_MAX_TOKENS (2000): refused while parsing.
    "too-many-tokens": ("subscription { evidenceAdded { " + "id " * 2100 + "} }", "tokens"),
}


@pytest.mark.parametrize("document", UNPARSABLE.values(), ids=UNPARSABLE.keys())
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_unparsable_subscription_gets_parse_error_and_connection_survives(
    tuned: Api, protocol: str, document: tuple[str, str]
) -> None:
    # Regression: parse failures used to escape the parser-cache extension, so the
    # operation task crashed (a bare `complete` or no answer at all, plus a traceback).
    query, expected_text = document
    api = tuned
    async with api.connect(protocol) as client:
        await client.subscribe("broken", query=query)
        errors = await client.expect_error("broken")
        assert errors[0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", errors
        assert expected_text in errors[0]["message"], errors

        await client.subscribe("good")
        await api.wait_for_subscriptions(1)
        evidence_id = await api.submit(type="build", source="ci", data={})
        assert (await client.next_evidence("good"))["id"] == evidence_id


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscription_cap_refuses_only_the_extra_operation(
    tuned: Api, protocol: str
) -> None:
    async with tuned.connect(protocol) as client:
        for name in ("a", "b", "c"):
            await client.subscribe(name)
        await tuned.wait_for_subscriptions(3)

        await client.subscribe("d")
        errors = await client.expect_error("d")
        assert "subscription" in errors[0]["message"].lower(), errors
        assert await tuned.subscriptions() == 3

        evidence_id = await tuned.submit(type="build", source="ci", data={})
        events = await receive_evidence_by_id(client, 3)
        assert {name: event["id"] for name, event in events.items()} == {
            "a": evidence_id, "b": evidence_id, "c": evidence_id
        }

        # Ending one operation frees its slot for a new one.
        await client.stop("a")
        if client.legacy:
            await client.expect_complete("a")
        await tuned.wait_for_subscriptions(2)
        await client.subscribe("e")
        await tuned.wait_for_subscriptions(3)
        evidence_id = await tuned.submit(type="build", source="ci", data={})
        events = await receive_evidence_by_id(client, 3)
        assert set(events) == {"b", "c", "e"}
        assert {event["id"] for event in events.values()} == {evidence_id}
    await tuned.wait_for_subscriptions(0)


@pytest.mark.parametrize("offered", [["graphql-unknown"], []], ids=["unknown", "none"])
async def test_websocket_without_a_known_subprotocol_is_refused(
    tuned: Api, offered: list[str]
) -> None:
    try:
        async with connect(
            tuned.ws_url, subprotocols=[Subprotocol(p) for p in offered] or None,
            open_timeout=TIMEOUT,
        ) as websocket:
            assert websocket.subprotocol is None
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(websocket.recv(), TIMEOUT)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4406, closed.value.rcvd
    except InvalidHandshake:
        pass  # refusing the handshake outright is just as good
    assert await tuned.subscriptions() == 0


SUBMIT_BATCH = """
mutation($i: SubmitEvidenceBatchInput!) {
  submitEvidenceBatch(input: $i) { evidence { id } errors { message } }
}
"""


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscriber_that_falls_behind_is_cut_off_with_a_reason(
    tuned: Api, protocol: str
) -> None:
    # The broker buffers 2 events per subscriber here; a batch publishes its 5 at once.
    async with tuned.connect(protocol) as client:
        await client.subscribe("slow")
        await tuned.wait_for_subscriptions(1)
        items = [{"type": "build", "source": "ci", "data": {"n": n}} for n in range(5)]
        body = await tuned.graphql(SUBMIT_BATCH, {"i": {"items": items}})
        assert body["data"]["submitEvidenceBatch"]["errors"] == [], body
        stored = [e["id"] for e in body["data"]["submitEvidenceBatch"]["evidence"]]

        received = [(await client.next_evidence("slow"))["id"] for _ in range(2)]
        assert received == stored[:2]
        payload = await client.next_payload("slow")
        assert payload["errors"][0]["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW", payload
        assert "evidenceConnection" in payload["errors"][0]["message"]
        await client.expect_complete("slow")
        await tuned.wait_for_subscriptions(0)


async def test_server_shutdown_ends_open_subscriptions_cleanly(
    sqlite_live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    server = sqlite_live_server
    api = api_for(server, http)
    async with api.connect(TRANSPORT_WS) as modern, api.connect(LEGACY_WS) as legacy:
        await modern.subscribe("m")
        await legacy.subscribe("l")
        await api.wait_for_subscriptions(2)
        server.process.terminate()
        for client in (modern, legacy):
            # Either a `complete` first or straight to the close; never a hang.
            try:
                message = await client.receive()
                assert message["type"] == "complete", message
                code, _ = await client.expect_close()
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
            assert code in {1000, 1001, 1012}, code
    exit_code = await asyncio.wait_for(asyncio.to_thread(server.process.wait), TIMEOUT)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert exit_code in {0, -signal.SIGTERM}, exit_code
    assert_no_traceback(server.log())


# Authentication over websockets ----------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_websocket_refuses_missing_or_invalid_tokens_at_connection_init(
    tuned: Api, protocol: str
) -> None:
    api = tuned
    credentials: dict[str, dict[str, Any] | None] = {
        "no payload": None,
        "no authorization": {},
        "not bearer": {"authorization": "Basic dXNlcjpwYXNz"},
        "unknown token": {"authorization": "Bearer arcos_" + "x" * 43},
    }
    for label, payload in credentials.items():
        async with api.connect(protocol, init=False) as client:
            message: dict[str, Any] = {"type": "connection_init"}
            if payload is not None:
                message["payload"] = payload
            await client.send(message)
            if client.legacy:
                refusal = await client.receive()
                assert refusal["type"] == "connection_error", (label, refusal)
                assert refusal["payload"]["message"], (label, refusal)
                code, _ = await client.expect_close()
                assert code is not None and code >= 1000, label
            else:
                code, _ = await client.expect_close()
                assert code == 4403, label
    assert await api.subscriptions() == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_token_without_read_scope_cannot_subscribe(tuned: Api, protocol: str) -> None:
    api = tuned
    writer = await api.issue_token(f"writer-only-{protocol}", "evidence:write")
    async with api.connect(protocol, token=writer) as client:
        await client.subscribe("s")
        errors = await client.expect_error("s")
        assert errors[0]["extensions"]["code"] == "FORBIDDEN", errors
        assert "evidence:read" in errors[0]["message"]
        assert await api.subscriptions() == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_revoking_a_token_ends_its_open_subscription(tuned: Api, protocol: str) -> None:
    name = f"board-{protocol}"
    reader = await tuned.issue_token(name, "evidence:read")
    async with tuned.connect(protocol, token=reader) as client:
        await client.subscribe("live")
        await tuned.wait_for_subscriptions(1)
        evidence_id = await tuned.submit(type="build", source="ci", data={})
        assert (await client.next_evidence("live"))["id"] == evidence_id

        await tuned.revoke_token(name)
        payload = await client.next_payload("live")
        assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", payload
        await client.expect_complete("live")
        await tuned.wait_for_subscriptions(0)


# Regressions: bugs found by these tests, fixed -----------------------------------------------


async def test_legacy_protocol_answers_queries_and_mutations_without_internal_errors(
    api: Api, sqlite_live_server: LiveServer
) -> None:
    documents = {
        "query": "{ viewer { name } }",
        "mutation": 'mutation { submitEvidence(input: {type: "build", source: "ci", data: {}}) '
                    "{ errors { message } } }",
    }
    async with api.connect(LEGACY_WS) as client:
        for kind, document in documents.items():
            await client.subscribe(kind, query=document)
            message = await client.receive()
            assert message["id"] == kind, message
            if message["type"] == "error":  # refusing is fine, with a reason and a code
                assert message["payload"]["extensions"]["code"] != "INTERNAL_SERVER_ERROR", (
                    kind, message,
                )
            else:  # executing it is fine too
                assert message["type"] == "data", message
                assert not message["payload"].get("errors"), message
                await client.expect_complete(kind)
    assert_no_traceback(sqlite_live_server.log())


async def test_subscription_over_plain_http_is_refused_with_a_reason(
    api: Api, sqlite_live_server: LiveServer
) -> None:
    response = await api.http.post(
        f"{api.http_url}/graphql", json={"query": "subscription { evidenceAdded { id } }"},
        headers={"authorization": f"Bearer {api.token}"},
    )
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] != "INTERNAL_SERVER_ERROR", errors
    assert "websocket" in errors[0]["message"].lower(), errors
    assert_no_traceback(sqlite_live_server.log())


async def test_each_query_over_a_websocket_sees_current_data(tuned: Api) -> None:
    slug = "github.com/acme/loaders"
    query = f'{{ project(slug: "{slug}") {{ evidenceCount evidence {{ totalCount }} }} }}'
    await tuned.submit(type="build", source="ci", project=slug, data={})
    answers = []
    async with tuned.connect(TRANSPORT_WS) as client:
        for n in range(2):
            await client.subscribe(f"q{n}", query=query)
            answers.append((await client.next_payload(f"q{n}"))["data"]["project"])
            await client.expect_complete(f"q{n}")
            await tuned.submit(type="build", source="ci", project=slug, data={"n": n})
    # totalCount (no DataLoader) shows what the store holds; evidenceCount must agree.
    assert [a["evidence"]["totalCount"] for a in answers] == [1, 2]
    assert [a["evidenceCount"] for a in answers] == [1, 2]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscription_cap_error_has_a_code_and_names_the_limit(
    tuned: Api, protocol: str
) -> None:
    async with tuned.connect(protocol) as client:
        for name in ("a", "b", "c"):
            await client.subscribe(name)
        await tuned.wait_for_subscriptions(3)
        await client.subscribe("d")
        errors = await client.expect_error("d")
        assert (errors[0].get("extensions") or {}).get("code"), errors
        assert "3" in errors[0]["message"], errors


# Examples -------------------------------------------------------------------------------------


async def run_example(script: str, *args: str) -> tuple[int, str, str]:
    """Run an examples/ script to completion; (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / script), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT * 2)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_example_clients_watch_and_submit(api: Api) -> None:
    reader = await api.issue_token("watcher", "evidence:read")
    writer = await api.issue_token("ci-job", "evidence:write")
    graphql_url = f"{api.http_url}/graphql"
    watchers = [
        await asyncio.create_subprocess_exec(
            sys.executable, str(EXAMPLES / "watch_evidence.py"), "--url", api.ws_url,
            "--type", "test_results", "--protocol", protocol, "--token", reader,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        for protocol in PROTOCOLS
    ]
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT * 2
        while await api.subscriptions() != len(watchers):
            for watcher in watchers:
                assert watcher.returncode is None, "watch_evidence exited before subscribing"
            assert loop.time() < deadline, "watch_evidence never subscribed"
            await asyncio.sleep(0.1)

        code, out, err = await run_example(
            "submit_evidence.py", "--url", graphql_url, "--type", "test_results",
            "--source", "pytest", "--project", "github.com/acme/ex", "--data", '{"passed": 3}',
            "--idempotency-key", "run-1", "--token", writer,
        )
        assert code == 0, err
        stored = json.loads(out)
        assert stored["type"] == "test_results"
        assert stored["project"] == {"slug": "github.com/acme/ex"}
        assert stored["data"] == {"passed": 3}
        assert stored["submittedBy"] == "ci-job"

        for watcher in watchers:
            assert watcher.stdout is not None
            line = await asyncio.wait_for(watcher.stdout.readline(), TIMEOUT)
            printed = json.loads(line)
            assert printed["id"] == stored["id"]
            assert printed["data"] == {"passed": 3}

        # Refused input: the UserError is printed and the exit code is 1.
        code, out, err = await run_example(
            "submit_evidence.py", "--url", graphql_url, "--type", "Not A Type",
            "--source", "pytest", "--token", writer,
        )
        assert (code, out) == (1, ""), err
        assert "type" in err and "INVALID" in err, err

        # No token: refused with the server's reason, exit code 1.
        code, out, err = await run_example(
            "submit_evidence.py", "--url", graphql_url, "--type", "build", "--source", "ci",
        )
        assert (code, out) == (1, ""), err
        assert "UNAUTHENTICATED" in err, err

        # Ctrl-C ends each watcher cleanly and releases its subscription.
        for watcher in watchers:
            watcher.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(watcher.wait(), TIMEOUT) == 0
        await api.wait_for_subscriptions(0)
    finally:
        for watcher in watchers:
            if watcher.returncode is None:
                watcher.kill()
                await watcher.wait()

    # A watcher without a token is refused at connection_init: a clear message, exit 1.
    for protocol in PROTOCOLS:
        code, out, err = await run_example(
            "watch_evidence.py", "--url", api.ws_url, "--protocol", protocol
        )
        assert (code, out) == (1, ""), err
        assert "refused" in err, err


async def test_example_watcher_reports_connection_errors() -> None:
    code, out, err = await run_example(
        "watch_evidence.py", "--url", f"ws://127.0.0.1:{free_port()}/graphql", "--timeout", "3"
    )
    assert (code, out) == (1, ""), err
    assert "watch_evidence: cannot connect" in err, err

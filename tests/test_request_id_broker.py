"""A request's id crosses the broker (arcos/request_id.py, arcos/broker.py,
arcos/redis_broker/broker.py): the events a request commits carry it beside them, never
inside them, and the work they cause elsewhere — a subscriber's handling, the shared
broker's fan-out on another instance, a case watcher — logs under it.

(Plugin triggers, which follow the outbox rather than the broker, are proved in
tests/plugins/test_plugin_triggers.py.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import (
    LiveServer,
    RunningApp,
    issue_token_with_cli,
    running_app,
    start_server,
    stop_server,
)
from redis_server import require_shared_redis

from arcos.assurance.case_watchers import CASE_WATCHERS, CaseWatcher, merged
from arcos.assurance.service import find_case
from arcos.assurance.status import CaseStatus
from arcos.auth.caller import Caller
from arcos.auth.live import while_token_valid
from arcos.broker import InMemoryBroker
from arcos.evidence.events import EVIDENCE_ADDED
from arcos.log_config import RequestIdFilter
from arcos.redis_broker.broker import RedisBroker
from arcos.request_id import CURRENT, current_request_id
from arcos.settings import Settings
from arcos.store import outbox
from arcos.store.outbox import REQUEST_ID_KEY

SUBMIT = """
mutation($i: SubmitEvidenceInput!) {
  submitEvidence(input: $i) { evidence { id } errors { field message code } }
}
"""
#: Guards against a hang only; nothing asserts how long anything took.
GUARD_SECONDS = 30.0
probe = logging.getLogger("arcos.test.subscriber")


class Collected(logging.Handler):
    """Keeps every record, with the request id the log filter gives it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def ids(self, logger: str) -> dict[str, str | None]:
        """Each message `logger` logged, with its request id."""
        return {record.getMessage(): getattr(record, "request_id", None)
                for record in self.records if record.name == logger}


@pytest.fixture
def collected() -> Iterator[Collected]:
    handler = Collected()
    loggers = [logging.getLogger(name) for name in ("arcos.broker", "arcos.test")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


async def write(http: httpx.AsyncClient, request_id: str, n: int) -> None:
    response = await http.post("/graphql", headers={"X-Request-ID": request_id}, json={
        "query": SUBMIT,
        "variables": {"i": {"type": "traced", "source": "test", "data": {"n": n}}}})
    assert response.headers["x-request-id"] == request_id
    assert response.json()["data"]["submitEvidence"]["errors"] == [], response.text


async def handled_under(app: RunningApp, ids: list[str]) -> list[dict[str, Any]]:
    """Write once under each of `ids` while a subscriber of the app's broker, in a task of
    its own with an id of its own, logs each event it handles; the events it received."""
    subscribed = asyncio.Event()
    received: list[dict[str, Any]] = []

    async def subscriber() -> None:
        CURRENT.set("the-subscribers-own-id")
        async with app.app.state.broker.subscribe(EVIDENCE_ADDED) as events:
            subscribed.set()
            async for event in events:
                probe.info("handling position %s", event["position"])
                received.append(event)
                if len(received) == len(ids):
                    return

    task = asyncio.create_task(subscriber())
    async with asyncio.timeout(GUARD_SECONDS):
        await subscribed.wait()
        async with app.client(app.admin_token) as http:
            for n, request_id in enumerate(ids):
                await write(http, request_id, n)
        await task
    return received


async def test_a_subscriber_handles_each_event_under_the_id_of_the_request_that_wrote_it(
    app: RunningApp, collected: Collected
) -> None:
    received = await handled_under(app, ["write-1", "write-2"])
    handled = collected.ids("arcos.test.subscriber")
    assert handled == {f"handling position {received[0]['position']}": "write-1",
                       f"handling position {received[1]['position']}": "write-2"}
    # Beside the event, never in it: not in what subscribers get, nor in what readers
    # catching up from the outbox get.
    for event in received:
        assert "request_id" not in json.dumps(event) and REQUEST_ID_KEY not in event
    stored = await outbox.read_after(EVIDENCE_ADDED, received[0]["position"] - 1, 10)
    assert [event.request_id for event in stored] == ["write-1", "write-2"]
    assert all(REQUEST_ID_KEY not in event.record for event in stored)
    # One DEBUG line per delivered event, under its request's id.
    delivered = collected.ids("arcos.broker")
    for event, request_id in zip(received, ["write-1", "write-2"], strict=True):
        line = f"delivering {EVIDENCE_ADDED} position {event['position']} of request {request_id}"
        assert delivered[line] == request_id


async def test_the_shared_broker_carries_the_id_through_redis(
    settings: Settings, collected: Collected
) -> None:
    """Through Redis the fan-out runs in the broker's own task, not the request's: only
    the envelope brings the id back."""
    async with running_app(settings.replace(broker_url=require_shared_redis())) as app:
        assert isinstance(app.app.state.broker, RedisBroker)
        received = await handled_under(app, ["through-redis"])
    position = received[0]["position"]
    assert collected.ids("arcos.test.subscriber") == {
        f"handling position {position}": "through-redis"}
    delivered = collected.ids("arcos.broker")
    line = f"delivering {EVIDENCE_ADDED} position {position} of request through-redis"
    assert delivered[line] == "through-redis"


async def test_a_case_watcher_evaluates_each_event_under_its_request_id() -> None:
    """The watcher reads several subscriptions through pump tasks (`merged`): the id
    must come through the hand-over, not stay in the pump."""
    broker = InMemoryBroker()
    async with broker.subscribe("a") as first, broker.subscribe("b") as second:
        await broker.publish("a", {"n": 1}, request_id="from-a")
        await broker.publish("b", {"n": 2}, request_id="from-b")
        seen: list[tuple[str, str | None]] = []
        async with asyncio.timeout(GUARD_SECONDS):
            async for kind, _ in merged([("a", first), ("b", second)]):
                seen.append((kind, current_request_id()))
                if len(seen) == 2:
                    break
    assert sorted(seen) == [("a", "from-a"), ("b", "from-b")]


WATCHED = "github.com/acme/traced"
#: A case whose one Solution is met by any `traced` evidence of its project.
TRACED_CASE = """\
module: {name: Traced, brief: b}
G1: {text: The build is traced., supportedBy: [Sn1]}
Sn1: {text: A traced build., arcos: {type: traced}}
"""
CREATE_CASE = """mutation($input: CreateAssuranceCaseInput!) {
  createAssuranceCase(input: $input) { case { caseId } errors { message } } }"""


async def test_a_case_watchers_evaluation_and_update_run_under_the_writes_id(
    app: RunningApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end through a real case watcher: a write's evidence event reaches the
    watcher through the broker, and both the one evaluation it causes (in the watcher's
    task, which began under another request's id) and the update its member reads (in
    the subscriber's task, under an id of its own) run under the writing request's id."""
    evaluated_under: list[str | None] = []
    evaluate = CaseWatcher.evaluate

    async def recorded(self: CaseWatcher, view: Any) -> CaseStatus:
        evaluated_under.append(current_request_id())
        return await evaluate(self, view)

    monkeypatch.setattr(CaseWatcher, "evaluate", recorded)
    async with app.client(app.admin_token) as http:
        created = await http.post("/graphql", headers={"X-Request-ID": "create-the-case"},
                                  json={"query": CREATE_CASE, "variables": {"input": {
                                      "project": WATCHED, "yaml": TRACED_CASE}}})
        made = created.json()["data"]["createAssuranceCase"]
        assert made["errors"] == [], made
        view = await find_case(made["case"]["caseId"])
        assert view is not None
        watchers = app.app.state.services.domain_services[CASE_WATCHERS]
        CURRENT.set("the-subscribers-own-id")
        async with asyncio.timeout(GUARD_SECONDS), watchers.join(view) as joined, \
                contextlib.aclosing(joined) as updates:
            written = await http.post("/graphql", headers={"X-Request-ID": "traced-write"},
                                      json={"query": SUBMIT, "variables": {"i": {
                                          "type": "traced", "source": "test",
                                          "project": WATCHED, "data": {}}}})
            assert written.json()["data"]["submitEvidence"]["errors"] == [], written.text
            update = await anext(updates)
            read_under = current_request_id()
    assert {state.id for state in update.changed} >= {"Sn1"}
    assert evaluated_under == ["traced-write"]
    assert read_under == "traced-write"


async def test_a_token_holders_subscription_handles_each_event_under_its_request_id() -> None:
    """A token holder's subscription awaits each event in a task of its own (so that a
    revocation can interrupt it, arcos/auth/live.py): the id must come out of that task."""
    broker = InMemoryBroker()
    holder = Caller(name="dashboard", scopes=frozenset(), authenticated=True, token_id=1)
    CURRENT.set("the-sockets-own-id")
    seen: list[str | None] = []
    async with broker.subscribe("t") as events:
        await broker.publish("t", {"n": 1}, request_id="write-1")
        await broker.publish("t", {"n": 2}, request_id="write-2")
        async with asyncio.timeout(GUARD_SECONDS):
            async for _ in while_token_valid(events, holder, recheck_seconds=3600):
                seen.append(current_request_id())
                if len(seen) == 2:
                    break
    assert seen == ["write-1", "write-2"]


def test_a_malformed_id_from_the_channel_is_not_logged() -> None:
    """Whatever publishes on the deployment's channel, only a plain id reaches the log."""
    from arcos.request_id import carried_request_id

    assert carried_request_id("abc-1") == "abc-1"
    for hostile in ("two words", "line\nbreak", 42, None, "x" * 200, {"a": 1}):
        assert carried_request_id(hostile) is None


# Two real instances on PostgreSQL and Redis.


@pytest.fixture
def pair(postgres_database: str, tmp_path: Path) -> Iterator[list[LiveServer]]:
    """Two servers on one PostgreSQL database and the shared Redis, logging JSON at
    DEBUG (the broker's per-event line)."""
    redis_url = require_shared_redis()
    token = issue_token_with_cli(postgres_database, f"pair-{uuid.uuid4().hex[:8]}", "admin")
    env = {"ARCOS_BROKER_URL": redis_url, "ARCOS_LOG_FORMAT": "json",
           "ARCOS_LOG_LEVEL": "debug"}
    started: list[LiveServer] = []
    try:
        for name in "ab":
            started.append(start_server(postgres_database, tmp_path / f"{name}.log", env, token))
        yield started
    finally:
        for server in started:
            stop_server(server)


def traced(server: LiveServer, request_id: str) -> list[dict[str, Any]]:
    """`server`'s JSON log lines under `request_id` so far."""
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("request_id") == request_id]


@pytest.mark.server
@pytest.mark.postgres
def test_a_write_on_one_instance_is_traced_on_the_other(pair: list[LiveServer]) -> None:
    a, b = pair
    request_id = f"abc-{uuid.uuid4().hex[:8]}"
    with httpx.Client(timeout=GUARD_SECONDS) as http:
        written = http.post(f"{b.http_url}/graphql", headers={
            **b.auth_headers, "X-Request-ID": request_id}, json={
            "query": SUBMIT,
            "variables": {"i": {"type": "traced", "source": "test", "data": {}}}})
        assert written.status_code == 200 and written.headers["x-request-id"] == request_id
        assert written.json()["data"]["submitEvidence"]["errors"] == [], written.text
    deadline = time.monotonic() + GUARD_SECONDS
    while not (on_a := [line for line in traced(a, request_id)
                        if line["logger"] == "arcos.broker"]):
        assert time.monotonic() < deadline, f"A never logged {request_id}:\n{a.log()[-3000:]}"
        time.sleep(0.1)
    # A heard of the event only through Redis, and logged its delivery under B's id.
    [delivery] = on_a
    assert delivery["level"] == "debug"
    assert delivery["message"].startswith(f"delivering {EVIDENCE_ADDED} position ")
    assert delivery["message"].endswith(f"of request {request_id}")
    # A served no request with that id: every line of A under it is the event's.
    assert {line["logger"] for line in traced(a, request_id)} == {"arcos.broker"}

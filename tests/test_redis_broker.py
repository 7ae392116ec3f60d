"""The shared broker on a real Redis, inside one app: events go out through Redis and come
back once each, in commit order; a Redis that cannot be reached refuses live streams with a
coded error (503 for SSE) and /readyz says so, while writes and queries go on; deployments
sharing one Redis get channels of their own.

The cross-instance proofs (three servers on PostgreSQL) are in test_broker_instances.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from conftest import free_port, running_app
from redis_server import require_shared_redis

from arcos.broker import BrokerUnavailable, InMemoryBroker
from arcos.evidence.events import EVIDENCE_ADDED
from arcos.intake.metrics import METRICS_UPDATED
from arcos.metrics import METRICS
from arcos.redis_broker.naming import events_channel
from arcos.settings import Settings
from arcos.store.outbox import Message
from arcos.store.unit_of_work import UnitOfWork, Writer

SUBMIT = """
mutation($i: SubmitEvidenceInput!) {
  submitEvidence(input: $i) { evidence { id } errors { field message code } }
}
"""
#: Guards against a hang only.
GUARD_SECONDS = 20.0


def lag_count() -> float:
    return METRICS.get_sample_value("arcos_broker_lag_seconds_count") or 0.0


async def test_events_cross_redis_once_each_in_commit_order(settings: Settings) -> None:
    shared = settings.replace(broker_url=require_shared_redis())
    observed_before = lag_count()
    async with running_app(shared) as app:
        broker = app.app.state.broker
        assert broker.unusable() is None
        async with app.client(app.admin_token) as http, broker.subscribe(EVIDENCE_ADDED) as events:

            async def submit(n: int) -> None:
                response = await http.post("/graphql", json={"query": SUBMIT, "variables": {
                    "i": {"type": "redis-broker", "source": "test", "data": {"n": n}}}})
                assert response.json()["data"]["submitEvidence"]["errors"] == []

            await asyncio.gather(*(submit(n) for n in range(30)))
            received = []
            async with asyncio.timeout(GUARD_SECONDS):
                async for event in events:
                    received.append(event)
                    if len(received) == 30:
                        break
    positions = [event["position"] for event in received]
    assert positions == sorted(set(positions)), "repeated or out of commit order"
    assert sorted(json.loads(event["data_json"])["n"] for event in received) == list(range(30))
    assert lag_count() - observed_before >= 30


async def test_an_unreachable_redis_refuses_live_streams_not_writes(settings: Settings) -> None:
    nowhere = settings.replace(broker_url=f"redis://127.0.0.1:{free_port()}/0")
    async with running_app(nowhere) as app:
        broker = app.app.state.broker
        assert "unreachable" in (broker.unusable() or "")
        async with app.client(app.admin_token) as http:
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert "Redis" in ready.json()["problems"]["broker"]
            assert str(free_port()) not in ready.text  # no address in the unauthenticated answer
            written = await http.post("/graphql", json={"query": SUBMIT, "variables": {
                "i": {"type": "redis-broker", "source": "test", "data": {}}}})
            assert written.json()["data"]["submitEvidence"]["errors"] == []
            listed = await http.get("/api/v3/evidence")
            assert listed.status_code == 200, listed.text
            # A stream that opened would never end: the guard turns that into a failure.
            stream = await asyncio.wait_for(http.get("/api/v3/evidence/stream"), GUARD_SECONDS)
            assert stream.status_code == 503
            error = stream.json()["errors"][0]
            assert error["extensions"]["code"] == "BROKER_UNAVAILABLE"
            assert "retry" in error["message"]
            assert stream.headers["retry-after"] == "1"
        with pytest.raises(BrokerUnavailable, match="queries and writes still work"):
            async with broker.subscribe(EVIDENCE_ADDED):
                pass


def test_deployments_get_channels_of_their_own(tmp_path: Path) -> None:
    def channel(url: str) -> str:
        return events_channel(Settings(database_url=url))

    pg = "postgres://arcos:secret@db.example:5432/arcos"
    assert channel(pg) == channel("postgresql://other:pw@DB.example/arcos?ssl=true")
    assert channel(pg) != channel("postgres://arcos@db.example:5432/arcos2")
    assert channel(pg) != channel("postgres://arcos@db2.example:5432/arcos")
    assert "secret" not in channel(pg)
    assert channel(f"sqlite://{tmp_path / 'a.db'}") != channel(f"sqlite://{tmp_path / 'b.db'}")
    assert channel("sqlite://:memory:") != channel("sqlite://:memory:")


async def test_events_that_never_reach_redis_end_only_their_topics_subscriptions(
    settings: Settings,
) -> None:
    """A process without the shared broker (an `arcos` command) commits events that no
    instance hears of. Subscribers of their topic are told and catch up from the store;
    subscribers of other topics lost nothing and go on."""
    shared = settings.replace(broker_url=require_shared_redis())
    async with running_app(shared) as app:
        broker, writer = app.app.state.broker, app.app.state.writer
        elsewhere = Writer(InMemoryBroker())  # another process's writer, in effect

        async def write(on: Writer, topic: str) -> None:
            async def work(unit: UnitOfWork) -> None:
                unit.publish(Message(topic=topic, event={"test": True}))
            await on.run(work)

        async with broker.subscribe(EVIDENCE_ADDED) as evidence, \
                broker.subscribe(METRICS_UPDATED) as metrics:
            await write(elsewhere, EVIDENCE_ADDED)
            await write(writer, METRICS_UPDATED)  # a later position arrives: the gap shows
            async with asyncio.timeout(GUARD_SECONDS):
                assert (await anext(metrics))["test"] is True
                with pytest.raises(BrokerUnavailable, match="did not arrive"):
                    await anext(evidence)
                await write(writer, METRICS_UPDATED)
                assert (await anext(metrics))["test"] is True

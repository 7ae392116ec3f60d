"""Webhook deliveries written in groups (arcos/webhooks/service.py `write_deliveries`):
what each sender is answered does not depend on whom it shared a transaction with.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import running_app
from test_webhooks import GITHUB_SECRET, PUSH, github_headers

from arcos.evidence.models import Evidence
from arcos.store.write_context import WriteContext
from arcos.webhooks import service
from arcos.webhooks.models import WebhookDelivery
from arcos.webhooks.providers import PROVIDERS


@pytest.fixture
async def hooks(settings):
    async with running_app(settings.replace(github_webhook_secret=GITHUB_SECRET)) as running:
        async with running.client() as anonymous:
            yield running, anonymous


async def post(http, delivery: str):
    body = json.dumps(PUSH).encode()
    return await http.post("/api/webhooks/github", content=body,
                           headers=github_headers(body, delivery=delivery))


async def test_a_group_with_a_delivery_another_writer_committed(hooks, monkeypatch):
    """The look-up misses a delivery committed after it (another instance, another
    process): the unique index refuses the group, and each delivery is written again on
    its own; the repeated one is answered with the first record, the others are new."""
    running, http = hooks
    first = await post(http, "taken")
    assert first.status_code == 200

    async def nothing_stored(unit, keys):
        return {}

    monkeypatch.setattr(service, "_stored_deliveries", nothing_stored)
    group = running.app.state.services.domain_services[service.DELIVERY_GROUP]
    names = ["new-1", "taken", "new-2", "new-3"]
    # Submitted together, so they are written as one group.
    answers = dict(zip(names, await asyncio.gather(*(
        ingest(running, group, name) for name in names
    )), strict=True))
    assert group.fallbacks == 1  # the group failed as a whole, then each went alone
    assert answers["taken"].duplicate is True
    assert str(answers["taken"].delivery.id) == first.json()["delivery"]["deliveryId"]
    for name in ("new-1", "new-2", "new-3"):
        assert answers[name].duplicate is False
    assert await WebhookDelivery.all().count() == 4
    assert await Evidence.all().count() == 4  # the refused copy's evidence rolled back


async def ingest(running, group, delivery_id: str) -> service.Ingestion:
    services = running.app.state.services
    provider = PROVIDERS["github"]
    body = json.dumps(PUSH)
    delivery = service.Delivery(
        provider="github", event="push", action=None, dedupe_key=f"42:{delivery_id}",
        body=body, guard_replays=True,
    )
    write = WriteContext("github-webhook", services.settings, services.writer)
    return await service.ingest(delivery, provider.evidence_mapping, write, group=group)


async def test_duplicates_within_one_group_write_once(hooks):
    _, http = hooks
    responses = await asyncio.gather(*(post(http, name) for name in ["a", "b", "a", "a"]))
    bodies = [r.json() for r in responses]
    assert [b["duplicate"] for b in bodies].count(False) == 2
    assert len({b["delivery"]["deliveryId"] for b in bodies}) == 2
    assert await WebhookDelivery.all().count() == 2
    assert await Evidence.all().count() == 2

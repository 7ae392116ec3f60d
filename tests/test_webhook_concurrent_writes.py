"""Webhook writes that race: first-time secret overrides and reprocessing of one delivery.

Both go through a unit of work: a secret set twice at once is one row and two successes
(the loser's retry updates what the winner inserted), and two reprocesses of a delivery
take turns on its locked row, so the later one supersedes the evidence the earlier one
recorded instead of overwriting its ids.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import running_app
from test_webhooks import GITHUB_SECRET, PUSH, github_headers

from arcos.evidence.models import Evidence, EvidenceRelation, RelationKind
from arcos.webhooks.models import WebhookDelivery, WebhookSecret

SET_SECRET = (
    "mutation($secret: String!) { setWebhookSecret(input: {name: GITLAB_WEBHOOK_TOKEN, "
    "secret: $secret, keepPrevious: true}) { name previousConfigured errors { message } } }"
)
REPROCESS = (
    "mutation($id: ID!) { reprocessWebhookDelivery(input: {deliveryId: $id}) { "
    "delivery { outcome } errors { code message } } }"
)


@pytest.fixture
async def hooks(settings):
    async with running_app(settings.replace(github_webhook_secret=GITHUB_SECRET)) as running:
        async with running.client() as anonymous, running.client(running.admin_token) as admin:
            yield running, anonymous, admin


async def test_concurrent_first_time_secret_overrides_both_succeed(hooks):
    _, _, admin = hooks
    secrets = [f"gitlab-token-number-{i}-0123456789" for i in range(4)]
    responses = await asyncio.gather(*(
        admin.post("/graphql", json={"query": SET_SECRET, "variables": {"secret": secret}})
        for secret in secrets
    ))
    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        assert body["data"]["setWebhookSecret"]["errors"] == []
    rows = await WebhookSecret.filter(name="gitlab_webhook_token")
    assert len(rows) == 1
    assert rows[0].current in secrets
    # Each later set kept the one before it as previous: a chain, never a lost value.
    assert rows[0].previous in secrets and rows[0].previous != rows[0].current


async def test_concurrent_reprocesses_supersede_in_turn(hooks):
    _, anonymous, admin = hooks
    body = json.dumps(PUSH).encode()
    response = await anonymous.post("/api/webhooks/github", content=body,
                                    headers=github_headers(body))
    assert response.status_code == 200, response.text
    delivery = await WebhookDelivery.get()
    first_ids = list(delivery.evidence_ids)
    assert first_ids

    runs = 3
    responses = await asyncio.gather(*(
        admin.post("/graphql", json={"query": REPROCESS, "variables": {"id": str(delivery.id)}})
        for _ in range(runs)
    ))
    for response in responses:
        payload = response.json()["data"]["reprocessWebhookDelivery"]
        assert payload["errors"] == [] and payload["delivery"]["outcome"] == "PROCESSED"

    await delivery.refresh_from_db()
    current = set(delivery.evidence_ids)
    every = {str(e.uid): e.seq for e in await Evidence.all()}
    assert len(every) == len(first_ids) * (runs + 1)
    superseded = {
        relation.to_evidence_id
        for relation in await EvidenceRelation.filter(relation=RelationKind.SUPERSEDES)
    }
    # Every item but the current ones is superseded by a later reprocess: none is orphaned
    # by another reprocess overwriting the delivery's ids.
    assert superseded == {seq for uid, seq in every.items() if uid not in current}

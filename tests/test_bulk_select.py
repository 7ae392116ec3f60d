"""select_where_in (arcos/store/bulk.py) answers what Tortoise's filter answers: the rows
whose every column is one of its values, with parameters numbered right on PostgreSQL.
The webhook write looks up earlier deliveries with it; a wrong answer there is hidden by
the unique constraint's fallback, so it is checked here directly."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import running_app
from tortoise import connections

from arcos.store.bulk import select_where_in
from arcos.webhooks.models import DeliveryOutcome, WebhookDelivery


async def test_select_where_in_matches_the_tortoise_filter(settings):
    async with running_app(settings):
        for provider in ("github", "gitlab"):
            for key in ("a", "b", "c"):
                await WebhookDelivery.create(
                    provider=provider, event="push", dedupe_key=key,
                    received_at=datetime.now(UTC), outcome=DeliveryOutcome.PROCESSED,
                    body_sha256="0" * 64,
                )
        connection = connections.get("default")
        where = {"provider": ["github", "bitbucket"], "dedupe_key": ["a", "c", "z"]}
        found = await select_where_in(connection, WebhookDelivery, where)
        expected = await WebhookDelivery.filter(
            provider__in=where["provider"], dedupe_key__in=where["dedupe_key"]
        ).using_db(connection)
        assert sorted((r.id, r.provider, r.dedupe_key, r.received_at) for r in found) == sorted(
            (r.id, r.provider, r.dedupe_key, r.received_at) for r in expected
        )
        assert sorted((r.provider, r.dedupe_key) for r in found) == [
            ("github", "a"), ("github", "c")
        ]
        assert await select_where_in(connection, WebhookDelivery, {"provider": []}) == []

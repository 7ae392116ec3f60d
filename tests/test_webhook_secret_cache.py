"""The webhook secret cache (arcos/webhooks/secret_cache.py): a delivery does not read the
secrets, yet a change is obeyed at once.

A rotation through setWebhookSecret in this process is seen before the mutation returns;
one committed by another writer (another worker, here a Writer of its own on the same
store, which tells this app nothing) is accepted at once for the new secret (a refusal
made with cached secrets is decided again from the store) and obeyed for the dropped
one as soon as the outbox follower reads it.
"""

from __future__ import annotations

import json

import pytest
from conftest import running_app
from test_webhooks import GITHUB_SECRET, PUSH, github_headers

from arcos.broker import InMemoryBroker
from arcos.store.outbox import OutboxEvent, read_after
from arcos.store.unit_of_work import Writer
from arcos.store.write_context import WriteContext
from arcos.webhooks import credentials
from arcos.webhooks.credentials import SECRET_SET
from arcos.webhooks.models import WebhookSecret
from arcos.webhooks.secret_cache import WEBHOOK_SECRETS, SecretCache

NEW_SECRET = "the-rotated-github-secret-0123456789"
ROTATE = (
    "mutation($secret: String!) { setWebhookSecret(input: {name: GITHUB_WEBHOOK_SECRET, "
    "secret: $secret, keepPrevious: false}) { name errors { message } } }"
)


@pytest.fixture
async def hooks(settings):
    # A long poll: what this test sees of another writer, it sees without the follower.
    configured = settings.replace(github_webhook_secret=GITHUB_SECRET,
                                  webhook_secret_poll_seconds=3600.0)
    async with running_app(configured) as running:
        async with running.client() as anonymous, running.client(running.admin_token) as admin:
            yield running, anonymous, admin


async def deliver(http, secret: str) -> int:
    body = json.dumps(PUSH).encode()
    response = await http.post("/api/webhooks/github", content=body,
                               headers=github_headers(body, secret=secret))
    return response.status_code


def cache_of(running) -> SecretCache:
    return running.app.state.services.domain_services[WEBHOOK_SECRETS]


async def test_a_rotation_here_is_obeyed_on_the_next_delivery(hooks):
    running, anonymous, admin = hooks
    assert await deliver(anonymous, GITHUB_SECRET) == 200
    assert cache_of(running).cached  # the next delivery would not read the secrets
    response = await admin.post("/graphql", json={"query": ROTATE,
                                                  "variables": {"secret": NEW_SECRET}})
    assert response.json()["data"]["setWebhookSecret"]["errors"] == []
    assert await deliver(anonymous, GITHUB_SECRET) == 401
    assert await deliver(anonymous, NEW_SECRET) == 200
    # The event names the secret; it never carries a value.
    events = await read_after(SECRET_SET, 0, 10)
    assert [event.record for event in events] == [{"name": "github_webhook_secret"}]
    rows = await OutboxEvent.filter(topic=SECRET_SET).values_list("payload", flat=True)
    assert rows and not any(NEW_SECRET in row or GITHUB_SECRET in row for row in rows)


async def test_a_rotation_by_another_process_is_obeyed(hooks, settings):
    running, anonymous, _ = hooks
    cache = cache_of(running)
    assert await deliver(anonymous, GITHUB_SECRET) == 200
    assert cache.cached
    elsewhere = WriteContext("another-worker", settings, Writer(InMemoryBroker()))
    await credentials.set_secret("github_webhook_secret", NEW_SECRET, False, elsewhere)
    # Nothing told this app yet, but the sender's new secret is accepted at once.
    assert await deliver(anonymous, NEW_SECRET) == 200
    # The dropped secret: refused once the follower has read the change (its poll).
    await cache.follower.read_new()
    assert await deliver(anonymous, GITHUB_SECRET) == 401
    assert await deliver(anonymous, NEW_SECRET) == 200


async def test_the_follower_forgets_what_another_process_changed(hooks, settings):
    running, anonymous, _ = hooks
    cache = cache_of(running)
    assert await deliver(anonymous, GITHUB_SECRET) == 200
    elsewhere = WriteContext("another-worker", settings, Writer(InMemoryBroker()))
    await credentials.set_secret("github_webhook_secret", NEW_SECRET, False, elsewhere)
    assert cache.cached  # still the old overrides: nothing told this app
    await cache.follower.read_new()
    assert not cache.cached


async def test_an_unannounced_edit_of_the_store_is_obeyed_after_the_cache_lifetime(settings):
    """A change no setWebhookSecret announced (a restored backup, an operator's SQL) is
    read again once the cached secrets are ARCOS_AUTH_CACHE_SECONDS old."""
    configured = settings.replace(github_webhook_secret=GITHUB_SECRET,
                                  webhook_secret_poll_seconds=3600.0)
    async with running_app(configured) as running, running.client() as anonymous:
        cache = cache_of(running)
        elsewhere = WriteContext("operator", settings, Writer(InMemoryBroker()))
        await credentials.set_secret("github_webhook_secret", NEW_SECRET, False, elsewhere)
        assert await deliver(anonymous, NEW_SECRET) == 200
        assert cache.cached
        # The operator deletes the leaked override behind the server's back.
        await WebhookSecret.filter(name="github_webhook_secret").delete()
        assert await deliver(anonymous, NEW_SECRET) == 200  # still trusted: not yet old
        cache.max_age = 0.0  # the lifetime has passed
        assert not cache.cached
        assert await deliver(anonymous, NEW_SECRET) == 401
        assert await deliver(anonymous, GITHUB_SECRET) == 200

"""A verified delivery is answered without executing IngestWebhookDelivery
(arcos/webhooks/receipt_routes.py); the answer must be the document's, byte for byte."""

from __future__ import annotations

import json

import pytest
from conftest import running_app
from starlette.responses import JSONResponse
from test_webhooks import GITHUB_SECRET, PUSH, github_headers

from arcos.rest.outcome import data_or_refusal
from arcos.webhooks.routes import WebhookReceiver


@pytest.fixture
async def hooks(settings):
    async with running_app(settings.replace(github_webhook_secret=GITHUB_SECRET)) as running:
        async with running.client() as anonymous:
            yield running, anonymous


def receiver(running, path: str = "/api/webhooks/github") -> WebhookReceiver:
    route = next(r for r in running.app.routes if getattr(r, "path", None) == path)
    return route.endpoint.__self__


async def documents_answer(running, headers: dict[str, str], body: bytes) -> bytes:
    """What the route answered when it executed the document (a redelivery, by now)."""
    hook = receiver(running)
    delivery = hook.provider.identify(headers, body)
    result = await hook.adapter.execute(
        "IngestWebhookDelivery",
        {"input": {"provider": delivery.provider.upper(), "event": delivery.event,
                   "action": delivery.action, "dedupeKey": delivery.dedupe_key,
                   "body": delivery.body}},
        hook.system, None,
    )
    payload = data_or_refusal(result)["ingestWebhookDelivery"]
    return JSONResponse({"duplicate": payload["duplicate"],
                         "delivery": payload["delivery"]}).body


@pytest.mark.parametrize("event, payload", [
    ("push", PUSH),
    ("ping", {"zen": "Keep it logically awesome.", "hook_id": 42}),
    ("watch", {"action": "started", "repository": PUSH["repository"]}),
])
async def test_the_routes_answer_is_the_documents(hooks, event, payload):
    running, http = hooks
    body = json.dumps(payload).encode()
    headers = github_headers(body, event=event, delivery=f"receipt-{event}")
    first = await http.post("/api/webhooks/github", content=body, headers=headers)
    again = await http.post("/api/webhooks/github", content=body, headers=headers)
    assert json.loads(again.content)["duplicate"] is True
    assert again.content == await documents_answer(running, headers, body)
    assert json.loads(first.content)["delivery"] == json.loads(again.content)["delivery"]

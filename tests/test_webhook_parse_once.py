"""A webhook body is parsed once: the route's parse reaches the service with the text."""

from __future__ import annotations

import json

from conftest import running_app
from test_hardening_webhooks_and_friction import GITHUB_PUSH, GITHUB_SECRET, github_attempt

from arcos.webhooks import service


async def test_the_service_reuses_the_routes_parse(settings, monkeypatch):
    def parse_again(body: str) -> dict:
        raise AssertionError("the webhook body was parsed a second time")

    monkeypatch.setattr(service, "_payload", parse_again)
    configured = settings.replace(github_webhook_secret=GITHUB_SECRET)
    async with running_app(configured) as running, running.client() as http:
        body = json.dumps(GITHUB_PUSH).encode()
        response = await http.post("/api/webhooks/github", content=body,
                                   headers=github_attempt(body)[1])
    assert response.status_code == 200, response.text
    assert response.json()["delivery"]["outcome"] == "PROCESSED"


async def test_a_body_given_as_a_graphql_variable_is_still_parsed(gql, monkeypatch):
    parsed: list[str] = []
    original = service._payload

    def counting(body: str) -> dict:
        parsed.append(body)
        return original(body)

    monkeypatch.setattr(service, "_payload", counting)
    result = await gql(
        "mutation($body: String!) { ingestWebhookDelivery(input: {provider: CICD, "
        'event: "build", dedupeKey: "k1", body: $body}) { duplicate errors { message } } }',
        {"body": json.dumps({"name": "app", "build": {"number": 1, "status": "SUCCESS"}})},
    )
    assert result["data"]["ingestWebhookDelivery"]["errors"] == [], result
    assert len(parsed) == 1



"""The webhooks domain's entry in the registry (arcos/domains.py): its delivery routes
(`routes.py`), their body limit, the retention sweeps, and a REST row listing the
endpoints."""

from __future__ import annotations

from importlib import resources
from typing import Any

from arcos.registry import Domain, ServiceFactory
from arcos.webhooks import rest, scopes, service
from arcos.webhooks.credentials import SECRET_SET
from arcos.webhooks.providers import PROVIDERS
from arcos.webhooks.routes import webhook_routes
from arcos.webhooks.schema import WebhookMutations, WebhookQueries
from arcos.webhooks.secret_cache import WEBHOOK_SECRETS, secret_cache


def documentation() -> dict[str, Any]:
    """Its section of GET /api/ecosystem/documentation: every receiver and its events."""
    return {"webhooks": [
        {
            "provider": provider.name,
            "url": provider.path,
            "authentication": provider.authentication,
            "events": sorted(provider.mapping.EVENTS),
        }
        for provider in PROVIDERS.values()
    ]}


WEBHOOKS = Domain(
    name="webhooks",
    scopes=scopes.SCOPES,
    models=("arcos.webhooks.models",),
    query=WebhookQueries,
    mutation=WebhookMutations,
    rest_routes=rest.ROUTES,
    rest_documents=(resources.files("arcos.webhooks") / "rest.graphql",),
    http_routes=webhook_routes,
    body_limits=lambda settings: {"/api/webhooks/": settings.webhook_max_body_bytes},
    sweeps=service.sweeps,
    topics=(SECRET_SET,),
    services=(
        ServiceFactory(WEBHOOK_SECRETS, secret_cache),
        ServiceFactory(service.DELIVERY_GROUP, service.delivery_group),
    ),
    documentation=documentation,
)

"""The webhooks domain's entry in the registry (arcos/domains.py). Its delivery routes are
mounted by the app (`routes.py`); its REST row lists the endpoints."""

from __future__ import annotations

from importlib import resources

from arcos.registry import Domain
from arcos.webhooks import rest
from arcos.webhooks.schema import WebhookMutations, WebhookQueries

WEBHOOKS = Domain(
    name="webhooks",
    models=("arcos.webhooks.models",),
    query=WebhookQueries,
    mutation=WebhookMutations,
    rest_routes=rest.ROUTES,
    rest_documents=resources.files("arcos.webhooks") / "rest.graphql",
)

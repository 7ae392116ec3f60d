"""The webhooks domain's REST rows; the delivery routes themselves are in `routes.py`.
Their operations are in `rest.graphql` beside this file."""

from __future__ import annotations

from arcos.rest.shapes import Item
from arcos.rest.table import RestRoute, no_variables

ROUTES: tuple[RestRoute, ...] = (
    RestRoute(
        "GET", "/api/webhooks/endpoints", "WebhookEndpoints", no_variables,
        ("webhookEndpoints",), Item(), "v1",
        "Webhook endpoints: the events each maps, its authentication, whether a secret is set.",
    ),
)

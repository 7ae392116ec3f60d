"""The webhooks domain's scopes (listed in its Domain, arcos/webhooks/domain.py)."""

from __future__ import annotations

from arcos.auth.scopes import Scope

WEBHOOKS_ADMIN = Scope("webhooks:admin", "Configure webhook receivers and read deliveries.")
WEBHOOKS_DELIVER = Scope(
    "webhooks:deliver", "Deliver webhook events to ARCOS.", counts_as_write=True
)

SCOPES = (WEBHOOKS_ADMIN, WEBHOOKS_DELIVER)

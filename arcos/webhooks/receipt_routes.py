"""What a verified delivery is answered, built without executing GraphQL.

The webhook routes ran the IngestWebhookDelivery document (rest.graphql) for every
delivery, and executing it (coercing the variables, the permission classes and field
extensions, completing the selection) cost about as much CPU as the write itself. For the
route's own caller, a provider whose signature or shared token was verified (it holds
`webhooks:deliver` and no API token, so no rate limit or token re-check applies), the
route calls the service directly and builds the JSON the document selects:
tests/test_webhook_receipt.py compares the two byte for byte. API tokens (CI/CD) still
go through the document.
"""

from __future__ import annotations

from typing import Any

from strawberry import relay

from arcos.problems import Problem, ProblemCode, Refused
from arcos.rest.outcome import refuse_user_errors
from arcos.webhooks.models import WebhookDelivery
from arcos.webhooks.service import Ingestion


def field_problems(event: str, action: str | None, dedupe_key: str) -> list[Problem]:
    """The input's length problems, as IngestWebhookDelivery reports them."""
    limits = (("event", event, 128), ("action", action, 128), ("dedupeKey", dedupe_key, 255))
    return [
        Problem(field=name, message=f"{name} must be 1-{limit} characters",
                code=ProblemCode.INVALID)
        for name, value, limit in limits
        if value is not None and not 0 < len(value) <= limit
    ]


def delivery_json(row: WebhookDelivery) -> dict[str, Any]:
    """`delivery { deliveryId provider event action outcome detail evidenceIds }`."""
    return {
        "deliveryId": str(row.id),
        "provider": row.provider,
        "event": row.event,
        "action": row.action,
        "outcome": row.outcome.name,
        "detail": row.detail,
        "evidenceIds": [relay.to_base64("Evidence", uid) for uid in row.evidence_ids or []],
    }


def receipt(ingestion: Ingestion) -> dict[str, Any]:
    """The route's body for a recorded delivery: `{"duplicate", "delivery"}`."""
    return {"duplicate": ingestion.duplicate, "delivery": delivery_json(ingestion.delivery)}


def refuse(problems: list[Problem] | Refused) -> None:
    """The HTTP refusal the document's `errors` would have made (see refuse_user_errors)."""
    found = problems.problems if isinstance(problems, Refused) else problems
    refuse_user_errors({"errors": [
        {"field": p.field, "message": p.message, "code": p.code.name} for p in found
    ]})

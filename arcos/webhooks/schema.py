"""Webhook deliveries in GraphQL: the ingest mutation the routes run, and operator tools."""

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from arcos.auth.permissions import requires
from arcos.auth.scopes import ADMIN
from arcos.database_id import is_database_id
from arcos.evidence.loaders import EvidenceByUid
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.evidence.types import EvidenceType
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import UserError, user_errors
from arcos.graphql.metadata import column_bound
from arcos.graphql.pagination import check_page_size, decode_cursor, encode_cursor, page_info
from arcos.problems import ArcosError, BadUserInput, ErrorCode, ProblemCode, Refused
from arcos.settings import MIN_SECRET_LENGTH
from arcos.storable import unstorable
from arcos.webhooks import credentials, service
from arcos.webhooks.models import DeliveryOutcome, WebhookDelivery
from arcos.webhooks.providers import PROVIDERS, SECRET_NAMES, evidence_mapping_for
from arcos.webhooks.scopes import WEBHOOKS_ADMIN, WEBHOOKS_DELIVER

DELIVERY_CURSOR = "delivery"
OPERATORS = [requires(WEBHOOKS_ADMIN)]

WebhookProvider = strawberry.enum(
    Enum("WebhookProvider", {name.upper(): name for name in PROVIDERS}),  # type: ignore[misc]
    description="A source of webhook deliveries.",
)
WebhookDeliveryOutcome = strawberry.enum(DeliveryOutcome, name="WebhookDeliveryOutcome")
WebhookSecretName = strawberry.enum(
    Enum("WebhookSecretName", {n.upper(): n for n in SECRET_NAMES}),  # type: ignore[misc]
    description="A webhook secret; ARCOS_<NAME> is its setting.",
)


@strawberry.type(name="WebhookDelivery", description="One delivery as received.")
class WebhookDeliveryType:
    delivery_id: strawberry.ID = strawberry.field(name="deliveryId")
    provider: str
    event: str
    action: str | None
    dedupe_key: str
    received_at: datetime
    outcome: WebhookDeliveryOutcome  # type: ignore[valid-type]
    detail: str | None = strawberry.field(description="Why it was ignored or failed.")
    body_retained: bool = strawberry.field(description="Whether it can be re-processed.")
    reprocessed_at: datetime | None
    evidence_uids: strawberry.Private[list[str]]

    @classmethod
    def from_model(cls, row: WebhookDelivery) -> "WebhookDeliveryType":
        return cls(
            delivery_id=strawberry.ID(str(row.id)), provider=row.provider, event=row.event,
            action=row.action, dedupe_key=row.dedupe_key, received_at=row.received_at,
            outcome=row.outcome, detail=row.detail, body_retained=row.raw_body is not None,
            reprocessed_at=row.reprocessed_at, evidence_uids=list(row.evidence_ids or []),
        )

    @strawberry.field(description="Ids of the evidence this delivery produced (reading the "
                      "evidence itself needs evidence:read).")
    def evidence_ids(self) -> list[strawberry.ID]:
        return [strawberry.ID(relay.to_base64("Evidence", uid)) for uid in self.evidence_uids]

    @strawberry.field(description="The evidence this delivery produced.",
                      permission_classes=[requires(EVIDENCE_READ)])
    async def evidence(self, info: Info) -> list[EvidenceType]:
        # Batched across the deliveries of a page; oldest first, as stored.
        rows = await EvidenceByUid(info.context).load_many(list(dict.fromkeys(self.evidence_uids)))
        found = sorted((row for row in rows if row is not None), key=lambda row: row.seq)
        return [EvidenceType.from_model(row) for row in found]


@strawberry.type
class WebhookDeliveryConnection:
    nodes: list[WebhookDeliveryType]
    page_info: relay.PageInfo


@strawberry.type
class WebhookEventMapping:
    event: str
    evidence: str


@strawberry.type(description="A webhook endpoint and how it authenticates (never the secret).")
class WebhookEndpoint:
    provider: str
    path: str
    authentication: str
    secret_configured: bool
    previous_secret_configured: bool
    unsigned_allowed: bool = strawberry.field(
        description="True only when ARCOS_WEBHOOK_ALLOW_UNSIGNED is on and no secret is set."
    )
    events: list[WebhookEventMapping]


@strawberry.input
class IngestWebhookDeliveryInput:
    provider: WebhookProvider  # type: ignore[valid-type]
    event: str
    action: str | None = None
    dedupe_key: str
    body: str = strawberry.field(description="The delivery's JSON document, as sent.")


@strawberry.type
class IngestWebhookDeliveryPayload:
    delivery: WebhookDeliveryType | None
    duplicate: bool = strawberry.field(description="A redelivery: the first outcome is returned.")
    errors: list[UserError]


@strawberry.input
class ReprocessWebhookDeliveryInput:
    delivery_id: strawberry.ID = strawberry.field(name="deliveryId")


@strawberry.type
class ReprocessWebhookDeliveryPayload:
    delivery: WebhookDeliveryType | None
    errors: list[UserError]


@strawberry.input
class SetWebhookSecretInput:
    name: WebhookSecretName  # type: ignore[valid-type]
    secret: str
    keep_previous: bool = strawberry.field(
        default=True, description="Keep accepting the old secret until the senders rotate."
    )


@strawberry.type
class SetWebhookSecretPayload:
    name: str | None
    previous_configured: bool
    errors: list[UserError]


def _field_length_problems(event: str, action: str | None, dedupe_key: str) -> list[UserError]:
    limits = (("event", event, 128), ("action", action, 128), ("dedupeKey", dedupe_key, 255))
    return [
        UserError(field=name, message=f"{name} must be 1-{limit} characters",
                  code=ProblemCode.INVALID)
        for name, value, limit in limits
        if value is not None and not 0 < len(value) <= limit
    ]


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="Received deliveries, newest first.",
                      permission_classes=OPERATORS)
    async def webhook_deliveries(
        self,
        info: Info[ArcosContext, None],
        provider: WebhookProvider | None = None,  # type: ignore[valid-type]
        event: Annotated[
            str | None, strawberry.argument(metadata=column_bound(WebhookDelivery, "event"))
        ] = None,
        outcome: WebhookDeliveryOutcome | None = None,  # type: ignore[valid-type]
        first: int = 50,
        after: str | None = None,
    ) -> WebhookDeliveryConnection:
        check_page_size("first", first, info.context.settings.max_page_size)
        after_id = decode_cursor(DELIVERY_CURSOR, after)
        query = WebhookDelivery.all()
        if provider is not None:
            query = query.filter(provider=provider.value)
        if event is not None:
            if unstorable(event):
                raise BadUserInput("the event filter contains a NUL or a lone surrogate")
            query = query.filter(event=event)
        if outcome is not None:
            query = query.filter(outcome=outcome)
        if after_id is not None:
            query = query.filter(id__lt=after_id)
        rows = await query.order_by("-id").limit(first + 1)
        page = rows[:first]
        return WebhookDeliveryConnection(
            nodes=[WebhookDeliveryType.from_model(row) for row in page],
            page_info=page_info(
                [encode_cursor(DELIVERY_CURSOR, row.id) for row in page], len(rows) > first, after
            ),
        )

    @strawberry.field(description="Every webhook endpoint, what it maps and how it "
                      "authenticates.", permission_classes=OPERATORS)
    async def webhook_endpoints(self, info: Info[ArcosContext, None]) -> list[WebhookEndpoint]:
        settings = info.context.settings
        endpoints = []
        # One read of the overrides for every endpoint, not two per endpoint.
        overrides = await credentials.secret_overrides(SECRET_NAMES)
        for provider in PROVIDERS.values():
            names = provider.secret_settings
            secrets = credentials.secrets_in_force(names, settings, overrides)
            configured = any(secrets.values())
            endpoints.append(WebhookEndpoint(
                provider=provider.name, path=provider.path,
                authentication=provider.authentication,
                secret_configured=configured,
                previous_secret_configured=credentials.rotation_under_way(
                    names, settings, overrides
                ),
                unsigned_allowed=settings.webhook_allow_unsigned and not configured,
                events=[WebhookEventMapping(event=e, evidence=d)
                        for e, d in provider.mapping.EVENTS.items()],
            ))
        return endpoints


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="Record one verified delivery and the evidence it maps to. The webhook "
        "routes run this after checking the provider's signature.",
        permission_classes=[requires(WEBHOOKS_DELIVER)],
    )
    async def ingest_webhook_delivery(
        self, info: Info[ArcosContext, None], input: IngestWebhookDeliveryInput
    ) -> IngestWebhookDeliveryPayload:
        context = info.context
        provider = input.provider.value
        dedupe_key = input.dedupe_key
        if context.caller.token_id is not None:
            # An API token, not a signature-verified route: it speaks only for CI/CD, and
            # its dedupe keys live in its own namespace so it cannot pre-empt other senders.
            if provider != "cicd":
                raise ArcosError(
                    "API tokens may deliver only CI/CD payloads; SCM deliveries must arrive "
                    f"signed at /api/webhooks/{provider}",
                    ErrorCode.FORBIDDEN,
                )
            dedupe_key = f"{context.caller.name}/{dedupe_key}"
        problems = _field_length_problems(input.event, input.action, dedupe_key)
        if problems:
            return IngestWebhookDeliveryPayload(delivery=None, duplicate=False, errors=problems)
        delivery = service.Delivery(
            provider=provider, event=input.event, action=input.action, dedupe_key=dedupe_key,
            body=input.body, guard_replays=PROVIDERS[provider].signed,
            body_sha256=context.parsed_sha256(input.body),
        )
        try:
            ingestion = await service.ingest(
                delivery, evidence_mapping_for(provider), context.write_context(),
                payload=context.parsed(input.body),
                group=context.domain_services.get(service.DELIVERY_GROUP),
            )
        except Refused as refused:
            return IngestWebhookDeliveryPayload(delivery=None, duplicate=False,
                                                errors=user_errors(refused))
        return IngestWebhookDeliveryPayload(
            delivery=WebhookDeliveryType.from_model(ingestion.delivery),
            duplicate=ingestion.duplicate, errors=[],
        )

    @strawberry.mutation(description="Map a stored delivery again, e.g. after a mapping fix.",
                         permission_classes=[requires(ADMIN)])
    async def reprocess_webhook_delivery(
        self, info: Info[ArcosContext, None], input: ReprocessWebhookDeliveryInput
    ) -> ReprocessWebhookDeliveryPayload:
        context = info.context
        if not is_database_id(str(input.delivery_id)):
            raise BadUserInput(f"deliveryId must be a number (got {input.delivery_id!r:.40})")
        try:
            delivery = await service.reprocess(
                int(input.delivery_id), evidence_mapping_for, context.write_context()
            )
        except Refused as refused:
            return ReprocessWebhookDeliveryPayload(delivery=None, errors=user_errors(refused))
        return ReprocessWebhookDeliveryPayload(
            delivery=WebhookDeliveryType.from_model(delivery), errors=[]
        )

    @strawberry.mutation(description="Replace a webhook secret at run time (admins).",
                         permission_classes=[requires(ADMIN)])
    async def set_webhook_secret(
        self, info: Info[ArcosContext, None], input: SetWebhookSecretInput
    ) -> SetWebhookSecretPayload:
        if len(input.secret) < MIN_SECRET_LENGTH:
            return SetWebhookSecretPayload(name=None, previous_configured=False, errors=[
                UserError(field="secret", message=f"use at least {MIN_SECRET_LENGTH} characters",
                          code=ProblemCode.INVALID)
            ])
        row = await credentials.set_secret(
            input.name.value, input.secret, input.keep_previous, info.context.write_context()
        )
        return SetWebhookSecretPayload(name=row.name, previous_configured=bool(row.previous),
                                       errors=[])


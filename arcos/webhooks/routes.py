"""POST /api/webhooks/{github,gitlab,bitbucket,cicd}: verify the raw bytes, then run the
IngestWebhookDelivery operation against the schema.

Fail closed: a provider with no secret configured refuses every delivery (401 naming the
setting) unless ARCOS_WEBHOOK_ALLOW_UNSIGNED is on, which is logged loudly. Unmapped events
answer 202 and pings 200, never 4xx: GitLab disables hooks that keep failing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from arcos.auth.caller import Caller
from arcos.graphql.context import ParsedText
from arcos.metrics import WEBHOOK_DELIVERIES
from arcos.rest.adapter import RestAdapter, refusal_response
from arcos.rest.outcome import data_or_refusal, refuse_user_errors
from arcos.settings import env_name
from arcos.web.refusal import RestRefusal
from arcos.webhooks import cicd
from arcos.webhooks.credentials import configured_secrets
from arcos.webhooks.deliveries import IncomingDelivery
from arcos.webhooks.models import DeliveryOutcome
from arcos.webhooks.providers import PROVIDERS, Provider
from arcos.webhooks.refusals import (
    DeliveryRefused,
    MalformedDelivery,
    NotVerified,
    UnsupportedDeliveryType,
)
from arcos.webhooks.scopes import WEBHOOKS_DELIVER
from arcos.webhooks.secret_cache import WEBHOOK_SECRETS, SecretCache

logger = logging.getLogger("arcos.webhooks")

#: Verifies a signed body once it has been read: (headers, body, now) -> None or refusal.
BodyCheck = Callable[[Mapping[str, str], bytes, float], None]

#: HTTP status for each outcome: only unmapped events are "accepted, nothing to do".
STATUS = {
    DeliveryOutcome.PROCESSED.name: 200,
    DeliveryOutcome.PING.name: 200,
    DeliveryOutcome.IGNORED.name: 202,
    DeliveryOutcome.FAILED.name: 202,
}

#: The HTTP answer to each way a delivery is refused before it becomes an operation.
REFUSAL_STATUS: dict[type[DeliveryRefused], tuple[int, str]] = {
    NotVerified: (401, "UNAUTHENTICATED"),
    MalformedDelivery: (400, "BAD_REQUEST"),
    UnsupportedDeliveryType: (415, "UNSUPPORTED_MEDIA_TYPE"),
}


def http_refusal(refused: DeliveryRefused) -> RestRefusal:
    """The HTTP refusal for a delivery the webhook code turned away."""
    status, code = REFUSAL_STATUS[type(refused)]
    return RestRefusal(status, str(refused), code)


class WebhookReceiver:
    """One provider's delivery route: settles what the headers can (no secret configured,
    bad token, unsigned delivery) before reading the body, verifies the signature over the
    raw bytes, then runs IngestWebhookDelivery through the REST adapter and answers with
    the status the outcome calls for (unmapped events 202, never 4xx)."""

    def __init__(self, adapter: RestAdapter, provider: Provider) -> None:
        self.adapter = adapter
        self.provider = provider
        self.system = Caller(name=provider.submitter, kind="scm", authenticated=True,
                             scopes=frozenset({WEBHOOKS_DELIVER}))

    async def handle(self, request: Request) -> Response:
        try:
            caller, delivery = await self._receive(request)
            result = await self.adapter.execute(
                "IngestWebhookDelivery",
                {"input": {
                    "provider": delivery.provider.upper(), "event": delivery.event,
                    "action": delivery.action, "dedupeKey": delivery.dedupe_key,
                    "body": delivery.body,
                }},
                caller, request, parsed=ParsedText(
                    delivery.body, delivery.payload, sha256=delivery.body_sha256
                ),
            )
            payload = data_or_refusal(result)["ingestWebhookDelivery"]
            refuse_user_errors(payload)
        except DeliveryRefused as refused:
            refusal = http_refusal(refused)
            self._count(refusal.code)
            return refusal_response(refusal)
        except RestRefusal as refusal:
            self._count(refusal.code)
            return refusal_response(refusal)
        recorded = payload["delivery"]
        self._count("duplicate" if payload["duplicate"] else recorded["outcome"].lower())
        return JSONResponse(
            {"duplicate": payload["duplicate"], "delivery": recorded},
            status_code=STATUS[recorded["outcome"]],
        )

    def _count(self, outcome: str) -> None:
        """One delivery answered with `outcome` (a DeliveryOutcome, "duplicate" or an error
        code: closed sets, so the label stays bounded)."""
        WEBHOOK_DELIVERIES.labels(self.provider.name, outcome).inc()

    async def _receive(self, request: Request) -> tuple[Caller, IncomingDelivery]:
        """The authenticated caller and the verified delivery. A refusal decided with
        cached secrets is decided again with those in the store (another process may
        just have set the one this delivery is signed with); see secret_cache.py."""
        secrets = self.adapter.services.domain_services.get(WEBHOOK_SECRETS)
        cached = secrets is not None and secrets.cached
        try:
            return await self._verified(request, secrets, fresh=False)
        except (NotVerified, RestRefusal) as refusal:
            if not cached or (isinstance(refusal, RestRefusal) and refusal.status != 401):
                raise
            return await self._verified(request, secrets, fresh=True)

    async def _verified(
        self, request: Request, secrets: SecretCache | None, fresh: bool
    ) -> tuple[Caller, IncomingDelivery]:
        caller, verify_body = await self._authenticate(request, secrets, fresh)
        body = await request.body()
        delivery = await self.adapter.json_threads.run(
            self._read, request.headers, body, verify_body, time.time(), size=len(body)
        )
        return caller, delivery

    def _read(
        self, headers: Mapping[str, str], body: bytes, verify_body: BodyCheck | None, now: float
    ) -> IncomingDelivery:
        """Check the signature over the body and parse it: both grow with the body, so a
        large one runs in a JSON thread."""
        if verify_body is not None:
            verify_body(headers, body, now)
        return self.provider.identify(headers, body)

    async def _authenticate(
        self, request: Request, cache: SecretCache | None, fresh: bool
    ) -> tuple[Caller, BodyCheck | None]:
        """Everything the headers alone can settle, before the body is read: a provider
        with no secret, a missing or wrong token and an unsigned delivery are refused
        without reading a byte of the body. Returns the caller and, for a delivery that
        signs its body, the check to run on the body once read."""
        provider = self.provider
        settings = self.adapter.settings
        names = provider.secret_settings
        secrets = (
            await cache.secrets(names, fresh) if cache is not None
            else await configured_secrets(names, settings)
        )
        system = self.system
        if provider.verify is None:  # CI/CD: a bearer token
            if cicd.shared_token_matches(request.headers, secrets):
                return system, None
            if request.headers.get("authorization"):
                caller = await self.adapter.caller(request)  # an API token
                self.adapter.authorize("IngestWebhookDelivery", caller)
                return caller, None
            raise RestRefusal(401, "send Authorization: Bearer <ARCOS_CICD_WEBHOOK_TOKEN or an "
                              "API token with webhooks:deliver>", "UNAUTHENTICATED")
        if not any(secrets.values()):
            names = " or ".join(env_name(name) for name in provider.secret_settings)
            if not settings.webhook_allow_unsigned:
                raise RestRefusal(401, f"{provider.name} deliveries are refused until {names} "
                                  "is set", "UNAUTHENTICATED")
            logger.warning("ACCEPTING AN UNSIGNED %s DELIVERY: ARCOS_WEBHOOK_ALLOW_UNSIGNED is "
                           "on and %s is not set; never run like this in production",
                           provider.name, names)
            return system, None
        verify = provider.verify
        if not provider.signs_body(request.headers):
            # No body signature: what verify checks (a token, or the signature's absence)
            # is all in the headers.
            verify(request.headers, b"", secrets, time.time())
            return system, None
        return system, lambda headers, body, now: verify(headers, body, secrets, now)


def webhook_routes(adapter: RestAdapter) -> list[Route]:
    if adapter.settings.webhook_allow_unsigned:
        logger.warning("ARCOS_WEBHOOK_ALLOW_UNSIGNED is on: providers without a secret accept "
                       "unsigned deliveries. This is for development only.")
    return [
        Route(provider.path, WebhookReceiver(adapter, provider).handle, methods=["POST"])
        for provider in PROVIDERS.values()
    ]

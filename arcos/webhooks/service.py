"""Recording deliveries and turning them into evidence, one unit of work each.

A delivery row and the evidence it produced commit together or not at all, with their
outbox events; subscribers hear of the evidence only after that commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from arcos.evidence.drafts import DraftLimits, EvidenceDraft, check_draft
from arcos.evidence.models import RelationKind
from arcos.evidence.service import draft_limits, insert_drafts, link_in
from arcos.problems import ProblemCode, Refused
from arcos.settings import Settings
from arcos.store.housekeeping import Sweep
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext
from arcos.web.json_text import parse_json
from arcos.web.json_threads import JsonThreads
from arcos.webhooks import deliveries, replay
from arcos.webhooks.models import DeliveryOutcome, WebhookDelivery


@dataclass
class Ingestion:
    delivery: WebhookDelivery
    duplicate: bool


@dataclass(frozen=True)
class EvidenceMapping:
    """What a provider's mapping module offers (see arcos/webhooks/mapping/)."""

    normalize: Any
    ping_events: frozenset[str]

    @classmethod
    def of(cls, module: ModuleType) -> EvidenceMapping:
        return cls(module.normalize, frozenset(getattr(module, "PING_EVENTS", frozenset())))


@dataclass(frozen=True)
class Delivery:
    """One delivery as the receiver identified and authenticated it."""

    provider: str
    event: str
    action: str | None
    dedupe_key: str
    body: str
    #: Only bodies a provider signed can be told apart from replays by their bytes; CI/CD
    #: senders are principals whose keys are namespaced instead.
    guard_replays: bool
    #: The body's hex SHA-256 when the receiver already took it (a delivery without an
    #: id is keyed by it); else `ingest` takes it, once.
    body_sha256: str | None = None


Classified = tuple[DeliveryOutcome, list[EvidenceDraft], str | None]


async def _classify(
    mapping: EvidenceMapping,
    event: str,
    body: str,
    limits: DraftLimits,
    threads: JsonThreads,
    payload: dict[str, Any] | None = None,
) -> Classified:
    """Parse (unless `payload` is given), map and check a delivery; in a thread when the
    body is large, since each of the three steps grows with it."""
    return await threads.run(
        _parse_and_classify, mapping, event, body, limits, payload, size=len(body)
    )


def _parse_and_classify(
    mapping: EvidenceMapping,
    event: str,
    body: str,
    limits: DraftLimits,
    payload: dict[str, Any] | None,
) -> Classified:
    if payload is None:
        payload = _payload(body)
    if event in mapping.ping_events:
        return DeliveryOutcome.PING, [], None
    drafts = mapping.normalize(event, payload)
    if not drafts:
        return DeliveryOutcome.IGNORED, [], f"ARCOS does not map {event!r} deliveries"
    problems = [e for i, d in enumerate(drafts) for e in check_draft(d, limits, f"{i}.")]
    if problems:
        detail = "; ".join(f"{p.field}: {p.message}" for p in problems)
        return DeliveryOutcome.FAILED, [], f"the mapping produced invalid evidence: {detail}"
    return DeliveryOutcome.PROCESSED, drafts, None


async def ingest(
    delivery: Delivery,
    mapping: EvidenceMapping,
    write: WriteContext,
    payload: dict[str, Any] | None = None,
) -> Ingestion:
    """Record a delivery and its evidence in one unit of work; a repeated dedupe key
    returns the first record, and so does, when the delivery guards replays, a body
    already delivered within ARCOS_WEBHOOK_REPLAY_WINDOW_SECONDS. `payload` is the body
    already parsed (by the webhook route), so a large body is parsed once.

    The unique (provider, dedupe_key) index, not the look-up, decides which of several
    concurrent duplicates is the first.
    """
    threads = write.json_threads
    body_sha256 = delivery.body_sha256 or await threads.run(
        deliveries.body_sha256, delivery.body, size=len(delivery.body)
    )
    window = timedelta(
        seconds=write.settings.webhook_replay_window_seconds if delivery.guard_replays else 0
    )
    existing = await _first_delivery(delivery.provider, delivery.dedupe_key, body_sha256, window)
    if existing is not None:
        return Ingestion(existing, duplicate=True)
    outcome, drafts, detail = await _classify(
        mapping, delivery.event, delivery.body, draft_limits(write.settings), threads, payload
    )

    async def work(unit: UnitOfWork) -> Ingestion:
        submissions = await insert_drafts(unit, drafts, write.principal)
        # Inserted last: a concurrent duplicate fails here and rolls the evidence back.
        row = await WebhookDelivery.create(
            provider=delivery.provider, event=delivery.event, action=delivery.action,
            dedupe_key=delivery.dedupe_key, received_at=unit.now, outcome=outcome,
            detail=detail, raw_body=delivery.body, body_sha256=body_sha256,
            evidence_ids=[str(s.evidence.uid) for s in submissions], using_db=unit.connection,
        )
        await replay.claim(delivery.provider, body_sha256, row.id, window, unit.connection)
        return Ingestion(row, duplicate=False)

    async def first(conflict: Exception) -> Ingestion:
        found = await _first_delivery(
            delivery.provider, delivery.dedupe_key, body_sha256, window
        )
        if found is None:
            raise conflict
        return Ingestion(found, duplicate=True)

    return await write.writer.run(work, retries=0, on_conflict=first)


async def _first_delivery(
    provider: str, dedupe_key: str, body_sha256: str, replay_window: timedelta
) -> WebhookDelivery | None:
    """The delivery this one repeats: the same dedupe key, or the same body in the window."""
    first = await WebhookDelivery.get_or_none(provider=provider, dedupe_key=dedupe_key)
    return first or await replay.recent_delivery(provider, body_sha256, replay_window)


async def reprocess(
    delivery_id: int,
    mapping_for: Callable[[str], EvidenceMapping],
    write: WriteContext,
) -> WebhookDelivery:
    """Map a stored delivery again (after a mapping fix). New evidence supersedes the old,
    linked with the same checks as `linkEvidence`.

    The body is mapped before the unit of work (it only grows with the body and the
    stored body never changes), but the row is read again inside it, locked (PostgreSQL;
    SQLite runs one writer at a time): two reprocesses at once then take turns, and the
    second supersedes the evidence the first recorded instead of overwriting its ids.
    """
    delivery = await WebhookDelivery.get_or_none(id=delivery_id)
    if delivery is None:
        raise Refused.one("id", f"no delivery with id {delivery_id}", ProblemCode.NOT_FOUND)
    if delivery.raw_body is None:
        raise Refused.one(
            "id", "its body is past ARCOS_WEBHOOK_BODY_RETENTION_DAYS and was not kept",
            ProblemCode.INVALID,
        )
    outcome, drafts, detail = await _classify(
        mapping_for(delivery.provider), delivery.event, delivery.raw_body,
        draft_limits(write.settings), write.json_threads,
    )

    async def work(unit: UnitOfWork) -> WebhookDelivery:
        # Only the ids: the body was read once already, and is all that is large here.
        locked = await WebhookDelivery.filter(id=delivery_id).using_db(
            unit.connection
        ).select_for_update().only("id", "evidence_ids").first()
        if locked is None:
            raise Refused.one("id", f"no delivery with id {delivery_id}", ProblemCode.NOT_FOUND)
        previous = [uuid.UUID(uid) for uid in locked.evidence_ids]
        submissions = await insert_drafts(unit, drafts, write.principal)
        for submission in submissions:
            for old in previous:
                await link_in(unit, submission.evidence.uid, old, RelationKind.SUPERSEDES,
                              write.principal)
        delivery.outcome = outcome
        delivery.detail = detail
        delivery.evidence_ids = [str(s.evidence.uid) for s in submissions] or (
            locked.evidence_ids
        )
        delivery.reprocessed_at = unit.now
        await delivery.save(
            using_db=unit.connection,
            update_fields=["outcome", "detail", "evidence_ids", "reprocessed_at"],
        )
        return delivery

    return await write.writer.run(work)


def sweeps(settings: Settings) -> list[Sweep]:
    """The webhooks domain's retention jobs, for the app's housekeeping."""
    retention = timedelta(days=settings.webhook_body_retention_days)
    window = timedelta(seconds=settings.webhook_replay_window_seconds)
    return [
        Sweep("webhook bodies", lambda: forget_old_bodies(retention)),
        Sweep("webhook replay marks", lambda: replay.forget_stale(window)),
    ]


async def forget_old_bodies(retention: timedelta) -> None:
    """Drop raw bodies older than the retention window (the delivery record stays)."""
    cutoff = datetime.now(UTC) - retention
    await WebhookDelivery.filter(received_at__lt=cutoff, raw_body__not_isnull=True).update(
        raw_body=None
    )


def _payload(body: str) -> dict[str, Any]:
    try:
        value = parse_json(body)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise Refused.one("body", "body must be a JSON object", ProblemCode.INVALID)
    return value

"""Recording deliveries and turning them into evidence, in one transaction each.

A delivery row and the evidence it produced commit together or not at all; subscribers
hear of the evidence only after that commit. The unique (provider, dedupe_key) index, not
a look-up, decides which of several concurrent duplicates is the first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from arcos.broker import Broker
from arcos.evidence.drafts import DraftLimits, EvidenceDraft, check_draft
from arcos.evidence.models import Evidence, EvidenceRelation, RelationKind
from arcos.evidence.service import Submission, insert_drafts, publish_added, summaries
from arcos.problems import Problem, ProblemCode, Refused
from arcos.web.json_threads import INLINE, JsonThreads
from arcos.webhooks import replay
from arcos.webhooks.models import DeliveryOutcome, WebhookDelivery


@dataclass
class Ingestion:
    delivery: WebhookDelivery
    duplicate: bool


@dataclass(frozen=True)
class Mapping:
    """What a provider's mapping module offers (see arcos/webhooks/mapping/)."""

    normalize: Any
    ping_events: frozenset[str]

    @classmethod
    def of(cls, module: ModuleType) -> Mapping:
        return cls(module.normalize, frozenset(getattr(module, "PING_EVENTS", frozenset())))


Classified = tuple[DeliveryOutcome, list[EvidenceDraft], str | None]


async def _classify(
    mapping: Mapping, event: str, body: str, limits: DraftLimits, threads: JsonThreads
) -> Classified:
    """Parse, map and check a delivery; in a thread when the body is large, since each of
    the three steps grows with it."""
    return await threads.run(_parse_and_classify, mapping, event, body, limits, size=len(body))


def _parse_and_classify(
    mapping: Mapping, event: str, body: str, limits: DraftLimits
) -> Classified:
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
    provider: str,
    event: str,
    action: str | None,
    dedupe_key: str,
    body: str,
    mapping: Mapping,
    submitter: str,
    limits: DraftLimits,
    broker: Broker,
    retention: timedelta,
    replay_window: timedelta,
    guard_replays: bool,
    threads: JsonThreads = INLINE,
) -> Ingestion:
    """Record a delivery and its evidence; a repeated dedupe key returns the first record,
    and so does, when `guard_replays`, a body already delivered within `replay_window`
    (the configured window; zero: off)."""
    body_sha256 = await threads.run(_digest, body, size=len(body))
    window = replay_window if guard_replays else timedelta(0)
    existing = await _first_delivery(provider, dedupe_key, body_sha256, window)
    if existing is not None:
        return Ingestion(existing, duplicate=True)
    outcome, drafts, detail = await _classify(mapping, event, body, limits, threads)
    submissions: list[Submission] = []
    try:
        async with in_transaction() as connection:
            if drafts:
                submissions = await insert_drafts(drafts, submitter, connection)
            # Inserted last: a concurrent duplicate fails here and rolls the evidence back.
            delivery = await WebhookDelivery.create(
                provider=provider, event=event, action=action, dedupe_key=dedupe_key,
                received_at=datetime.now(UTC), outcome=outcome, detail=detail,
                raw_body=body, body_sha256=body_sha256,
                evidence_ids=[str(s.evidence.uid) for s in submissions], using_db=connection,
            )
            await replay.claim(provider, body_sha256, delivery.id, window, connection)
    except IntegrityError:
        first = await _first_delivery(provider, dedupe_key, body_sha256, window)
        if first is None:
            raise
        return Ingestion(first, duplicate=True)
    await publish_added(broker, submissions)
    await _sweeper.maybe_sweep(retention, replay_window)
    return Ingestion(delivery, duplicate=False)


async def _first_delivery(
    provider: str, dedupe_key: str, body_sha256: str, replay_window: timedelta
) -> WebhookDelivery | None:
    """The delivery this one repeats: the same dedupe key, or the same body in the window."""
    first = await WebhookDelivery.get_or_none(provider=provider, dedupe_key=dedupe_key)
    return first or await replay.recent_delivery(provider, body_sha256, replay_window)


async def reprocess(
    delivery_id: int,
    mapping_for: Any,
    submitter: str,
    limits: DraftLimits,
    broker: Broker,
    threads: JsonThreads = INLINE,
) -> WebhookDelivery:
    """Map a stored delivery again (after a mapping fix). New evidence supersedes the old."""
    delivery = await WebhookDelivery.get_or_none(id=delivery_id)
    if delivery is None:
        raise Refused([Problem(field="id", message=f"no delivery with id {delivery_id}",
                                      code=ProblemCode.NOT_FOUND)])
    if delivery.raw_body is None:
        raise Refused([Problem(
            field="id", code=ProblemCode.INVALID,
            message="its body is past ARCOS_WEBHOOK_BODY_RETENTION_DAYS and was not kept",
        )])
    outcome, drafts, detail = await _classify(
        mapping_for(delivery.provider), delivery.event, delivery.raw_body, limits, threads
    )
    submissions: list[Submission] = []
    async with in_transaction() as connection:
        previous = await summaries(Evidence.filter(uid__in=delivery.evidence_ids)).using_db(
            connection
        )
        if drafts:
            submissions = await insert_drafts(drafts, submitter, connection)
            for submission in submissions:
                for old in previous:
                    await EvidenceRelation.create(
                        from_evidence_id=submission.evidence.seq, to_evidence_id=old.seq,
                        relation=RelationKind.SUPERSEDES, created_by=submitter,
                        using_db=connection,
                    )
        delivery.outcome = outcome
        delivery.detail = detail
        delivery.evidence_ids = [str(s.evidence.uid) for s in submissions] or (
            delivery.evidence_ids
        )
        delivery.reprocessed_at = datetime.now(UTC)
        await delivery.save(using_db=connection)
    await publish_added(broker, submissions)
    return delivery


class _RetentionSweeper:
    """Runs the retention sweep at most once a minute, not on every delivery."""

    interval = timedelta(minutes=1)

    def __init__(self) -> None:
        self.last: datetime | None = None

    async def maybe_sweep(self, retention: timedelta, replay_window: timedelta) -> None:
        now = datetime.now(UTC)
        if self.last is None or now - self.last >= self.interval:
            self.last = now
            await forget_old_bodies(retention)
            await replay.forget_stale(replay_window)


_sweeper = _RetentionSweeper()


async def forget_old_bodies(retention: timedelta) -> None:
    """Drop raw bodies older than the retention window (the delivery record stays)."""
    cutoff = datetime.now(UTC) - retention
    await WebhookDelivery.filter(received_at__lt=cutoff, raw_body__not_isnull=True).update(
        raw_body=None
    )


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def _payload(body: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise Refused([Problem(field="body", message="body must be a JSON object",
                                      code=ProblemCode.INVALID)])
    return value

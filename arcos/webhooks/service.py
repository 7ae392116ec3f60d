"""Recording deliveries and turning them into evidence.

A delivery row and the evidence it produced commit together or not at all, with their
outbox events; subscribers hear of the evidence only after that commit. Concurrent
deliveries share a unit of work (the app's `delivery_group`, arcos/store/group_commit.py),
written with multi-row INSERTs; each sender is still answered only after its own record
committed, and with what it would have been answered alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError

from arcos.evidence.drafts import DraftLimits, EvidenceDraft, check_draft
from arcos.evidence.models import RelationKind
from arcos.evidence.service import draft_limits, insert_drafts, link_in
from arcos.problems import ProblemCode, Refused
from arcos.settings import Settings
from arcos.store.bulk import insert_all, select_where_in
from arcos.store.group_commit import GroupCommit
from arcos.store.housekeeping import Sweep
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext
from arcos.web.json_text import parse_json
from arcos.web.json_threads import JsonThreads
from arcos.webhooks import deliveries, replay
from arcos.webhooks.models import DeliveryOutcome, WebhookDelivery

if TYPE_CHECKING:
    from arcos.graphql.context import AppServices


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


@dataclass(frozen=True)
class MappedDelivery:
    """A delivery ready to be written: mapped and checked, outside any transaction."""

    delivery: Delivery
    body_sha256: str
    #: How far back a body repeats an earlier delivery (0: only its dedupe key does).
    replay_window: timedelta
    outcome: DeliveryOutcome
    drafts: list[EvidenceDraft]
    detail: str | None
    #: Who its evidence is recorded as submitted by.
    principal: str

    @property
    def key(self) -> tuple[str, str]:
        return self.delivery.provider, self.delivery.dedupe_key


#: The webhooks domain's app service that writes concurrent deliveries together.
DELIVERY_GROUP = "webhooks.delivery_group"
#: Writes mapped deliveries together (see `delivery_group` and arcos/store/group_commit.py).
DeliveryGroup = GroupCommit[MappedDelivery, Ingestion]


async def ingest(
    delivery: Delivery,
    mapping: EvidenceMapping,
    write: WriteContext,
    payload: dict[str, Any] | None = None,
    group: DeliveryGroup | None = None,
) -> Ingestion:
    """Record a delivery and its evidence in one unit of work; a repeated dedupe key
    returns the first record, and so does, when the delivery guards replays, a body
    already delivered within ARCOS_WEBHOOK_REPLAY_WINDOW_SECONDS. `payload` is the body
    already parsed (by the webhook route), so a large body is parsed once.

    With `group` (the app's `delivery_group`), concurrent deliveries share a transaction;
    each still returns only once its own record committed. The look-up for an earlier
    record is made inside the transaction, and the unique (provider, dedupe_key) index,
    not the look-up, decides which of several concurrent duplicates is the first.
    """
    threads = write.json_threads
    body_sha256 = delivery.body_sha256 or await threads.run(
        deliveries.body_sha256, delivery.body, size=len(delivery.body)
    )
    window = timedelta(
        seconds=write.settings.webhook_replay_window_seconds if delivery.guard_replays else 0
    )
    outcome, drafts, detail = await _classify(
        mapping, delivery.event, delivery.body, draft_limits(write.settings), threads, payload
    )
    mapped = MappedDelivery(
        delivery, body_sha256, window, outcome, drafts, detail, write.principal
    )
    if group is not None:
        return await group.submit(mapped)

    async def work(unit: UnitOfWork) -> Ingestion:
        [ingestion] = await write_deliveries(unit, [mapped])
        return ingestion

    async def first(conflict: IntegrityError) -> Ingestion:
        return await first_delivery(mapped, conflict)

    return await write.writer.run(work, retries=0, on_conflict=first)


def delivery_group(services: AppServices) -> DeliveryGroup:
    """The app's group commit for deliveries (the webhooks domain's app service)."""
    return GroupCommit(
        services.writer, write_deliveries, on_conflict=first_delivery, name="webhook-deliveries"
    )


async def write_deliveries(
    unit: UnitOfWork, mapped: Sequence[MappedDelivery]
) -> list[Ingestion]:
    """Record `mapped` deliveries and their evidence in `unit`, in a few statements.

    A delivery whose key (or, guarding replays, whose body) an earlier committed delivery
    has, or an earlier one of this group, answers as that one, writing nothing.
    """
    earlier = await _stored_deliveries(unit, {item.key for item in mapped})
    answers: list[Ingestion | int] = []  # an Ingestion, or the index of the fresh one it repeats
    fresh: list[MappedDelivery] = []
    first_of: dict[tuple[str, ...], int] = {}
    for item in mapped:
        found = earlier.get(item.key) or await replay.recent_delivery(
            item.delivery.provider, item.body_sha256, item.replay_window, unit.connection
        )
        if found is not None:
            answers.append(Ingestion(found, duplicate=True))
            continue
        marks = [item.key]
        if item.replay_window:
            marks.append((item.delivery.provider, "sha256", item.body_sha256))
        repeated = next((first_of[mark] for mark in marks if mark in first_of), None)
        if repeated is not None:
            answers.append(repeated)
            continue
        for mark in marks:
            first_of[mark] = len(fresh)
        answers.append(len(fresh))
        fresh.append(item)
    rows = await _insert_fresh(unit, fresh)
    for item, row in zip(fresh, rows, strict=True):
        await replay.claim(
            item.delivery.provider, item.body_sha256, row.id, item.replay_window, unit.connection
        )
    seen: set[int] = set()
    results: list[Ingestion] = []
    for answer in answers:
        if isinstance(answer, Ingestion):
            results.append(answer)
        else:
            results.append(Ingestion(rows[answer], duplicate=answer in seen))
            seen.add(answer)
    return results


async def _stored_deliveries(
    unit: UnitOfWork, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], WebhookDelivery]:
    """The committed deliveries with these (provider, dedupe_key) keys (one query)."""
    rows = await select_where_in(unit.connection, WebhookDelivery, {
        "provider": sorted({provider for provider, _ in keys}),
        "dedupe_key": sorted({key for _, key in keys}),
    })
    return {(row.provider, row.dedupe_key): row for row in rows
            if (row.provider, row.dedupe_key) in keys}


async def _insert_fresh(
    unit: UnitOfWork, fresh: list[MappedDelivery]
) -> list[WebhookDelivery]:
    """The evidence of `fresh` deliveries, then their records (last: a concurrent
    duplicate fails there and rolls its group's evidence back)."""
    evidence_ids: list[list[str]] = [[] for _ in fresh]
    by_principal: dict[str, list[int]] = {}
    for index, item in enumerate(fresh):
        by_principal.setdefault(item.principal, []).append(index)
    for principal, indexes in by_principal.items():
        submissions = iter(await insert_drafts(
            unit, [draft for index in indexes for draft in fresh[index].drafts], principal
        ))
        for index in indexes:
            evidence_ids[index] = [
                str(next(submissions).evidence.uid) for _ in fresh[index].drafts
            ]
    rows = [
        WebhookDelivery(
            provider=item.delivery.provider, event=item.delivery.event,
            action=item.delivery.action, dedupe_key=item.delivery.dedupe_key,
            received_at=unit.now, outcome=item.outcome, detail=item.detail,
            raw_body=item.delivery.body, body_sha256=item.body_sha256,
            evidence_ids=ids, reprocessed_at=None,
        )
        for item, ids in zip(fresh, evidence_ids, strict=True)
    ]
    await insert_all(unit.connection, rows)
    return rows


async def first_delivery(mapped: MappedDelivery, conflict: IntegrityError) -> Ingestion:
    """A delivery alone in its unit of work hit a unique index: the record that won."""
    found = await _first_delivery(
        mapped.delivery.provider, mapped.delivery.dedupe_key, mapped.body_sha256,
        mapped.replay_window,
    )
    if found is None:
        raise conflict
    return Ingestion(found, duplicate=True)


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

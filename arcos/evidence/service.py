"""The rules for writing and reading evidence. Resolvers and adapters call only these.

Writes are all-or-nothing and publish to the broker only after their transaction has
committed, so a subscriber never sees evidence that a rollback removed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from arcos.evidence.canonical import canonical_json, sha256_hex, size_up_to, wire_size
from arcos.evidence.drafts import DraftLimits, EvidenceDraft, check_draft
from arcos.evidence.events import EVIDENCE_ADDED, evidence_message
from arcos.evidence.models import (
    LARGE_VALUES,
    Evidence,
    EvidenceRelation,
    Project,
    RelationKind,
)
from arcos.problems import BadUserInput, Problem, ProblemCode, Refused
from arcos.settings import Settings
from arcos.storable import unstorable
from arcos.store import outbox
from arcos.store.bulk import insert_all, select_in
from arcos.store.resume import CatchUpPage
from arcos.store.select_cache import SelectCache
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext
from arcos.web.preencoded import PreEncodedJSON


def summaries(queryset: QuerySet[Evidence], keep: tuple[str, ...] = ()) -> QuerySet[Evidence]:
    """`queryset` without the large columns (`data`, `metadata`; rows are read-only) other
    than those in `keep`.

    Listings and look-ups select these; the values are loaded only for the items a
    response asks for and can hold (see arcos/graphql/budget.py).
    """
    columns = [
        name for name in Evidence._meta.fields_db_projection
        if name not in LARGE_VALUES or name in keep
    ]
    return queryset.only(*columns)


@dataclass
class Submission:
    """The stored evidence, and whether it was an idempotent replay of an earlier write.

    A fresh write also keeps the canonical JSON it stored, so the broker event carries it
    and no subscriber has to encode the values again.
    """

    evidence: Evidence
    project_slug: str | None
    replayed: bool = False
    canonical: dict[str, bytes] | None = None


@dataclass(frozen=True)
class EvidenceQuery:
    """Filters shared by every evidence listing."""

    type: str | None = None
    source: str | None = None
    project: str | None = None
    commit_sha: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("type", "source", "project", "commit_sha"):
            if unstorable(getattr(self, name)):
                raise BadUserInput(f"the {name} filter contains a NUL or a lone surrogate")

    def apply(self, queryset: QuerySet[Evidence]) -> QuerySet[Evidence]:
        if self.type is not None:
            queryset = queryset.filter(type=self.type)
        if self.source is not None:
            queryset = queryset.filter(source=self.source)
        if self.project is not None:
            queryset = queryset.filter(project__slug=self.project.strip().lower())
        if self.commit_sha is not None:
            queryset = queryset.filter(commit_sha=self.commit_sha.strip().lower())
        if self.since is not None:
            queryset = queryset.filter(created_at__gte=self.since)
        if self.until is not None:
            queryset = queryset.filter(created_at__lt=self.until)
        return queryset


async def submit_evidence(draft: EvidenceDraft, write: WriteContext) -> Submission:
    """Store one evidence item, or return the earlier one for a repeated idempotency key.

    Raises Refused naming each problem when the draft is unacceptable.
    """
    submissions = await _store([draft], write, lambda _: "")
    return submissions[0]


async def submit_evidence_batch(
    drafts: Sequence[EvidenceDraft], write: WriteContext
) -> list[Submission]:
    """Store every draft in one transaction, or none of them.

    Raises Refused listing every problem (per item, as `items.N.field`) when any draft
    is unacceptable; nothing is written in that case.
    """
    max_items = write.settings.max_batch_items
    if not drafts:
        raise Refused.one("items", "items must not be empty", ProblemCode.REQUIRED)
    if len(drafts) > max_items:
        raise Refused.one(
            "items", f"a batch holds at most {max_items} items (got {len(drafts)}); split it",
            ProblemCode.LIMIT_EXCEEDED,
        )
    return await _store(drafts, write, lambda index: f"items.{index}.")


FieldPrefix = Callable[[int], str]


async def _store(
    drafts: Sequence[EvidenceDraft], write: WriteContext, prefix: FieldPrefix
) -> list[Submission]:
    # Checking and encoding large items takes long enough to stall other clients: in a
    # thread, unless they are small enough that the hand-off would cost more.
    threads = write.json_threads
    errors = await threads.run(
        check_drafts, drafts, draft_limits(write.settings), prefix,
        size=_size_up_to(drafts, threads.min_bytes),
    )
    errors += _duplicate_keys_within(drafts, prefix)
    if errors:
        raise Refused(errors)
    submitter = write.principal

    async def work(unit: UnitOfWork) -> list[Submission]:
        # Inside the transaction: if another request commits one of these keys between
        # this look-up and the insert, the insert fails, the unit rolls back and runs
        # again, and this look-up then finds that request's item.
        earlier = await _earlier_submissions(drafts, submitter, prefix, unit.connection)
        pending = [d for d in drafts if not (d.idempotency_key and d.idempotency_key in earlier)]
        fresh = iter(await insert_drafts(unit, pending, submitter))
        return [
            earlier.get(d.idempotency_key) if d.idempotency_key in earlier else next(fresh)
            for d in drafts
        ]

    async def conflict(_: Exception) -> list[Submission]:
        raise Refused.one(
            None, "other requests are writing the same idempotency keys; retry",
            ProblemCode.CONFLICT,
        )

    return await write.writer.run(work, on_conflict=conflict)


def draft_limits(settings: Settings) -> DraftLimits:
    return DraftLimits(
        max_json_depth=settings.max_json_depth, max_evidence_bytes=settings.max_evidence_bytes
    )


def check_drafts(
    drafts: Sequence[EvidenceDraft], limits: DraftLimits, prefix: FieldPrefix
) -> list[Problem]:
    """`check_draft` for every draft, each draft's problems under `prefix(index)`."""
    return [e for i, d in enumerate(drafts) for e in check_draft(d, limits, prefix(i))]


def _size_up_to(drafts: Sequence[EvidenceDraft], cap: int) -> int:
    """About the canonical size of the drafts' values, counted only up to `cap`."""
    size = 0
    for draft in drafts:
        for value in (draft.data, draft.metadata):
            size += size_up_to(value, cap - size)
            if size >= cap:
                return cap
    return size


def _duplicate_keys_within(drafts: Sequence[EvidenceDraft], prefix: FieldPrefix) -> list[Problem]:
    seen: set[str] = set()
    errors = []
    for index, draft in enumerate(drafts):
        key = draft.idempotency_key
        if key is None:
            continue
        if key in seen:
            errors.append(Problem(
                field=prefix(index) + "idempotencyKey",
                message="the same idempotencyKey appears twice in this batch",
                code=ProblemCode.CONFLICT,
            ))
        seen.add(key)
    return errors


async def _earlier_submissions(
    drafts: Sequence[EvidenceDraft], submitter: str, prefix: FieldPrefix, connection: Any
) -> dict[str | None, Submission]:
    """Stored evidence for the drafts' idempotency keys; refuses keys reused for new content."""
    keys = [d.idempotency_key for d in drafts if d.idempotency_key]
    if not keys:
        return {}
    # `metadata` too: a replay must carry the same (its `data` is compared by hash).
    rows = await summaries(
        Evidence.filter(submitted_by=submitter, idempotency_key__in=keys), keep=("metadata",)
    ).prefetch_related("project").using_db(connection)
    stored = {row.idempotency_key: row for row in rows}
    conflicts = []
    for index, draft in enumerate(drafts):
        row = stored.get(draft.idempotency_key) if draft.idempotency_key else None
        if row is not None and not _same_content(row, draft):
            conflicts.append(Problem(
                field=prefix(index) + "idempotencyKey",
                message="this idempotencyKey was already used for different evidence; "
                "use a new key for new content",
                code=ProblemCode.CONFLICT,
            ))
    if conflicts:
        raise Refused(conflicts)
    return {
        key: Submission(row, row.project.slug if row.project else None, replayed=True)
        for key, row in stored.items()
        if key is not None
    }


def _same_content(row: Evidence, draft: EvidenceDraft) -> bool:
    """Whether a replay carries what was stored: every field a client sets, `metadata`
    included (compared canonically, so key order does not matter)."""
    project_slug = row.project.slug if row.project else None
    return (
        row.type == draft.type
        and row.source == draft.source
        and row.sha256 == draft_sha256(draft)
        and project_slug == draft.project
        and row.commit_sha == draft.commit_sha
        and row.ref == draft.ref
        # The draft's metadata as `check_draft` encoded it, not encoded (and hashed) again.
        and canonical_json(row.metadata or {}) == _canonical(draft)["metadata"]
    )


async def insert_drafts(
    unit: UnitOfWork, drafts: Sequence[EvidenceDraft], submitter: str
) -> list[Submission]:
    """Insert checked drafts in `unit` and publish each as `evidence.added` when it commits.

    For every writer that stores evidence, alone or with rows of its own (webhook
    deliveries, findings, metrics, jobs).
    """
    return await _insert(unit, [
        RestoredEvidence(draft, uuid.uuid4(), submitter, unit.now) for draft in drafts
    ])


@dataclass
class RestoredEvidence:
    """A checked draft with the identity it already has: its public id, who submitted it
    and when (a new item gets fresh ones; one read back from an export keeps its own)."""

    draft: EvidenceDraft
    uid: uuid.UUID
    submitted_by: str
    created_at: datetime


async def restore_evidence(
    unit: UnitOfWork, items: Sequence[RestoredEvidence]
) -> list[Submission]:
    """Insert evidence exported from a store (`arcos import`, arcos/evidence/restore.py)
    as it was there, through the same path as new evidence: same columns, sizes and hash,
    and its `evidence.added` event in the outbox."""
    return await _insert(unit, items)


async def _insert(unit: UnitOfWork, items: Sequence[RestoredEvidence]) -> list[Submission]:
    if not items:
        return []
    projects = await _ensure_projects(
        {i.draft.project for i in items if i.draft.project}, unit.connection
    )
    rows: list[Evidence] = []
    for item in items:
        draft = item.draft
        canonical = _canonical(draft)
        rows.append(Evidence(
            uid=item.uid,
            type=draft.type,
            source=draft.source,
            project=projects.get(draft.project) if draft.project else None,
            commit_sha=draft.commit_sha,
            ref=draft.ref,
            data=PreEncodedJSON(canonical["data"].decode()),
            metadata=PreEncodedJSON(canonical["metadata"].decode()),
            data_size=wire_size(canonical["data"]),
            metadata_size=wire_size(canonical["metadata"]),
            sha256=draft_sha256(draft),
            submitted_by=item.submitted_by,
            idempotency_key=draft.idempotency_key,
            created_at=item.created_at,
        ))
    # A few multi-row INSERTs, not one statement (and one SQL build) per item.
    await insert_all(unit.connection, rows)
    created: list[Submission] = []
    for item, evidence in zip(items, rows, strict=True):
        draft = item.draft
        canonical = _canonical(draft)
        evidence.data, evidence.metadata = draft.data, draft.metadata
        created.append(Submission(evidence, draft.project, canonical=canonical))
        unit.publish(evidence_message(evidence, draft.project, canonical))
    return created


def _canonical(draft: EvidenceDraft) -> dict[str, bytes]:
    """The draft's values as canonical JSON: kept from `check_draft`, or encoded now."""
    if draft.canonical is None:
        draft.canonical = {name: canonical_json(getattr(draft, name))
                           for name in ("data", "metadata")}
    return draft.canonical


def draft_sha256(draft: EvidenceDraft) -> str:
    """The hex SHA-256 of the draft's canonical `data`, computed once per draft: the
    `sha256` evidence is stored (and exported, and verified on import) with."""
    if draft.sha256 is None:
        draft.sha256 = sha256_hex(_canonical(draft)["data"])
    return draft.sha256


async def _ensure_projects(slugs: set[str], connection: Any) -> dict[str, Project]:
    """Projects for `slugs`, created inside the caller's transaction when missing.

    INSERT … ON CONFLICT DO NOTHING keeps concurrent creators of one slug from failing.
    """
    if not slugs:
        return {}
    found = {p.slug: p for p in await select_in(connection, Project, "slug", slugs)}
    missing = sorted(slugs - set(found))
    if not missing:
        return found  # the common case: one SELECT
    await Project.bulk_create(
        [Project(slug=slug) for slug in missing], ignore_conflicts=True, using_db=connection
    )
    created = await select_in(connection, Project, "slug", missing)
    return {**found, **{project.slug: project for project in created}}


async def link_evidence(
    from_uid: uuid.UUID, to_uid: uuid.UUID, relation: RelationKind, write: WriteContext
) -> EvidenceRelation:
    """Record `from --relation--> to`; linking the same pair twice returns the first link."""

    async def work(unit: UnitOfWork) -> EvidenceRelation:
        return await link_in(unit, from_uid, to_uid, relation, write.principal)

    async def first_link(_: Exception) -> EvidenceRelation:
        # A concurrent request stored the same link first: answer with it.
        source, target = await _ends(from_uid, to_uid, None)
        return await EvidenceRelation.get(
            from_evidence_id=source.seq, to_evidence_id=target.seq, relation=relation
        )

    return await write.writer.run(work, retries=0, on_conflict=first_link)


async def link_in(
    unit: UnitOfWork,
    from_uid: uuid.UUID,
    to_uid: uuid.UUID,
    relation: RelationKind,
    created_by: str,
) -> EvidenceRelation:
    """`linkEvidence`'s checks and insert inside `unit`, also for writers that link as part
    of a larger write (webhook reprocessing)."""
    source, target = await _ends(from_uid, to_uid, unit.connection)
    existing = await EvidenceRelation.filter(
        from_evidence_id=source.seq, to_evidence_id=target.seq, relation=relation
    ).using_db(unit.connection).first()
    if existing is not None:
        return existing
    return await EvidenceRelation.create(
        from_evidence_id=source.seq,
        to_evidence_id=target.seq,
        relation=relation,
        created_by=created_by,
        created_at=unit.now,
        using_db=unit.connection,
    )


async def _ends(
    from_uid: uuid.UUID, to_uid: uuid.UUID, connection: Any
) -> tuple[Evidence, Evidence]:
    """Both ends of a link; Refused naming each one that does not exist."""
    if from_uid == to_uid:
        raise Refused.one("to", "evidence cannot relate to itself", ProblemCode.INVALID)
    rows = await summaries(Evidence.filter(uid__in=[from_uid, to_uid])).using_db(connection)
    ends = {row.uid: row for row in rows}
    missing = [
        Problem(field=name, message=f"no evidence with id {uid}", code=ProblemCode.NOT_FOUND)
        for name, uid in (("from", from_uid), ("to", to_uid))
        if uid not in ends
    ]
    if missing:
        raise Refused(missing)
    return ends[from_uid], ends[to_uid]


async def resume_position(seq: int) -> int:
    """The outbox position of evidence `seq`'s event, to resume a stream after it; 0 (the
    start of the kept log) for the cursor of seq 0.

    Raises BadUserInput when the item's event is no longer (or was never) in the outbox.
    """
    if seq == 0:
        return 0
    position = await outbox.position_of(EVIDENCE_ADDED, str(seq))
    if position is None:
        raise BadUserInput(
            "the resume point is older than the event log kept (ARCOS_OUTBOX_RETENTION_HOURS"
            "); read what you missed with evidenceConnection and subscribe without `after`"
        )
    return position


async def added_after(
    query: EvidenceQuery, position: int, page_size: int = 100
) -> CatchUpPage[Evidence]:
    """Stored evidence published after `position` that `query` selects, in commit order."""
    events = await outbox.read_after(EVIDENCE_ADDED, position, page_size)
    if not events:
        return None, []
    seqs = [event.record["seq"] for event in events]
    rows = {row.seq: row for row in await summaries(query.apply(Evidence.filter(seq__in=seqs)))}
    found = [(event.position, rows[seq]) for event, seq in zip(events, seqs, strict=True)
             if seq in rows]
    return events[-1].position, found


async def find_evidence(uid: uuid.UUID) -> Evidence | None:
    return await summaries(Evidence.filter(uid=uid)).first()


def evidence_listing(query: EvidenceQuery, limit: int, offset: int) -> QuerySet[Evidence]:
    """Offset listing, oldest first; kept for the original API's clients."""
    return query.apply(Evidence.all()).order_by("seq").offset(offset).limit(limit)


@overload
async def list_evidence(query: EvidenceQuery, limit: int, offset: int) -> list[Evidence]: ...


@overload
async def list_evidence(
    query: EvidenceQuery, limit: int, offset: int, columns: tuple[str, ...]
) -> list[tuple[Any, ...]]: ...


async def list_evidence(
    query: EvidenceQuery, limit: int, offset: int, columns: tuple[str, ...] | None = None
) -> list[Evidence] | list[tuple[Any, ...]]:
    """`evidence_listing` as rows without the large columns, or, given `columns`, as
    tuples of those columns (no model instances: a response that needs only stored
    columns builds nothing else)."""
    if columns is not None:
        return await _LISTINGS.rows(
            ("evidence_list", query, limit, offset, columns), Evidence,
            lambda: evidence_listing(query, limit, offset).values_list(*columns),
        )
    return await summaries(evidence_listing(query, limit, offset))


#: The SQL of recent column listings (arcos/store/select_cache.py).
_LISTINGS = SelectCache()


async def page_evidence(
    query: EvidenceQuery, first: int, after_seq: int | None, newest_first: bool
) -> tuple[list[Evidence], bool]:
    """One keyset page: rows strictly after the cursor, and whether more follow.

    Keyset on the primary key stays O(page) at any depth and never repeats or skips a row
    when others insert concurrently.
    """
    queryset = summaries(query.apply(Evidence.all()))
    if after_seq is not None:
        queryset = queryset.filter(seq__lt=after_seq) if newest_first else queryset.filter(
            seq__gt=after_seq
        )
    rows = await queryset.order_by("-seq" if newest_first else "seq").limit(first + 1)
    return rows[:first], len(rows) > first


async def count_evidence(query: EvidenceQuery) -> int:
    return await query.apply(Evidence.all()).count()


async def list_projects(first: int, after_id: int | None) -> tuple[list[Project], bool]:
    queryset = Project.all()
    if after_id is not None:
        queryset = queryset.filter(id__gt=after_id)
    rows = await queryset.order_by("id").limit(first + 1)
    return rows[:first], len(rows) > first


async def find_project(slug: str) -> Project | None:
    if unstorable(slug):
        return None  # no stored slug can contain it
    return await Project.get_or_none(slug=slug.strip().lower())


async def relations_touching(seqs: Sequence[int]) -> list[EvidenceRelation]:
    """Every relation whose either end is one of `seqs` (one query, for the DataLoader)."""
    return await EvidenceRelation.filter(
        Q(from_evidence_id__in=list(seqs)) | Q(to_evidence_id__in=list(seqs))
    ).order_by("id")

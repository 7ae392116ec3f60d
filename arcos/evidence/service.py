"""The rules for writing and reading evidence. Resolvers and adapters call only these.

Writes are all-or-nothing and publish to the broker only after their transaction has
committed, so a subscriber never sees evidence that a rollback removed.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from arcos.broker import Broker, Topics
from arcos.evidence.canonical import canonical_json, content_sha256, size_up_to, wire_size
from arcos.evidence.drafts import DraftLimits, EvidenceDraft, check_draft, unstorable
from arcos.evidence.events import evidence_event
from arcos.evidence.models import (
    LARGE_VALUES,
    Evidence,
    EvidenceRelation,
    Project,
    RelationKind,
)
from arcos.graphql.preencoded import PreEncodedJSON
from arcos.problems import BadUserInput, Problem, ProblemCode, Refused
from arcos.web.json_threads import INLINE, JsonThreads


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


async def submit_evidence(
    draft: EvidenceDraft,
    submitter: str,
    limits: DraftLimits,
    broker: Broker,
    threads: JsonThreads = INLINE,
) -> Submission:
    """Store one evidence item, or return the earlier one for a repeated idempotency key.

    Raises Refused naming each problem when the draft is unacceptable.
    """
    submissions = await _store([draft], submitter, limits, broker, lambda _: "", threads)
    return submissions[0]


async def submit_evidence_batch(
    drafts: Sequence[EvidenceDraft],
    submitter: str,
    limits: DraftLimits,
    broker: Broker,
    max_items: int,
    threads: JsonThreads = INLINE,
) -> list[Submission]:
    """Store every draft in one transaction, or none of them.

    Raises Refused listing every problem (per item, as `items.N.field`) when any draft
    is unacceptable; nothing is written in that case.
    """
    if not drafts:
        raise Refused([Problem(field="items", message="items must not be empty",
                                      code=ProblemCode.REQUIRED)])
    if len(drafts) > max_items:
        raise Refused([Problem(
            field="items",
            message=f"a batch holds at most {max_items} items (got {len(drafts)}); split it",
            code=ProblemCode.LIMIT_EXCEEDED,
        )])
    return await _store(
        drafts, submitter, limits, broker, lambda index: f"items.{index}.", threads
    )


FieldPrefix = Callable[[int], str]


async def _store(
    drafts: Sequence[EvidenceDraft],
    submitter: str,
    limits: DraftLimits,
    broker: Broker,
    prefix: FieldPrefix,
    threads: JsonThreads,
) -> list[Submission]:
    # Checking and encoding large items takes long enough to stall other clients: in a
    # thread, unless they are small enough that the hand-off would cost more.
    errors = await threads.run(
        check_drafts, drafts, limits, prefix, size=_size_up_to(drafts, threads.min_bytes)
    )
    errors += _duplicate_keys_within(drafts, prefix)
    if errors:
        raise Refused(errors)

    earlier = await _earlier_submissions(drafts, submitter, prefix)
    try:
        created = await _insert(drafts, submitter, earlier)
    except IntegrityError:
        # Another request with one of these idempotency keys committed between our look-up
        # and our insert, and our whole transaction rolled back. Look again and store the
        # rest once more; a second collision is answered as a conflict to retry.
        earlier = await _earlier_submissions(drafts, submitter, prefix)
        try:
            created = await _insert(drafts, submitter, earlier)
        except IntegrityError:
            raise Refused([Problem(
                field=None, code=ProblemCode.CONFLICT,
                message="other requests are writing the same idempotency keys; retry",
            )]) from None
    results: list[Submission] = []
    fresh = iter(created)
    for draft in drafts:
        replay = earlier.get(draft.idempotency_key) if draft.idempotency_key else None
        results.append(replay if replay is not None else next(fresh))
    await publish_added(broker, created)
    return results


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
    drafts: Sequence[EvidenceDraft], submitter: str, prefix: FieldPrefix
) -> dict[str, Submission]:
    """Stored evidence for the drafts' idempotency keys; refuses keys reused for new content."""
    keys = [d.idempotency_key for d in drafts if d.idempotency_key]
    if not keys:
        return {}
    # `metadata` too: a replay must carry the same (its `data` is compared by hash).
    rows = await summaries(
        Evidence.filter(submitted_by=submitter, idempotency_key__in=keys), keep=("metadata",)
    ).prefetch_related("project")
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
        and row.sha256 == hashlib.sha256(_canonical(draft)["data"]).hexdigest()
        and project_slug == draft.project
        and row.commit_sha == draft.commit_sha
        and row.ref == draft.ref
        and content_sha256(row.metadata or {}) == content_sha256(draft.metadata or {})
    )


async def _insert(
    drafts: Sequence[EvidenceDraft], submitter: str, earlier: dict[str, Submission]
) -> list[Submission]:
    pending = [d for d in drafts if not (d.idempotency_key and d.idempotency_key in earlier)]
    if not pending:
        return []
    async with in_transaction() as connection:
        return await insert_drafts(pending, submitter, connection)


async def insert_drafts(
    drafts: Sequence[EvidenceDraft], submitter: str, connection: Any
) -> list[Submission]:
    """Insert checked drafts inside the caller's transaction; publishes nothing.

    For writers that store evidence together with rows of their own (webhook deliveries):
    they commit, then call `publish_added`.
    """
    now = datetime.now(UTC)
    created: list[Submission] = []
    projects = await _ensure_projects({d.project for d in drafts if d.project}, connection)
    for draft in drafts:
        project = projects.get(draft.project) if draft.project else None
        canonical = _canonical(draft)
        evidence = await Evidence.create(
            uid=uuid.uuid4(),
            type=draft.type,
            source=draft.source,
            project=project,
            commit_sha=draft.commit_sha,
            ref=draft.ref,
            data=PreEncodedJSON(canonical["data"].decode()),
            metadata=PreEncodedJSON(canonical["metadata"].decode()),
            data_size=wire_size(canonical["data"]),
            metadata_size=wire_size(canonical["metadata"]),
            sha256=hashlib.sha256(canonical["data"]).hexdigest(),
            submitted_by=submitter,
            idempotency_key=draft.idempotency_key,
            created_at=now,
            using_db=connection,
        )
        evidence.data, evidence.metadata = draft.data, draft.metadata
        created.append(Submission(evidence, draft.project, canonical=canonical))
    return created


def _canonical(draft: EvidenceDraft) -> dict[str, bytes]:
    """The draft's values as canonical JSON: kept from `check_draft`, or encoded now."""
    if draft.canonical is None:
        draft.canonical = {name: canonical_json(getattr(draft, name))
                           for name in ("data", "metadata")}
    return draft.canonical


async def publish_added(broker: Broker, submissions: Sequence[Submission]) -> None:
    """Tell subscribers about committed evidence; call only after the commit."""
    for submission in submissions:
        await broker.publish(
            Topics.EVIDENCE_ADDED,
            evidence_event(submission.evidence, submission.project_slug, submission.canonical),
        )


async def _ensure_projects(slugs: set[str], connection: Any) -> dict[str, Project]:
    """Projects for `slugs`, created inside the caller's transaction when missing.

    INSERT … ON CONFLICT DO NOTHING keeps concurrent creators of one slug from failing.
    """
    if not slugs:
        return {}
    found = {p.slug: p for p in await Project.filter(slug__in=slugs).using_db(connection)}
    missing = sorted(slugs - set(found))
    if not missing:
        return found  # the common case: one SELECT
    await Project.bulk_create(
        [Project(slug=slug) for slug in missing], ignore_conflicts=True, using_db=connection
    )
    created = await Project.filter(slug__in=missing).using_db(connection)
    return {**found, **{project.slug: project for project in created}}


async def link_evidence(
    from_uid: uuid.UUID, to_uid: uuid.UUID, relation: RelationKind, submitter: str
) -> EvidenceRelation:
    """Record `from --relation--> to`; linking the same pair twice returns the first link."""
    if from_uid == to_uid:
        raise Refused([Problem(field="to", message="evidence cannot relate to itself",
                                      code=ProblemCode.INVALID)])
    ends = {
        row.uid: row for row in await summaries(Evidence.filter(uid__in=[from_uid, to_uid]))
    }
    missing = [
        Problem(field=name, message=f"no evidence with id {uid}", code=ProblemCode.NOT_FOUND)
        for name, uid in (("from", from_uid), ("to", to_uid))
        if uid not in ends
    ]
    if missing:
        raise Refused(missing)
    source, target = ends[from_uid], ends[to_uid]
    existing = await EvidenceRelation.get_or_none(
        from_evidence_id=source.seq, to_evidence_id=target.seq, relation=relation
    )
    if existing is not None:
        return existing
    try:
        async with in_transaction() as connection:
            return await EvidenceRelation.create(
                from_evidence_id=source.seq,
                to_evidence_id=target.seq,
                relation=relation,
                created_by=submitter,
                using_db=connection,
            )
    except IntegrityError:
        return await EvidenceRelation.get(
            from_evidence_id=source.seq, to_evidence_id=target.seq, relation=relation
        )


async def find_evidence(uid: uuid.UUID) -> Evidence | None:
    return await summaries(Evidence.filter(uid=uid)).first()


async def list_evidence(query: EvidenceQuery, limit: int, offset: int) -> list[Evidence]:
    """Offset listing, oldest first; kept for the original API's clients."""
    return await summaries(query.apply(Evidence.all())).order_by("seq").offset(offset).limit(limit)


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

"""`arcos import`: evidence from an NDJSON export (arcos/evidence/backup_format.py) into
this store, verified line by line, idempotently, in bounded memory.

The file is read twice, a line at a time. The first pass checks every line and writes
nothing: JSON, fields, the same rules new evidence must pass (`check_draft`), each item's
`sha256` recomputed from its `data` in the canonical form the service hashes
(`draft_sha256`), the format version, and the end record's counts (a truncated file has
none, or the wrong ones). Any refusal names its line, and the store is untouched. The
second pass runs the same checks again (the file may have changed in between) and
writes in batches, each one unit of work through the store's normal writer
(`restore_evidence`): the rows new evidence gets, and its `evidence.added` event in the
outbox. An item already stored (same uid and hash) or a relation already linked is
counted, not written again, so importing a file twice writes nothing the second time.
What the first pass cannot see (an item stored here under the same uid with other
content, a relation whose end is in neither the file nor the store) refuses its batch,
which rolls back whole; the batches before it stay, and a corrected import skips them.

What the hash proves: an item's `data` is what was hashed when it was submitted. The
other fields of a line (project, type, source, metadata, submitter, time) and the
relation lines are not covered by it: keep exports where only operators can change them,
as with a database dump.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tortoise.exceptions import IntegrityError

from arcos.evidence import backup_format as fmt
from arcos.evidence.drafts import DraftLimits, check_draft
from arcos.evidence.models import Evidence, EvidenceRelation
from arcos.evidence.service import RestoredEvidence, draft_sha256, restore_evidence
from arcos.store.unit_of_work import UnitOfWork, Writer

#: Lines written per unit of work at most (a batch holds its items' data in memory)...
BATCH = 200
#: ...and a batch closes early once its lines add up to this many bytes: 200 items at the
#: evidence size limit would hold a gigabyte of parsed data.
BATCH_BYTES = 16 * 1024 * 1024
#: Longest line beyond the items' own limit: field names, ids, metadata.
LINE_SLACK = 1024 * 1024


class ImportRefused(Exception):
    """The file (or one line of it) cannot be imported; `line` is its 1-based number."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        #: What the import had written before the refusal (None: nothing, in the checks).
        self.written: ImportReport | None = None


@dataclass
class ImportReport:
    lines: int = 0
    evidence_written: int = 0
    evidence_present: int = 0
    relations_written: int = 0
    relations_present: int = 0


Record = fmt.EvidenceRecord | fmt.RelationRecord
#: Checked records waiting for their batch's write, with their line numbers.
Pending = list[tuple[int, Record]]


def max_line_bytes(limits: DraftLimits) -> int:
    """The longest line a valid export can have: an item's data at the size limit, every
    character escaped (`\\uXXXX`: six bytes for one), and its metadata."""
    return 12 * limits.max_evidence_bytes + LINE_SLACK


def check_file(path: Path, limits: DraftLimits) -> ImportReport:
    """The first pass: every line checked, nothing written; ImportRefused for the first
    bad one."""
    report = ImportReport()
    for number, _, _ in records(path, limits):
        report.lines = number
    return report


async def import_file(
    path: Path, limits: DraftLimits, writer: Writer, batch: int = BATCH, *,
    checked: bool = False,
) -> ImportReport:
    """Check the whole file (unless the caller just did: `checked`), then write it in
    batches (see the module docstring)."""
    if not checked:
        check_file(path, limits)
    report = ImportReport()
    try:
        await _import(path, limits, writer, batch, report)
    except ImportRefused as refused:
        refused.written = report
        raise
    return report


async def _import(
    path: Path, limits: DraftLimits, writer: Writer, batch: int, report: ImportReport
) -> None:
    pending: Pending = []
    pending_bytes = 0
    for number, record, size in records(path, limits):
        report.lines = number
        if pending and type(record) is not type(pending[0][1]):
            await _write(pending, report, writer)
            pending, pending_bytes = [], 0
        if record is not None:
            pending.append((number, record))
            pending_bytes += size
        if len(pending) >= batch or pending_bytes >= BATCH_BYTES:
            await _write(pending, report, writer)
            pending, pending_bytes = [], 0
    await _write(pending, report, writer)


def records(path: Path, limits: DraftLimits) -> Iterator[tuple[int, Record | None, int]]:
    """Each line's number, checked record (None for the header and the end record) and
    length in bytes."""
    longest = max_line_bytes(limits)
    counts = {fmt.EVIDENCE: 0, fmt.RELATION: 0}
    ended = False
    number = 0
    with path.open("rb") as handle:
        for number, raw in _lines(handle, longest):
            try:
                if ended:
                    raise fmt.BadLine("the end record must be the last line")
                value = fmt.parse(raw)
                if number == 1:
                    fmt.check_header(value)
                    yield number, None, len(raw)
                    continue
                kind = value.get("record")
                if kind == fmt.END:
                    _check_end(value, counts)
                    ended = True
                    yield number, None, len(raw)
                    continue
                record = _record(kind, value, limits)
                counts[kind] += 1
            except fmt.BadLine as bad:
                raise ImportRefused(number, str(bad)) from None
            yield number, record, len(raw)
    if number == 0:
        raise ImportRefused(1, "the file is empty")
    if not ended:
        raise ImportRefused(number + 1, "the file ends without its end record: it is "
                            "truncated (export it again)")


def _lines(handle: BinaryIO, longest: int) -> Iterator[tuple[int, bytes]]:
    number = 0
    while True:
        raw = handle.readline(longest + 1)
        if not raw:
            return
        number += 1
        if len(raw) > longest:
            raise ImportRefused(number, f"the line is longer than any export writes "
                                f"({longest} bytes)")
        if not raw.endswith(b"\n"):
            raise ImportRefused(number, "the line is cut off (no newline at its end): the "
                                "file is truncated")
        yield number, raw


def _record(kind: object, value: dict[str, object], limits: DraftLimits) -> Record:
    if kind == fmt.EVIDENCE:
        record = fmt.evidence_record(value)
        problems = check_draft(record.draft, limits)
        if problems:
            raise fmt.BadLine("; ".join(f"{p.field}: {p.message}" for p in problems))
        if draft_sha256(record.draft) != record.sha256:
            raise fmt.BadLine(f"sha256 {record.sha256[:64]!r} is not the hash of the item's "
                              "data: the line was altered or corrupted")
        return record
    if kind == fmt.RELATION:
        return fmt.relation_record(value)
    raise fmt.BadLine(f"record must be {fmt.EVIDENCE!r}, {fmt.RELATION!r} or {fmt.END!r}")


def _check_end(value: dict[str, object], counts: dict[str, int]) -> None:
    expected = {fmt.EVIDENCE: value.get("evidence"), fmt.RELATION: value.get("relations")}
    if expected != counts:
        raise fmt.BadLine(
            f"the end record counts {expected[fmt.EVIDENCE]!r} evidence and "
            f"{expected[fmt.RELATION]!r} relations, the file holds {counts[fmt.EVIDENCE]} and "
            f"{counts[fmt.RELATION]}: lines are missing or were added"
        )


async def _write(pending: Pending, report: ImportReport, writer: Writer) -> None:
    """Write `pending` (all evidence, or all relations) in one unit of work."""
    if not pending:
        return
    first, last = pending[0][0], pending[-1][0]

    async def conflict(_: IntegrityError) -> tuple[int, int]:
        raise ImportRefused(first, f"lines {first}-{last} conflict with evidence stored here "
                            "(the same submitted_by and idempotency_key on another item, or "
                            "one uid twice in the file)")

    if isinstance(pending[0][1], fmt.EvidenceRecord):
        items = [(n, r) for n, r in pending if isinstance(r, fmt.EvidenceRecord)]
        written, present = await writer.run(
            lambda unit: _write_evidence(unit, items), on_conflict=conflict
        )
        report.evidence_written += written
        report.evidence_present += present
    else:
        links = [(n, r) for n, r in pending if isinstance(r, fmt.RelationRecord)]
        written, present = await writer.run(
            lambda unit: _write_relations(unit, links), on_conflict=conflict
        )
        report.relations_written += written
        report.relations_present += present


async def _write_evidence(
    unit: UnitOfWork, items: list[tuple[int, fmt.EvidenceRecord]]
) -> tuple[int, int]:
    stored = {
        row["uid"]: row["sha256"]
        for row in await Evidence.filter(uid__in=[r.uid for _, r in items]).using_db(
            unit.connection).values("uid", "sha256")
    }
    fresh = []
    for number, record in items:
        if record.uid not in stored:
            fresh.append(RestoredEvidence(
                record.draft, record.uid, record.submitted_by, record.created_at
            ))
        elif stored[record.uid] != record.sha256:
            raise ImportRefused(number, f"evidence {record.uid} is already stored here with "
                                "other data (another sha256)")
    await restore_evidence(unit, fresh)
    return len(fresh), len(items) - len(fresh)


async def _write_relations(
    unit: UnitOfWork, links: list[tuple[int, fmt.RelationRecord]]
) -> tuple[int, int]:
    uids = {uid for _, r in links for uid in (r.source, r.target)}
    seqs = {row["uid"]: row["seq"] for row in await Evidence.filter(uid__in=uids).using_db(
        unit.connection).values("uid", "seq")}
    for number, record in links:
        for end in (record.source, record.target):
            if end not in seqs:
                raise ImportRefused(number, f"the relation's evidence {end} is neither "
                                    "earlier in the file nor stored here")
    existing = {
        (row["from_evidence_id"], row["to_evidence_id"], str(row["relation"]))
        for row in await EvidenceRelation.filter(
            from_evidence_id__in=[seqs[r.source] for _, r in links]
        ).using_db(unit.connection).values("from_evidence_id", "to_evidence_id", "relation")
    }
    fresh: list[EvidenceRelation] = []
    for _, record in links:
        key = (seqs[record.source], seqs[record.target], record.relation.value)
        if key in existing:
            continue
        existing.add(key)
        fresh.append(EvidenceRelation(
            from_evidence_id=key[0], to_evidence_id=key[1], relation=record.relation,
            created_by=record.created_by, created_at=record.created_at,
        ))
    if fresh:
        await EvidenceRelation.bulk_create(fresh, using_db=unit.connection)
    return len(fresh), len(links) - len(fresh)

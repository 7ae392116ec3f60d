"""`arcos export`: every evidence item and relation of the store, as NDJSON
(arcos/evidence/backup_format.py), streamed a page at a time.

The whole export reads one snapshot of the store (one read transaction; REPEATABLE READ
on PostgreSQL), so a server writing meanwhile neither tears it nor slips an item in
between two pages. Memory holds one page of items at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from arcos.evidence import backup_format as fmt
from arcos.evidence.models import Evidence, EvidenceRelation

#: Items read per query: large values are read too, so a page is at most this many items'
#: data in memory.
PAGE = 200


@dataclass(frozen=True)
class ExportCounts:
    evidence: int
    relations: int


async def export_evidence(out: TextIO) -> ExportCounts:
    """Write the header, every item, every relation and the trailer to `out`."""
    async with in_transaction() as connection:
        if connection.capabilities.dialect == "postgres":
            await connection.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        out.write(fmt.line(fmt.header(datetime.now(UTC))))
        evidence = 0
        async for record in _evidence(connection):
            out.write(fmt.line(record))
            evidence += 1
        relations = 0
        async for record in _relations(connection):
            out.write(fmt.line(record))
            relations += 1
        out.write(fmt.line(fmt.trailer(evidence, relations)))
    out.flush()
    return ExportCounts(evidence, relations)


async def _evidence(connection: BaseDBAsyncClient) -> Any:
    after = 0
    while True:
        rows = await Evidence.filter(seq__gt=after).order_by("seq").limit(PAGE).prefetch_related(
            "project").using_db(connection)
        for row in rows:
            yield {
                "record": fmt.EVIDENCE, "uid": str(row.uid), "type": row.type,
                "source": row.source, "project": row.project.slug if row.project else None,
                "commit_sha": row.commit_sha, "ref": row.ref, "data": row.data,
                "metadata": row.metadata if row.metadata is not None else {},
                "sha256": row.sha256, "submitted_by": row.submitted_by,
                "idempotency_key": row.idempotency_key, "created_at": _iso(row.created_at),
            }
        if len(rows) < PAGE:
            return
        after = rows[-1].seq


async def _relations(connection: BaseDBAsyncClient) -> Any:
    after = 0
    while True:
        rows = await EvidenceRelation.filter(id__gt=after).using_db(connection).order_by(
            "id").limit(PAGE).values(
            "id", "from_evidence__uid", "to_evidence__uid", "relation", "created_by",
            "created_at",
        )
        for row in rows:
            yield {
                "record": fmt.RELATION, "from": str(row["from_evidence__uid"]),
                "to": str(row["to_evidence__uid"]), "relation": str(row["relation"]),
                "created_by": row["created_by"], "created_at": _iso(row["created_at"]),
            }
        if len(rows) < PAGE:
            return
        after = rows[-1]["id"]


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()

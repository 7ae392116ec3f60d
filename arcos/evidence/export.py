"""`arcos export`: every evidence item and relation of the store, as NDJSON
(arcos/evidence/backup_format.py), streamed a page at a time.

The whole export reads one snapshot of the store (one read transaction; REPEATABLE READ
on PostgreSQL), so a server writing meanwhile neither tears it nor slips an item in
between two pages. Memory holds one page of items at a time.

Each item's data is checked against its `sha256` on the way out, since that is what the
import will check. PostgreSQL keeps data as jsonb, which writes a large float without its
exponent (1e+20 comes back as the integer 100000000000000000000), so canonical JSON of the
value read back is not always the canonical JSON that was hashed. The hash says which
reading is the stored item: when the value as read does not match, the same value with
its large integral numbers read as floats is tried. An item that matches neither is
written as read and counted in `unverified` (its line will be refused on import).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from arcos.evidence import backup_format as fmt
from arcos.evidence.canonical import canonical_json, sha256_hex
from arcos.evidence.models import Evidence, EvidenceRelation

#: Items read per query: large values are read too, so a page is at most this many items'
#: data in memory.
PAGE = 200


#: Python writes floats from this magnitude on with an exponent; jsonb writes them as
#: plain digits, which read back as integers.
EXPONENT_FROM = 1e16


@dataclass(frozen=True)
class ExportCounts:
    evidence: int
    relations: int
    #: Items whose data, as the store returns it, matches their sha256 in no reading.
    unverified: tuple[str, ...] = ()


async def export_evidence(out: TextIO) -> ExportCounts:
    """Write the header, every item, every relation and the trailer to `out`."""
    async with in_transaction() as connection:
        if connection.capabilities.dialect == "postgres":
            await connection.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        out.write(fmt.line(fmt.header(datetime.now(UTC))))
        evidence = 0
        unverified: list[str] = []
        async for record in _evidence(connection):
            record["data"], verified = as_hashed(record["data"], record["sha256"])
            if not verified:
                unverified.append(record["uid"])
            out.write(fmt.line(record))
            evidence += 1
        relations = 0
        async for record in _relations(connection):
            out.write(fmt.line(record))
            relations += 1
        out.write(fmt.line(fmt.trailer(evidence, relations)))
    out.flush()
    return ExportCounts(evidence, relations, tuple(unverified))


def as_hashed(data: Any, sha256: str) -> tuple[Any, bool]:
    """`data` in the reading whose canonical JSON hashes to `sha256` (see the module
    docstring), and whether there was one."""
    if sha256_hex(canonical_json(data)) == sha256:
        return data, True
    if _has_large_integer(data):
        floated = _large_integers_as_floats(data)
        if sha256_hex(canonical_json(floated)) == sha256:
            return floated, True
    return data, False


def _large_integers_as_floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _large_integers_as_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_large_integers_as_floats(item) for item in value]
    if _is_large_integer(value) and float(value) == value:
        return float(value)
    return value


def _has_large_integer(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_large_integer(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_large_integer(item) for item in value)
    return _is_large_integer(value)


def _is_large_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) >= EXPONENT_FROM


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

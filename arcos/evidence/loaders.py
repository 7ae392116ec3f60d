"""DataLoaders for evidence fields, so nested fields cost one query per level, not per row.

Each registers itself on the request's context on first use (see arcos/graphql/loaders.py):
`ProjectById(info.context).load(project_id)`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from tortoise.functions import Count

from arcos.evidence.models import Evidence, EvidenceRelation, Project
from arcos.evidence.service import relations_touching, summaries
from arcos.evidence.stored_json import stored_json_texts
from arcos.graphql.loaders import ContextLoader
from arcos.web.preencoded import PreEncodedJSON


class ProjectById(ContextLoader[int, Project | None]):
    async def batch_load(self, keys: list[int]) -> list[Project | None]:
        rows = {p.id: p for p in await Project.filter(id__in=keys)}
        return [rows.get(i) for i in keys]


class EvidenceBySeq(ContextLoader[int, Evidence | None]):
    """Evidence summaries (without the large JSON columns) by seq."""

    async def batch_load(self, keys: list[int]) -> list[Evidence | None]:
        rows = {e.seq: e for e in await summaries(Evidence.filter(seq__in=keys))}
        return [rows.get(s) for s in keys]


class EvidenceByUid(ContextLoader[str, Evidence | None]):
    """Evidence summaries by uid (as text): for rows of other domains that point at the
    evidence they came from (metrics, findings, upload jobs, webhook deliveries)."""

    async def batch_load(self, keys: list[str]) -> list[Evidence | None]:
        uids = [uuid.UUID(key) for key in keys]
        rows = {str(e.uid): e for e in await summaries(Evidence.filter(uid__in=uids))}
        return [rows.get(str(uid)) for uid in uids]


class StoredJsonBySeq(ContextLoader[tuple[str, int], PreEncodedJSON | None]):
    """One large JSON column (`data` or `metadata`) by `(column, seq)`, for the rows asked
    for only, as the text the store holds: see arcos/evidence/stored_json.py. Resolvers
    charge the response budget before loading."""

    async def batch_load(self, keys: list[tuple[str, int]]) -> list[PreEncodedJSON | None]:
        seqs_by_column: dict[str, list[int]] = defaultdict(list)
        for column, seq in keys:
            seqs_by_column[column].append(seq)
        texts = {
            (column, seq): text
            for column, seqs in seqs_by_column.items()
            for seq, text in (await stored_json_texts(column, seqs)).items()
        }
        return [PreEncodedJSON(texts[key]) if key in texts else None for key in keys]


class RelationsBySeq(ContextLoader[int, list[EvidenceRelation]]):
    """Relations from or to each evidence item."""

    async def batch_load(self, keys: list[int]) -> list[list[EvidenceRelation]]:
        grouped: dict[int, list[EvidenceRelation]] = defaultdict(list)
        for relation in await relations_touching(keys):
            grouped[relation.from_evidence_id].append(relation)
            if relation.to_evidence_id != relation.from_evidence_id:
                grouped[relation.to_evidence_id].append(relation)
        return [grouped.get(s, []) for s in keys]


class EvidenceCountByProject(ContextLoader[int, int]):
    async def batch_load(self, keys: list[int]) -> list[int]:
        rows = (
            await Evidence.filter(project_id__in=keys)
            .group_by("project_id")
            .annotate(n=Count("seq"))
            .values("project_id", "n")
        )
        counts = {row["project_id"]: row["n"] for row in rows}
        return [counts.get(i, 0) for i in keys]

"""DataLoaders for evidence fields, so nested fields cost one query per level, not per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from arcos.evidence.models import LARGE_VALUES, Evidence, EvidenceRelation, Project
from arcos.evidence.service import relations_touching, summaries
from arcos.evidence.stored_json import stored_json_texts
from arcos.graphql.preencoded import PreEncodedJSON


async def _projects_by_id(ids: Sequence[int]) -> list[Project | None]:
    rows = {p.id: p for p in await Project.filter(id__in=list(ids))}
    return [rows.get(i) for i in ids]


async def _evidence_by_seq(seqs: Sequence[int]) -> list[Evidence | None]:
    rows = {e.seq: e for e in await summaries(Evidence.filter(seq__in=list(seqs)))}
    return [rows.get(s) for s in seqs]


def _json_column(column: str) -> DataLoader[int, PreEncodedJSON | None]:
    """Loads one large JSON column (`data` or `metadata`) for the rows asked for only, as
    the text the store holds: see arcos/evidence/stored_json.py."""

    async def load(seqs: Sequence[int]) -> list[PreEncodedJSON | None]:
        texts = await stored_json_texts(column, seqs)
        return [PreEncodedJSON(texts[s]) if s in texts else None for s in seqs]

    return DataLoader(load)


async def _relations_by_seq(seqs: Sequence[int]) -> list[list[EvidenceRelation]]:
    grouped: dict[int, list[EvidenceRelation]] = defaultdict(list)
    for relation in await relations_touching(seqs):
        grouped[relation.from_evidence_id].append(relation)
        if relation.to_evidence_id != relation.from_evidence_id:
            grouped[relation.to_evidence_id].append(relation)
    return [grouped.get(s, []) for s in seqs]


async def _evidence_counts_by_project(ids: Sequence[int]) -> list[int]:
    from tortoise.functions import Count

    rows = (
        await Evidence.filter(project_id__in=list(ids))
        .group_by("project_id")
        .annotate(n=Count("seq"))
        .values("project_id", "n")
    )
    counts = {row["project_id"]: row["n"] for row in rows}
    return [counts.get(i, 0) for i in ids]


@dataclass
class EvidenceLoaders:
    """One set per request (and per subscription event): caches must not outlive either."""

    project: DataLoader[int, Project | None] = field(
        default_factory=lambda: DataLoader(_projects_by_id)
    )
    evidence: DataLoader[int, Evidence | None] = field(
        default_factory=lambda: DataLoader(_evidence_by_seq)
    )
    #: `data` and `metadata` by seq; resolvers charge the response budget before loading.
    json_values: dict[str, DataLoader[int, PreEncodedJSON | None]] = field(
        default_factory=lambda: {name: _json_column(name) for name in LARGE_VALUES}
    )
    relations: DataLoader[int, list[EvidenceRelation]] = field(
        default_factory=lambda: DataLoader(_relations_by_seq)
    )
    project_evidence_count: DataLoader[int, int] = field(
        default_factory=lambda: DataLoader(_evidence_counts_by_project)
    )

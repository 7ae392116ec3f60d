"""`evidenceList` answered from stored columns when a document selects only those
(arcos/graphql/direct.py says how a root list field opts in).

`listing` is the one place the field's arguments become a query: the resolver and the
direct fetch both call it, so both refuse the same arguments with the same errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from strawberry import relay

from arcos.evidence import service
from arcos.graphql.context import ArcosContext
from arcos.graphql.direct import DirectColumn, DirectList
from arcos.graphql.pagination import check_offset, check_page_size

#: The GraphQL type name in an evidence item's global id.
EVIDENCE_TYPE_NAME = "Evidence"


def listing(
    context: ArcosContext, type: str | None, source: str | None, project: str | None,
    limit: int, offset: int,
) -> tuple[service.EvidenceQuery, int, int]:
    """The checked query, page size and offset of an `evidenceList` call."""
    check_page_size("limit", limit, context.settings.max_page_size)
    query = service.EvidenceQuery(type=type, source=source, project=project)
    return query, limit, check_offset(offset)


async def fetch_evidence_list(
    context: ArcosContext, arguments: Mapping[str, Any], columns: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    query, limit, offset = listing(
        context, arguments.get("type"), arguments.get("source"), arguments.get("project"),
        arguments["limit"], arguments["offset"],
    )
    return await service.list_evidence(query, limit, offset, columns)


def _global_id(uid: uuid.UUID) -> relay.GlobalID:
    """What the Node `id` resolver returns for the item with `uid`."""
    return relay.GlobalID(EVIDENCE_TYPE_NAME, str(uid))


#: The plain columns of `Evidence` (arcos/evidence/types.py `EvidenceType.from_model`).
EVIDENCE_LIST = DirectList(
    fields={
        "id": DirectColumn("uid", _global_id),
        "type": DirectColumn("type"),
        "source": DirectColumn("source"),
        "commitSha": DirectColumn("commit_sha"),
        "ref": DirectColumn("ref"),
        "dataSize": DirectColumn("data_size"),
        "sha256": DirectColumn("sha256"),
        "submittedBy": DirectColumn("submitted_by"),
        "createdAt": DirectColumn("created_at"),
    },
    fetch=fetch_evidence_list,
)

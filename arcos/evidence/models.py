"""Stored evidence: projects, append-only evidence items and the relations between them."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from arcos.store.json_field import dumps_column, json_field
from arcos.web.preencoded import PreEncodedJSON

#: Evidence columns that may hold megabytes; read only for items a response asks for.
LARGE_VALUES = ("data", "metadata")


def json_column(value: Any) -> str:
    """The text a JSON column stores: a `PreEncodedJSON` (the canonical text a write has
    already made) as it is, so a large item is not encoded again inside its transaction."""
    if isinstance(value, PreEncodedJSON):
        return value.text
    return dumps_column(value)


class EvidenceIsAppendOnly(RuntimeError):
    """Evidence is a record of what happened; it is never edited in place."""


class RelationKind(StrEnum):
    DERIVED_FROM = "derived_from"
    SUPERSEDES = "supersedes"
    RELATES_TO = "relates_to"


class Project(Model):
    """A software project evidence is about, named by a slug like `github.com/owner/repo`."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=255, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "project"


class Evidence(Model):
    """One piece of evidence. `seq` orders rows for keyset pagination; `uid` is public."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    seq = fields.BigIntField(primary_key=True)
    uid = fields.UUIDField(unique=True, default=uuid.uuid4)
    type = fields.CharField(max_length=64)
    source = fields.CharField(max_length=64)
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="evidence", null=True, on_delete=fields.RESTRICT
    )
    project_id: int | None
    commit_sha = fields.CharField(max_length=64, null=True)
    ref = fields.CharField(max_length=255, null=True)
    data: Any = json_field(encoder=json_column)
    metadata: Any = json_field(encoder=json_column)
    # Canonical JSON byte lengths of `data` and `metadata`, stored at write time so a
    # response can be sized (and refused) without reading the values themselves. A plain
    # comment: Tortoise turns `#:` into a column COMMENT, which PostgreSQL refuses on an
    # older table still lacking the column (see arcos/evidence/upgrade.py).
    data_size = fields.BigIntField()
    metadata_size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    submitted_by = fields.CharField(max_length=255)
    idempotency_key = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "evidence"
        unique_together = (("submitted_by", "idempotency_key"),)
        indexes = (("type", "seq"), ("source", "seq"), ("project_id", "seq"), ("created_at",))

    async def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: saving an evidence row that is already stored is refused."""
        if self._saved_in_db:
            raise EvidenceIsAppendOnly(f"evidence {self.uid} is stored and cannot be changed")
        await super().save(*args, **kwargs)


class EvidenceRelation(Model):
    """A typed, directed link between two evidence items."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    from_evidence: fields.ForeignKeyRelation[Evidence] = fields.ForeignKeyField(
        "models.Evidence", related_name="outgoing_relations", on_delete=fields.RESTRICT
    )
    from_evidence_id: int
    to_evidence: fields.ForeignKeyRelation[Evidence] = fields.ForeignKeyField(
        "models.Evidence", related_name="incoming_relations", on_delete=fields.RESTRICT
    )
    to_evidence_id: int
    relation = fields.CharEnumField(RelationKind, max_length=32)
    created_by = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "evidence_relation"
        unique_together = (("from_evidence", "to_evidence", "relation"),)

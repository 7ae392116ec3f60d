"""Stored assurance cases: the case (its project, title and current version) and every
version of its argument, kept so an older version stays readable after an edit."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise import fields
from tortoise.models import Model

from arcos.store.json_field import json_field


class AssuranceCase(Model):
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)
    id = fields.IntField(primary_key=True)
    uid = fields.UUIDField(unique=True, default=uuid.uuid4)
    #: The project slug the case argues about (its evidence rules default to it).
    project = fields.CharField(max_length=255, db_index=True)
    title = fields.CharField(max_length=255)
    #: The number of the newest version.
    version = fields.IntField(default=1)
    created_by = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "assurance_case"


class AssuranceCaseVersion(Model):
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)
    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[AssuranceCase] = fields.ForeignKeyField(
        "models.AssuranceCase", related_name="versions", on_delete=fields.CASCADE)
    case_id: int
    number = fields.IntField()
    title = fields.CharField(max_length=255)
    #: The argument's elements, as arcos.community.gsn.Node.to_json gives them.
    elements: Any = json_field()
    #: WELL_FORMED or INCOMPLETE (a version breaking a hard rule is never stored).
    wellformedness = fields.CharField(max_length=16)
    created_by = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()

    class Meta:
        table = "assurance_case_version"
        unique_together = (("case", "number"),)


class AssuranceSnapshot(Model):
    """A release snapshot (arcos/assurance/snapshots.py): the signed body as it was taken,
    chained to the case's previous one by `previous`."""

    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)
    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[AssuranceCase] = fields.ForeignKeyField(
        "models.AssuranceCase", related_name="snapshots", on_delete=fields.CASCADE)
    case_id: int
    #: 1, 2, … per case: two snapshots taken at once cannot both follow the same one.
    number = fields.IntField()
    hash = fields.CharField(max_length=64, unique=True)
    previous = fields.CharField(max_length=64, null=True)
    #: Snapshot.to_json(): body, hash, signature, key_id.
    snapshot: Any = json_field()
    created_by = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()

    class Meta:
        table = "assurance_snapshot"
        unique_together = (("case", "number"),)

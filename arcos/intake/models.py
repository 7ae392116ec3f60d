"""Stored results of artifact intake: each upload's job record, the findings tracked across
scans, and the quality-metric time series derived from reports."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from arcos.evidence.models import Project
from arcos.store.json_field import json_field


class JobStatus(StrEnum):
    QUEUED = "queued"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class FindingState(StrEnum):
    OPEN = "open"
    FIXED = "fixed"


class IngestionJob(Model):
    """One artifact upload and how it ended; `job_id` is the public handle."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    job_id = fields.UUIDField(unique=True, default=uuid.uuid4)
    kind = fields.CharField(max_length=32)
    format = fields.CharField(max_length=32, null=True)
    status = fields.CharEnumField(JobStatus, max_length=16)
    error = fields.TextField(null=True)
    evidence_uid = fields.UUIDField(null=True)
    project_slug = fields.CharField(max_length=255, null=True)
    submitted_by = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "ingestion_job"


class Finding(Model):
    """A SAST or SCA finding of one project, identified across scans by its fingerprint.

    `category` is "" when the tool names none, so the unique key never holds a NULL there.
    """
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="findings", null=True, on_delete=fields.RESTRICT
    )
    project_id: int | None
    tool = fields.CharField(max_length=128)
    category = fields.CharField(max_length=255, default="")
    kind = fields.CharField(max_length=8)
    fingerprint = fields.CharField(max_length=128)
    rule_id = fields.CharField(max_length=255, null=True)
    vulnerability_id = fields.CharField(max_length=255, null=True)
    severity = fields.CharField(max_length=16)
    message = fields.TextField()
    path = fields.TextField(null=True)
    line = fields.IntField(null=True)
    component = fields.CharField(max_length=255, null=True)
    version = fields.CharField(max_length=255, null=True)
    purl = fields.TextField(null=True)
    state = fields.CharEnumField(FindingState, max_length=8)
    first_seen = fields.DatetimeField()
    last_seen = fields.DatetimeField()
    first_evidence_uid = fields.UUIDField()
    last_evidence_uid = fields.UUIDField()

    class Meta:
        table = "finding"
        unique_together = (("project", "tool", "category", "fingerprint"),)
        indexes = (("project_id", "state", "id"),)


class QualityMetric(Model):
    """One value of one named metric of a project at one time, and the evidence behind it."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="quality_metrics", on_delete=fields.RESTRICT
    )
    project_id: int
    name = fields.CharField(max_length=64)
    value = fields.FloatField()
    timestamp = fields.DatetimeField()
    evidence_uid = fields.UUIDField()
    metadata: Any = json_field(default=dict)

    class Meta:
        table = "quality_metric"
        indexes = (("project_id", "name", "timestamp"),)


class SbomComponent(Model):
    """One component of one stored SBOM (arcos/intake/components.py): which project ships
    which package at which version, according to the evidence `evidence_uid`."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="sbom_components", on_delete=fields.RESTRICT
    )
    project_id: int
    evidence_uid = fields.UUIDField()
    name = fields.CharField(max_length=255)
    #: `name` lower-cased: what a CPE's product is compared with.
    name_key = fields.CharField(max_length=255)
    version = fields.CharField(max_length=255, null=True)
    purl = fields.TextField(null=True)
    #: The purl's `type/namespace/name`, lower-cased (None without a purl).
    package = fields.CharField(max_length=512, null=True)

    class Meta:
        table = "sbom_component"
        indexes = (("package", "project_id"), ("name_key", "project_id"), ("evidence_uid",))

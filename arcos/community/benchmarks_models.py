"""Stored benchmarks and the projects that lend their metrics to community benchmarks."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from arcos.community.sharing import SharedItem
from arcos.evidence.models import Project
from arcos.store.json_field import json_field


class Benchmark(SharedItem):
    """A named set of metric distributions (quantiles, mean, sample size) for an industry
    and a kind of project, shared like any community item.

    The metrics are one JSON list (at most `benchmark_input.MAX_METRICS` entries, each
    checked before it is stored): they are always read and written together.
    """
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    name = fields.CharField(max_length=200)
    industry = fields.CharField(max_length=64)
    project_type = fields.CharField(max_length=64)
    metrics: Any = json_field()

    class Meta:
        table = "community_benchmark"
        indexes = (("industry", "project_type", "id"),)


class BenchmarkOptIn(Model):
    """A project lends its latest quality metrics to the community benchmark of its
    industry and project type. One row per project; opting out deletes it, so the project
    stops contributing at once."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="benchmark_opt_in", unique=True,
        on_delete=fields.RESTRICT,
    )
    project_id: int
    industry = fields.CharField(max_length=64)
    project_type = fields.CharField(max_length=64)
    #: The principal that opted the project in (or last changed its industry or type).
    opted_in_by = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "community_benchmark_opt_in"
        indexes = (("industry", "project_type", "updated_at"),)


class BenchmarkRelease(Model):
    """The released inputs of one (industry, project type) community benchmark.

    `released` maps each published metric to the values it was released from, by project
    id: `{"coverage.line_rate": {"12": 0.81, ...}}`; `history` keeps each metric's earlier
    releases (newest first, at most `benchmark_releases.HISTORY`), which a new release must
    differ from too (arcos/community/benchmark_releases.py). Never exposed: readers see the
    figures computed from `released`.
    """
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    industry = fields.CharField(max_length=64)
    project_type = fields.CharField(max_length=64)
    released: Any = json_field(default=dict)
    history: Any = json_field(default=dict)
    #: When the live metrics were last compared with the release.
    checked_at = fields.DatetimeField()
    #: When any metric was last replaced.
    released_at = fields.DatetimeField(null=True)

    class Meta:
        table = "community_benchmark_release"
        unique_together = (("industry", "project_type"),)

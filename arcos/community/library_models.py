"""The community libraries: quality patterns and best practices, their ratings, uses and
votes.

Patterns and practices are shared items (arcos/community/sharing.py). Their ratings, uses
and votes are rows of their own, one per principal (or project) by a unique index, so a
second vote cannot be counted even when twenty arrive at once: the index refuses it in
the database, where no two requests can both pass a check.

`keywords` holds the words a search matches besides the title and description (a
pattern's tags, a practice's industry and steps), as plain text: the full-text index
(arcos/community/library_search.py) is built from `name`/`title`, `keywords` and
`description`, on SQLite by triggers and on PostgreSQL by a generated column, so it can
never disagree with the row.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from arcos.community.sharing import SharedItem
from arcos.store.json_field import json_field


class LibraryCategory(StrEnum):
    """What a pattern or practice is about."""

    TESTING = "testing"
    SECURITY = "security"
    PERFORMANCE = "performance"
    RELIABILITY = "reliability"
    MAINTAINABILITY = "maintainability"
    DOCUMENTATION = "documentation"
    COMPLIANCE = "compliance"
    PROCESS = "process"


class QualityPattern(SharedItem):
    """A reusable way of reaching a quality goal, described as JSON.

    `metrics` are the quality-metric names the pattern targets (e.g. `coverage.line_rate`),
    taken from the pattern JSON's `metrics` list when it is shared: they are what its
    effectiveness is measured by.
    """
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    name = fields.CharField(max_length=200)
    category = fields.CharEnumField(LibraryCategory, max_length=32)
    description = fields.TextField()
    pattern: Any = json_field()
    tags: Any = json_field(default=list)
    metrics: Any = json_field(default=list)
    keywords = fields.TextField(default="")
    #: The tags as `|tag|tag|`, so a tag filter is one exact LIKE in either store.
    tag_index = fields.TextField(default="")

    class Meta:
        table = "community_pattern"
        indexes = (("category", "id"),)


class PatternRating(Model):
    """One principal's stars for one pattern; rating again replaces them."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    pattern: fields.ForeignKeyRelation[QualityPattern] = fields.ForeignKeyField(
        "models.QualityPattern", related_name="ratings", on_delete=fields.CASCADE)
    pattern_id: int
    rater = fields.CharField(max_length=255)
    stars = fields.SmallIntField()
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "community_pattern_rating"
        unique_together = (("pattern", "rater"),)


class PatternUse(Model):
    """A project that adopted a pattern, and when: effectiveness compares its metrics then
    and now. One row per (pattern, project): recording it again keeps the first date."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    pattern: fields.ForeignKeyRelation[QualityPattern] = fields.ForeignKeyField(
        "models.QualityPattern", related_name="uses", on_delete=fields.CASCADE)
    pattern_id: int
    project = fields.CharField(max_length=255)
    adopted_at = fields.DatetimeField()
    recorded_by = fields.CharField(max_length=255)

    class Meta:
        table = "community_pattern_use"
        unique_together = (("pattern", "project"),)


class BestPractice(SharedItem):
    """A practice described in steps, with examples and references."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    title = fields.CharField(max_length=200)
    category = fields.CharEnumField(LibraryCategory, max_length=32)
    industry = fields.CharField(max_length=64, null=True)
    description = fields.TextField()
    steps: Any = json_field(default=list)
    examples: Any = json_field(default=list)
    references: Any = json_field(default=list)
    keywords = fields.TextField(default="")

    class Meta:
        table = "community_practice"
        indexes = (("category", "id"), ("industry", "id"))


class PracticeVote(Model):
    """One principal's upvote of one practice; the unique index makes it count once."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    practice: fields.ForeignKeyRelation[BestPractice] = fields.ForeignKeyField(
        "models.BestPractice", related_name="votes", on_delete=fields.CASCADE)
    practice_id: int
    voter = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()

    class Meta:
        table = "community_practice_vote"
        unique_together = (("practice", "voter"),)

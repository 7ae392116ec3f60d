"""Custom industry and compliance templates, shared like every community item.

The built-in templates are not rows: they are served from arcos/community/
industry_content.py and compliance_content.py, read-only and visible to every reader, so
the store can never be empty of them. A custom template's `key` is unique per owner (two
owners may both call theirs `acme-bank` without either learning of the other's).
"""

from __future__ import annotations

from typing import Any

from tortoise import fields

from arcos.community.sharing import SharedItem
from arcos.store.json_field import json_field

MAX_KEY_LENGTH = 64


class IndustryTemplate(SharedItem):
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)
    key = fields.CharField(max_length=MAX_KEY_LENGTH)
    name = fields.CharField(max_length=255)
    description = fields.TextField()
    #: [{"name", "note"}]
    standards: Any = json_field()
    requirements: Any = json_field()
    #: The GSN argument skeleton, nodes as arcos.community.gsn.Node.to_json gives them.
    argument: Any = json_field()
    #: Keys of the built-in compliance frameworks that apply.
    frameworks: Any = json_field(default=list)

    class Meta:
        table = "community_industry_template"
        unique_together = (("owner", "key"),)


class ComplianceTemplate(SharedItem):
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)
    key = fields.CharField(max_length=MAX_KEY_LENGTH)
    name = fields.CharField(max_length=255)
    version = fields.CharField(max_length=255)
    description = fields.TextField()
    #: [{"id", "title", "checklist", "checks": [check JSON]}]
    controls: Any = json_field()

    class Meta:
        table = "community_compliance_template"
        unique_together = (("owner", "key"),)

"""Who can call ARCOS: principals and the API tokens that belong to them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from arcos.store.json_field import json_field


class PrincipalKind(StrEnum):
    PERSON = "person"
    CI = "ci"
    SCM = "scm"
    PLUGIN = "plugin"


class Principal(Model):
    """A person, CI job, SCM integration or plugin. Never renamed or deleted: evidence
    provenance refers to it by name."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    kind = fields.CharEnumField(PrincipalKind, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "principal"


class ApiToken(Model):
    """A bearer token. Only the SHA-256 of the secret is stored; `display_prefix` is the
    first characters, shown in listings so a leaked token can be recognised."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.IntField(primary_key=True)
    principal: fields.ForeignKeyRelation[Principal] = fields.ForeignKeyField(
        "models.Principal", related_name="tokens", on_delete=fields.RESTRICT
    )
    principal_id: int
    name = fields.CharField(max_length=100, unique=True)
    secret_sha256 = fields.CharField(max_length=64, unique=True)
    display_prefix = fields.CharField(max_length=16)
    scopes: Any = json_field()
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"

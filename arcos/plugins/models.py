"""Stored plugins: immutable signed versions, the executions they ran, the panels they drew.

A version row is never edited in what it is (manifest, code, hash, signature); only its
standing changes (approval, revocation, enabled, failure count, removal from the
catalogue). Executions name their version by text, not by a foreign key, so they outlive
the catalogue entry: an unregistered plugin's executions and evidence stay.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from arcos.store.json_field import json_field


class VersionState(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    REVOKED = "revoked"


class ExecutionStatus(StrEnum):
    """How an execution ended: the sandbox's outcomes, plus the host's own refusals."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CRASHED = "crashed"
    OUTPUT_TOO_LARGE = "output_too_large"
    INVALID_RESULT = "invalid_result"
    #: The plugin returned, but the host refused what it returned (drafts, metrics, panel).
    OUTPUT_REFUSED = "output_refused"
    #: A triggered run that found the sandbox busy or unavailable, and so did not run.
    NOT_RUN = "not_run"


class ExecutionTrigger(StrEnum):
    CALL = "call"
    EVIDENCE_ADDED = "evidence_added"


class PluginVersion(Model):
    """One registered (id, version): what was signed, and its standing."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    plugin_id = fields.CharField(max_length=100)
    version = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=16)
    name = fields.CharField(max_length=255)
    description = fields.TextField()
    author = fields.CharField(max_length=255)
    tags: Any = json_field(default=list)
    #: id, name, description and tags in lower case: what a catalogue search matches.
    search_text = fields.TextField()
    #: The normalised manifest (Manifest.to_json()); the signature covers it.
    manifest: Any = json_field()
    code = fields.TextField()
    code_sha256 = fields.CharField(max_length=64)
    signature = fields.CharField(max_length=128)
    key_id = fields.CharField(max_length=32)
    requested_permissions: Any = json_field(default=list)
    approved_permissions: Any = json_field(default=list)
    state = fields.CharEnumField(VersionState, max_length=24)
    enabled = fields.BooleanField(default=True)
    #: Whether its manifest subscribes it to new evidence (arcos/plugins/triggers.py).
    has_triggers = fields.BooleanField(default=False)
    disabled_reason = fields.TextField(null=True)
    consecutive_failures = fields.IntField(default=0)
    #: Whether this is the version the catalogue shows for its plugin (the highest
    #: non-revoked one), kept by every write that changes which one that is.
    is_latest = fields.BooleanField(default=False)
    registered_by = fields.CharField(max_length=255)
    approved_by = fields.CharField(max_length=255, null=True)
    revoked_by = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField()
    approved_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    #: Set by unregisterPlugin: out of the catalogue, kept for the record.
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "plugin_version"
        unique_together = (("plugin_id", "version"),)
        indexes = (("is_latest", "plugin_id"), ("kind", "is_latest"))

    @property
    def label(self) -> str:
        return f"{self.plugin_id}@{self.version}"


#: Execution columns that may hold a megabyte; read only for executions a response shows.
LARGE_EXECUTION_VALUES = ("result",)


class PluginExecution(Model):
    """One run of a plugin version, however it ended."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    uid = fields.UUIDField(unique=True, default=uuid.uuid4)
    plugin_id = fields.CharField(max_length=100)
    version = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=16)
    status = fields.CharEnumField(ExecutionStatus, max_length=24)
    trigger = fields.CharEnumField(ExecutionTrigger, max_length=24)
    duration_ms = fields.FloatField(default=0.0)
    error = fields.TextField(null=True)
    result: Any = json_field(null=True)
    #: Bytes of `result` as responses carry it, so a listing can be bounded unread.
    result_size = fields.BigIntField(default=0)
    #: Evidence uids the host stored from its output.
    evidence_uids: Any = json_field(default=list)
    metric_count = fields.IntField(default=0)
    project = fields.CharField(max_length=255, null=True)
    caller = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()

    class Meta:
        table = "plugin_execution"
        indexes = (("plugin_id", "id"), ("status", "id"))


class PluginPanel(Model):
    """A visualization plugin's panel, validated against the published panel schema."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    uid = fields.UUIDField(unique=True, default=uuid.uuid4)
    plugin_id = fields.CharField(max_length=100)
    version = fields.CharField(max_length=64)
    execution_uid = fields.UUIDField()
    project = fields.CharField(max_length=255, null=True)
    panel: Any = json_field()
    created_at = fields.DatetimeField()

    class Meta:
        table = "plugin_panel"
        indexes = (("plugin_id", "id"), ("project", "id"))

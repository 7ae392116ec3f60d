"""Every webhook delivery ARCOS received, and secrets an admin set at run time."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from arcos.store.json_field import json_field


class DeliveryOutcome(StrEnum):
    PROCESSED = "processed"  # evidence written
    IGNORED = "ignored"  # an event ARCOS does not map
    PING = "ping"  # a provider's connectivity test
    FAILED = "failed"  # the mapping produced evidence that did not validate


class WebhookDelivery(Model):
    """One delivery. (provider, dedupe_key) is unique: a redelivery finds the first row."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    provider = fields.CharField(max_length=32)
    event = fields.CharField(max_length=128)
    action = fields.CharField(max_length=128, null=True)
    dedupe_key = fields.CharField(max_length=255)
    received_at = fields.DatetimeField()
    outcome = fields.CharEnumField(DeliveryOutcome, max_length=16)
    detail = fields.TextField(null=True)
    evidence_ids: Any = json_field(default=list)
    raw_body = fields.TextField(null=True)
    body_sha256 = fields.CharField(max_length=64)
    reprocessed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        unique_together = (("provider", "dedupe_key"),)
        indexes = (("provider", "id"), ("received_at",))


class WebhookReplayMark(Model):
    """A body a provider delivered within ARCOS_WEBHOOK_REPLAY_WINDOW_SECONDS.

    GitHub and Bitbucket sign the body but not the delivery id, so a captured body re-sent
    with a fresh id passes both the signature and the dedupe index. (provider, body_sha256)
    is unique: of several concurrent replays, on one instance or many sharing the store,
    only one claims the mark; the others find the first delivery.
    """
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    provider = fields.CharField(max_length=32)
    body_sha256 = fields.CharField(max_length=64)
    delivery_id = fields.BigIntField()
    seen_at = fields.DatetimeField()

    class Meta:
        table = "webhook_replay_mark"
        unique_together = (("provider", "body_sha256"),)
        indexes = (("seen_at",),)


class WebhookSecret(Model):
    """A secret set by an admin; it takes precedence over the ARCOS_* setting."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    current = fields.TextField()
    previous = fields.TextField(null=True)
    updated_by = fields.CharField(max_length=255)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook_secret"

"""Stored threat intelligence: threats shared through ARCOS, every STIX object imported
(unknown types and custom properties included: the object's JSON is kept as sent), the
imports themselves, and the principals named as recipients of AMBER and RED items."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from arcos.community.sharing import SharedItem
from arcos.community.threats_tlp import Tlp
from arcos.store.json_field import json_field


class ThreatKind(StrEnum):
    """What a shared threat is, named by the STIX domain object it exports as."""

    VULNERABILITY = "vulnerability"
    MALWARE = "malware"
    ATTACK_PATTERN = "attack-pattern"
    THREAT_ACTOR = "threat-actor"
    CAMPAIGN = "campaign"
    TOOL = "tool"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Threat(SharedItem):
    """A threat shared through shareThreat; its STIX objects are derived from it on export.
    `grant` (its uid) is what its named recipients are recorded under."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    title = fields.CharField(max_length=200)
    kind = fields.CharEnumField(ThreatKind, max_length=32)
    severity = fields.CharEnumField(Severity, max_length=16)
    description = fields.TextField()
    indicators: Any = json_field(default=list)
    mitigations: Any = json_field(default=list)
    #: [{"package": purl or CPE, "versions": range}] (arcos/community/threats_components.py)
    affected_components: Any = json_field(default=list)
    tlp = fields.CharEnumField(Tlp, max_length=16)
    grant = fields.UUIDField(db_index=True)
    #: The id of its STIX domain object (`<kind>--<uid>`), so imported relationships that
    #: point at it are checked in SQL like those between imported objects.
    stix_id = fields.CharField(max_length=300, db_index=True)

    class Meta:
        table = "community_threat"


class StixImport(Model):
    """One imported bundle: who sent it and what it added."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    uid = fields.UUIDField(unique=True)
    owner = fields.CharField(max_length=255)
    bundle_id = fields.CharField(max_length=300)
    objects_total = fields.IntField()
    objects_new = fields.IntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "community_stix_import"


class StixObject(SharedItem):
    """One version of one STIX object, as one principal imported it. (owner, stix_id,
    modified) is unique, so a re-import of the same version by the same importer adds
    nothing, while another importer of the same object keeps its own row (its own TLP and
    recipients; nobody learns from an import that someone else holds the object).
    `body` is the object's JSON as sent."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    stix_id = fields.CharField(max_length=300)
    stix_type = fields.CharField(max_length=250)
    #: The object's `modified` (or `created`; "" for objects with neither, e.g. SCOs).
    modified = fields.CharField(max_length=40)
    tlp = fields.CharEnumField(Tlp, max_length=16)
    #: Relationships: source_ref/target_ref; sightings: sighting_of_ref as the target.
    source_ref = fields.CharField(max_length=300, null=True)
    target_ref = fields.CharField(max_length=300, null=True)
    body: Any = json_field()
    import_record: fields.ForeignKeyRelation[StixImport] = fields.ForeignKeyField(
        "models.StixImport", related_name="objects", on_delete=fields.RESTRICT
    )
    import_record_id: int
    #: The import's uid: its named recipients are recorded under it.
    grant = fields.UUIDField(db_index=True)

    class Meta:
        table = "community_stix_object"
        unique_together = (("owner", "stix_id", "modified"),)
        indexes = (("stix_id",), ("stix_type", "id"))


class ThreatRecipient(Model):
    """A principal an AMBER or RED threat or import is shared with by name."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    grant = fields.UUIDField()
    principal = fields.CharField(max_length=255)

    class Meta:
        table = "community_threat_recipient"
        unique_together = (("grant", "principal"),)
        indexes = (("principal",),)


class ThreatComponent(Model):
    """One affected component of a shared threat, by the key SBOM components are matched
    on (a purl's package key, a CPE's product name): a new SBOM's packages find the threats
    that may affect them through this index, instead of every threat being read and
    compared in Python."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    threat: fields.ForeignKeyRelation[Threat] = fields.ForeignKeyField(
        "models.Threat", related_name="components", on_delete=fields.CASCADE
    )
    threat_id: int
    key = fields.CharField(max_length=512)

    class Meta:
        table = "community_threat_component"
        indexes = (("key", "threat_id"),)

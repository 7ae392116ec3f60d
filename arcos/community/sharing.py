"""Who sees a shared community item, and who may change it.

Every shared kind (a pattern, a practice, a threat, a template, a benchmark) inherits
`SharedItem`, and every read of one — lists, counts, search, statistics, exports,
`node(id)`, subscriptions — filters with `readable(caller)` in SQL or `may_read` in
Python. One rule in one place, so a private item cannot leak through a `totalCount` or a
search ranking that forgot it.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from tortoise import fields
from tortoise.expressions import Q
from tortoise.models import Model

from arcos.auth.caller import Caller
from arcos.auth.scopes import ADMIN
from arcos.community.scopes import COMMUNITY_READ
from arcos.problems import ProblemCode, Refused


class Visibility(StrEnum):
    """Who reads an item: anyone who may read the community (anonymous readers included
    when ARCOS_ANONYMOUS_READ is on), authenticated members, or its owner alone."""

    PUBLIC = "public"
    COMMUNITY = "community"
    PRIVATE = "private"


class SharedItem(Model):
    """What every shared kind has: an owner, a visibility, and its moderation state."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    id = fields.BigIntField(primary_key=True)
    #: The public handle: global ids carry it, never the row id.
    uid = fields.UUIDField(unique=True, default=uuid.uuid4)
    #: The principal that shared it (`caller.name`), kept even when it is shown anonymised,
    #: so its owner can still edit it and admins can still see who wrote it.
    owner = fields.CharField(max_length=255, db_index=True)
    visibility = fields.CharEnumField(Visibility, max_length=16)
    #: Shared anonymised: the author is hidden from everyone but admins, and its text was
    #: scrubbed before it was stored (arcos/community/scrub.py).
    anonymized = fields.BooleanField(default=False)
    #: An admin hid it: only admins see it.
    hidden = fields.BooleanField(default=False)
    hidden_reason = fields.TextField(null=True)
    #: Its owner withdrew it: nobody sees it any more; the row stays for what refers to it.
    withdrawn = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        abstract = True


def is_admin(caller: Caller) -> bool:
    return caller.may(ADMIN)


def readable(caller: Caller) -> Q:
    """The rows `caller` may see, as a filter for any SharedItem query."""
    if not caller.may(COMMUNITY_READ):
        return Q(id__in=[])
    if is_admin(caller):
        return Q(withdrawn=False)
    seen = Q(visibility=Visibility.PUBLIC)
    if caller.authenticated:
        seen = seen | Q(visibility=Visibility.COMMUNITY) | Q(owner=caller.name)
    return Q(withdrawn=False, hidden=False) & seen


def may_read(item: SharedItem, caller: Caller) -> bool:
    """`readable` for one row already in hand (subscriptions, relationships)."""
    if not caller.may(COMMUNITY_READ) or item.withdrawn:
        return False
    if is_admin(caller):
        return True
    if item.hidden:
        return False
    if item.visibility == Visibility.PUBLIC:
        return True
    if not caller.authenticated:
        return False
    return item.visibility == Visibility.COMMUNITY or item.owner == caller.name


def may_change(item: SharedItem, caller: Caller) -> bool:
    """Whether `caller` may edit or withdraw `item`: its owner, or an admin."""
    return is_admin(caller) or (caller.authenticated and item.owner == caller.name)


def author_shown(item: SharedItem, caller: Caller) -> str | None:
    """The owner's name, or None when it was shared anonymised and `caller` is no admin."""
    if item.anonymized and not is_admin(caller):
        return None
    return item.owner


def check_not_own(item: SharedItem, caller: Caller, action: str) -> None:
    """Refuses a vote or rating on one's own item: reputation comes from others."""
    if item.owner == caller.name:
        raise Refused.one("id", f"you cannot {action} your own item; only others' count",
                          ProblemCode.INVALID)

"""Reading the ids clients pass back: a global Node id (base64 of `Type:uuid`) or the bare
UUID inside one.

Mutations take ids as strings rather than `ID!` objects so that a malformed one is refused
with a sentence naming the type to pass, not strawberry's generic decoding error.
"""

from __future__ import annotations

import uuid

from strawberry import relay

from arcos.problems import BadUserInput


def decode_global_id(raw: str) -> relay.GlobalID | None:
    """The global id `raw` spells, or None for anything that is not one."""
    try:
        return relay.GlobalID.from_id(raw)
    except Exception:  # strawberry raises several kinds for malformed base64
        return None


def node_uid(raw: str, type_name: str, what: str, owner: str) -> uuid.UUID:
    """The UUID inside a global id of `type_name` (or a bare UUID); BAD_USER_INPUT saying
    `raw` is not `what` id and to pass the `id` field of `owner`."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        pass
    global_id = decode_global_id(raw)
    if global_id is not None and global_id.type_name == type_name:
        try:
            return uuid.UUID(global_id.node_id)
        except ValueError:
            pass
    raise BadUserInput(f"'{raw:.80}' is not {what} id: pass the `id` field of {owner}")

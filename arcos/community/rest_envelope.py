"""Reading the community's original REST bodies: an item wrapped under its kind's name plus
how it is shared (`{"pattern": {…}, "permission": "community", "anonymize": true}`).

Every original share route reads that envelope the same way and refuses a bad one with the
same 400 words, so the REST `permission` vocabulary (public, community, private) and how
it maps onto a Visibility, and for threats onto a TLP level, live here only.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from arcos.community.sharing import Visibility
from arcos.community.threats_tlp import Tlp, visibility_of
from arcos.rest.request import RestCall
from arcos.rest.shapes import JsonSchema, non_null
from arcos.web.refusal import RestRefusal

#: The REST `permission` words, each the value of the Visibility it names.
PERMISSIONS: tuple[str, ...] = tuple(visibility.value for visibility in Visibility)


def bad(message: str) -> RestRefusal:
    """A 400 for a body the route cannot read; `message` says what to send instead."""
    return RestRefusal(400, message, "BAD_REQUEST")


def fields(value: Any, allowed: Collection[str], where: str) -> dict[str, Any]:
    """`value` if it is a JSON object holding only `allowed` keys."""
    if not isinstance(value, dict):
        raise bad(f"{where} must be a JSON object")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise bad(f"unknown fields in {where}: {', '.join(unknown)}; known: "
                  f"{', '.join(sorted(allowed))}")
    return value


def choice(value: Any, options: Sequence[str], where: str) -> str:
    """The GraphQL enum value (upper case) of a lower-case REST word among `options`; any
    case is read."""
    if not isinstance(value, str) or value.lower() not in options:
        raise bad(f"{where} must be one of {', '.join(options)} (got {value!r:.40})")
    return value.upper()


def visibility(permission: Any) -> Visibility:
    """The Visibility a REST `permission` word names."""
    return Visibility[choice(permission, PERMISSIONS, "permission")]


def tlp_of(readers: Visibility) -> Tlp:
    """The TLP level a threat shared with only a `permission` gets: the least restricted
    level whose readers are `readers` (public: clear, community: green, private: amber)."""
    return next(level for level in Tlp if visibility_of(level) is readers)


def flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise bad(f"{name} must be true or false")
    return value


@dataclass(frozen=True)
class Shared:
    """What an envelope carried: the item as sent, and how it is to be shared."""

    item: dict[str, Any]
    #: The `permission` sent (null is refused like any other non-word); None when it was
    #: left out.
    visibility: Visibility | None
    anonymize: bool

    def sharing(self, default: Visibility) -> dict[str, Any]:
        """The GraphQL input fields saying how the item is shared; `default` when no
        `permission` was sent (each route keeps the default its original had)."""
        chosen = self.visibility or default
        return {"visibility": chosen.name, "anonymize": self.anonymize}


@dataclass(frozen=True)
class Envelope:
    """How one route's body wraps its item; `item_fields`: the keys the item may hold
    (None: the GraphQL input checks them)."""

    kind: str
    item_fields: frozenset[str] | None = None

    async def read(self, call: RestCall) -> Shared:
        body = await call.json_object()
        unknown = sorted(set(body) - {self.kind, "permission", "anonymize"})
        item = body.get(self.kind)
        if unknown or not isinstance(item, dict):
            raise bad(f'send {{"{self.kind}": {{…}}, "permission": "{"|".join(PERMISSIONS)}", '
                      '"anonymize": false}'
                      + (f"; unknown fields: {', '.join(unknown)}" if unknown else ""))
        if self.item_fields is not None:
            fields(item, self.item_fields, self.kind)
        chosen = visibility(body["permission"]) if "permission" in body else None
        return Shared(item, chosen, flag(body.get("anonymize", False), "anonymize"))


@dataclass(frozen=True)
class Listing:
    """`{"success": true, "<key>": [...], "count", "total_count", "next_cursor"}`: one page
    of a connection's nodes, the answer of every community list route. `lower` answers a
    node with its enum values in lower case; `lower_schema` describes what it answers."""

    key: str
    lower: Callable[[Any], Any]
    lower_schema: Callable[[JsonSchema], JsonSchema]
    status: int = 200

    @property
    def items_key(self) -> str | None:
        return self.key

    def body(self, value: Any, subject: str) -> Any:
        info = value["pageInfo"]
        items = [self.lower(node) for node in value["nodes"]]
        return {"success": True, self.key: items, "count": len(items),
                "total_count": value["totalCount"],
                "next_cursor": info["endCursor"] if info["hasNextPage"] else None}

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        nodes = non_null(non_null(value_schema)["properties"]["nodes"])
        properties = {
            "success": {"const": True},
            self.key: {**nodes, "items": self.lower_schema(nodes["items"])},
            "count": {"type": "integer"}, "total_count": {"type": "integer"},
            "next_cursor": {"type": ["string", "null"]},
        }
        return {"type": "object", "properties": properties, "required": sorted(properties)}

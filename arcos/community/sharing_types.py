"""GraphQL shapes every shared kind uses: its visibility enum, its author and its id
argument."""

import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from arcos.community.library_loaders import ReputationByName
from arcos.community.sharing import SharedItem, Visibility, author_shown
from arcos.graphql.global_ids import node_uid
from arcos.graphql.metadata import MAX_LENGTH

if TYPE_CHECKING:
    from strawberry.types import Info

    from arcos.graphql.context import ArcosContext

strawberry.enum(
    Visibility, name="CommunityVisibility",
    description="Who reads a shared item: PUBLIC (anyone who may read the community, "
    "anonymous readers too when the server allows them), COMMUNITY (authenticated members), "
    "PRIVATE (its owner and admins).",
)


@strawberry.type(name="CommunityAuthor", description="Who shared an item; absent when it "
                 "was shared anonymised (admins still see it).")
class CommunityAuthor:
    name: str
    reputation: int = strawberry.field(
        description="Grows with the stars and upvotes others give this principal's items "
        "(never its own).")


async def author_of(
    item: SharedItem | None, info: "Info[ArcosContext, None]"
) -> CommunityAuthor | None:
    """Who shared `item`, with their reputation: every kind's `author` field. None for a
    built-in item and, to non-admins, for one shared anonymised."""
    name = author_shown(item, info.context.caller) if item is not None else None
    if name is None:
        return None
    return CommunityAuthor(name=name, reputation=await ReputationByName(info.context).load(name))


#: A shared item's id argument: its global id (or the bare UUID inside it).
ItemId = Annotated[str, strawberry.argument(metadata={MAX_LENGTH: 200})]


def parse_item_id(raw: str, type_name: str) -> uuid.UUID:
    """The uid inside a global id of `type_name` (or a bare UUID); BAD_USER_INPUT else."""
    return node_uid(raw, type_name, f"a {type_name}", f"a {type_name}")

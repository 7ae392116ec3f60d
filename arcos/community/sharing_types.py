"""GraphQL shapes every shared kind uses: its visibility enum and its author."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from arcos.community.library_loaders import ReputationByName
from arcos.community.sharing import SharedItem, Visibility, author_shown

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
    item: SharedItem | None, info: Info[ArcosContext, None]
) -> CommunityAuthor | None:
    """Who shared `item`, with their reputation: every kind's `author` field. None for a
    built-in item and, to non-admins, for one shared anonymised."""
    name = author_shown(item, info.context.caller) if item is not None else None
    if name is None:
        return None
    return CommunityAuthor(name=name, reputation=await ReputationByName(info.context).load(name))

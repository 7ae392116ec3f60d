"""GraphQL shapes every shared kind uses: its visibility enum and its author."""

from __future__ import annotations

import strawberry

from arcos.community.sharing import Visibility

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

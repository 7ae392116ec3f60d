"""The community's own root fields: statistics and taking items down. Each area (library,
threats, templates, benchmarks) adds its fields beside these in arcos/community/domain.py."""

from functools import partial
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from arcos.auth.permissions import requires
from arcos.auth.scopes import ADMIN as ADMIN_SCOPE
from arcos.community import moderation
from arcos.community.scopes import COMMUNITY_READ, COMMUNITY_WRITE
from arcos.community.sharing import Visibility
from arcos.community.stats import community_stats
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import UserError, payload_of
from arcos.graphql.metadata import MAX_LENGTH

READ = [requires(COMMUNITY_READ)]
WRITE = [requires(COMMUNITY_WRITE)]
ADMIN = [requires(ADMIN_SCOPE)]


@strawberry.type(name="CommunityKindCount", description="Items of one kind the caller may "
                 "read, by visibility.")
class CommunityKindCount:
    kind: str
    public: int
    community: int
    private: int
    total: int


@strawberry.type(name="CommunityTally")
class CommunityTally:
    name: str
    count: int


@strawberry.type(name="CommunityStats", description="What the community holds, counted as "
                 "the caller sees it: nothing the caller may not read changes a number.")
class CommunityStatsType:
    kinds: list[CommunityKindCount]
    contributors: int = strawberry.field(
        description="Principals named as the author of an item the caller may read (one "
        "shared anonymised names nobody, so it counts only for admins).")
    votes: int = strawberry.field(description="Upvotes and ratings on readable items.")
    imports: int = strawberry.field(description="Imports (e.g. STIX bundles) the caller "
                                    "may read the results of.")
    tallies: list[CommunityTally]


@strawberry.type(name="CommunityItemState", description="A shared item's standing after a "
                 "withdrawal or a moderation.")
class CommunityItemState:
    id: relay.GlobalID
    kind: str
    visibility: Visibility
    withdrawn: bool
    hidden: bool
    hidden_reason: str | None


@strawberry.type
class CommunityItemPayload:
    item: CommunityItemState | None
    errors: list[UserError]


def _state(done: moderation.Moderated) -> CommunityItemState:
    item = done.item
    return CommunityItemState(
        id=relay.GlobalID(done.kind.type_name, str(item.uid)), kind=done.kind.name,
        visibility=Visibility(item.visibility), withdrawn=item.withdrawn, hidden=item.hidden,
        hidden_reason=item.hidden_reason)


@strawberry.type
class CoreQueries:
    @strawberry.field(description="Counts by kind and visibility, contributors, votes and "
                      "imports — of what you may read.", permission_classes=READ)
    async def community_stats(self, info: Info[ArcosContext, None]) -> CommunityStatsType:
        stats = await community_stats(info.context.caller)
        return CommunityStatsType(
            kinds=[CommunityKindCount(
                kind=k.kind, public=k.by_visibility[Visibility.PUBLIC],
                community=k.by_visibility[Visibility.COMMUNITY],
                private=k.by_visibility[Visibility.PRIVATE], total=k.total)
                for k in stats.kinds],
            contributors=stats.contributors, votes=stats.votes, imports=stats.imports,
            tallies=[CommunityTally(name=n, count=c) for n, c in stats.tallies.items()])


@strawberry.type
class CoreMutations:
    @strawberry.mutation(description="Withdraw an item you shared (admins: any item): nobody "
                         "reads it afterwards.", permission_classes=WRITE)
    async def withdraw_community_item(
        self, info: Info[ArcosContext, None], id: relay.GlobalID
    ) -> CommunityItemPayload:
        context = info.context
        return await payload_of(
            moderation.withdraw(moderation.ItemRef(id.type_name, id.node_id), context.caller,
                                context.write_context()),
            _item_payload, partial(CommunityItemPayload, item=None))

    @strawberry.mutation(description="Hide an item from everyone but admins, or show it "
                         "again (`hidden: false`).", permission_classes=ADMIN)
    async def hide_community_item(
        self, info: Info[ArcosContext, None], id: relay.GlobalID, hidden: bool = True,
        reason: Annotated[str | None, strawberry.argument(
            metadata={MAX_LENGTH: moderation.MAX_REASON_LENGTH})] = None,
    ) -> CommunityItemPayload:
        context = info.context
        return await payload_of(
            moderation.hide(moderation.ItemRef(id.type_name, id.node_id), hidden, reason,
                            context.caller, context.write_context()),
            _item_payload, partial(CommunityItemPayload, item=None))


def _item_payload(done: moderation.Moderated) -> CommunityItemPayload:
    return CommunityItemPayload(item=_state(done), errors=[])

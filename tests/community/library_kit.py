"""Shared pieces of the library tests: an app with anonymous reads on, principals with their
clients, and the GraphQL selections the tests read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from conftest import GraphQLClient, RunningApp, running_app

from arcos.settings import Settings

PATTERN_FIELDS = """
  id name category description pattern tags metrics visibility anonymized hidden
  author { name reputation } averageRating ratingCount myRating usageCount
"""
PRACTICE_FIELDS = """
  id title category industry description steps examples references visibility anonymized
  author { name reputation } upvotes upvotedByMe
"""
SHARE = f"""mutation($input: SharePatternInput!) {{ sharePattern(input: $input) {{
  pattern {{ {PATTERN_FIELDS} }} errors {{ field message code }} }} }}"""
ADD = f"""mutation($input: AddPracticeInput!) {{ addPractice(input: $input) {{
  practice {{ {PRACTICE_FIELDS} }} errors {{ field message code }} }} }}"""
PATTERNS = f"""query($search: String, $category: LibraryCategory, $tag: String, $first: Int!,
  $after: String) {{ patterns(search: $search, category: $category, tag: $tag, first: $first,
  after: $after) {{ totalCount pageInfo {{ hasNextPage endCursor }}
  nodes {{ {PATTERN_FIELDS} }} }} }}"""
PRACTICES = f"""query($search: String, $category: LibraryCategory, $industry: String,
  $first: Int!) {{ practices(search: $search, category: $category, industry: $industry,
  first: $first) {{ totalCount nodes {{ {PRACTICE_FIELDS} }} }} }}"""
NODE = """query($id: ID!) { node(id: $id) { id ... on QualityPattern { name }
  ... on BestPractice { title } } }"""
RATE = """mutation($id: String!, $stars: Int!) { ratePattern(id: $id, stars: $stars) {
  pattern { averageRating ratingCount myRating } errors { field message code } } }"""
UPVOTE = """mutation($id: String!) { upvotePractice(id: $id) { practice { upvotes upvotedByMe }
  changed errors { field message code } } }"""
WITHDRAW = """mutation($id: String!) { withdrawUpvote(id: $id) { practice { upvotes }
  changed errors { field message code } } }"""


@dataclass
class Principal:
    """One caller: its name, its HTTP client and a GraphQL client over it."""

    name: str
    http: httpx.AsyncClient
    gql: GraphQLClient

    async def data(self, query: str, variables: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
        """`data` of a query that must succeed without errors."""
        body = await self.gql(query, variables)
        assert "errors" not in body, body
        return body["data"]


@dataclass
class Community:
    app: RunningApp
    owner: Principal
    member: Principal
    admin: Principal
    anonymous: Principal
    extra: dict[str, Principal] = field(default_factory=dict)

    @property
    def readers(self) -> dict[str, Principal]:
        return {"owner": self.owner, "member": self.member, "admin": self.admin,
                "anonymous": self.anonymous}


def community_settings(settings: Settings) -> Settings:
    return settings.replace(anonymous_read=True, write_rate_per_minute=100_000,
                            write_burst=10_000,
                            community_redact_names="Jane Doe,Globex Industries")


@asynccontextmanager
async def community(settings: Settings) -> AsyncIterator[Community]:
    """An app with anonymous reads on and four principals: owner and member (community
    read and write, plus evidence read/write), admin, and an anonymous reader."""
    async with running_app(community_settings(settings)) as app, AsyncExitStack() as stack:
        async def principal(name: str, token: str | None) -> Principal:
            http = await stack.enter_async_context(app.client(token))
            return Principal(name, http, GraphQLClient(http))

        scopes = ("community:read", "community:write", "evidence:read", "evidence:write")
        yield Community(
            app=app,
            owner=await principal("alice", await app.issue("alice", *scopes)),
            member=await principal("bob", await app.issue("bob", *scopes)),
            admin=await principal("test-admin", app.admin_token),
            anonymous=await principal("anonymous", None),
        )


def pattern_input(name: str, **changes: Any) -> dict[str, Any]:
    return {
        "name": name, "category": "TESTING",
        "description": f"{name}: fail the build when coverage drops.",
        "pattern": {"metrics": ["coverage.line_rate"], "threshold": 0.8},
        "tags": ["coverage", "ci"], "visibility": "PUBLIC", **changes,
    }


def practice_input(title: str, **changes: Any) -> dict[str, Any]:
    return {
        "title": title, "category": "SECURITY", "industry": "finance",
        "description": f"{title}: pin every third-party action by commit.",
        "steps": ["list actions", "pin them"], "visibility": "PUBLIC", **changes,
    }


async def share(who: Principal, **input: Any) -> dict[str, Any]:
    payload = (await who.data(SHARE, {"input": input}))["sharePattern"]
    assert payload["errors"] == [], payload
    return payload["pattern"]


async def add(who: Principal, **input: Any) -> dict[str, Any]:
    payload = (await who.data(ADD, {"input": input}))["addPractice"]
    assert payload["errors"] == [], payload
    return payload["practice"]

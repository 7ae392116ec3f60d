"""The original pattern and practice routes as rows of the REST table, in the original
envelope: the item under its kind's name plus its visibility (`{"pattern": {…},
"permission": "community", "anonymize": true}`), snake_case fields, lower-case enum values,
and answers carrying the new item's id. Their operations are in `library_rest.graphql`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arcos.community import rest_bodies
from arcos.community.library_models import LibraryCategory
from arcos.community.rest_envelope import Envelope, Listing, bad, choice
from arcos.community.sharing import Visibility
from arcos.rest.request import RestCall
from arcos.rest.shapes import JsonSchema, Legacy, non_null
from arcos.rest.table import PAGE_CAP, QueryParameter, RestRoute, VariableBuilder

#: Fields whose GraphQL enum values the original API spelled in lower case.
ENUM_FIELDS = ("category", "visibility")
_CATEGORIES = [category.value for category in LibraryCategory]


def lowered(record: Any) -> Any:
    """A record with its enum values in lower case."""
    if not isinstance(record, dict):
        return record
    return {key: value.lower() if key in ENUM_FIELDS and isinstance(value, str) else value
            for key, value in record.items()}


def _lowered_schema(schema: JsonSchema) -> JsonSchema:
    """The record schema with its enum fields' values in lower case."""
    schema = non_null(schema)
    properties = dict(schema.get("properties", {}))
    for key in ENUM_FIELDS:
        if key in properties and "enum" in properties[key]:
            properties[key] = {**properties[key],
                               "enum": [str(v).lower() for v in properties[key]["enum"]]}
    return {**schema, "properties": properties}


@dataclass(frozen=True)
class Shared(Legacy):
    """`{"success": true, "<kind>": {…}, "<kind>_id": "…"}` with lower-case enums."""

    def body(self, value: Any, subject: str) -> Any:
        body = super().body(value, subject)
        return {**body, self.key: lowered(body[self.key])}

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        return super().schema(_lowered_schema(value_schema))


@dataclass(frozen=True)
class Upvoted:
    """`{"success": true, "practice": {…}, "practice_id", "upvotes", "counted"}`."""

    status: int = 200
    items_key: str | None = None

    def body(self, value: Any, subject: str) -> Any:
        practice = value["practice"]
        return {"success": True, "practice": lowered(practice), "practice_id": practice["id"],
                "upvotes": practice["upvotes"], "counted": value["changed"]}

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        practice = _lowered_schema(non_null(value_schema)["properties"]["practice"])
        properties = {"success": {"const": True}, "practice": practice,
                      "practice_id": {"type": "string"}, "upvotes": {"type": "integer"},
                      "counted": {"type": "boolean"}}
        return {"type": "object", "properties": properties, "required": sorted(properties)}


def _envelope(kind: str) -> VariableBuilder:
    """Reads `{"<kind>": {…}, "permission": …, "anonymize": …}` into the GraphQL input."""

    envelope = Envelope(kind)

    async def variables(call: RestCall) -> dict[str, Any]:
        shared = await envelope.read(call)
        fields = dict(shared.item)
        if "category" in fields:
            fields["category"] = choice(fields["category"], _CATEGORIES, f"{kind}.category")
        return {"input": {**fields, **shared.sharing(Visibility.COMMUNITY)}}

    return variables


def _listing(search: bool, industry: bool) -> VariableBuilder:
    async def variables(call: RestCall) -> dict[str, Any]:
        category = call.text("category")
        found: dict[str, Any] = {
            "category": choice(category, _CATEGORIES, "category") if category else None,
            "first": call.integer("first", 20), "after": call.text("after"),
        }
        if industry:
            found["industry"] = call.text("industry")
        else:
            found["tag"] = call.text("tag")
        if search:
            query = call.text("q")
            if query is None:
                raise bad("give the words to search for as ?q=")
            found["search"] = query
        elif industry:
            found["search"] = call.text("q")
        return found

    return variables


async def _upvote_variables(call: RestCall) -> dict[str, Any]:
    return {"id": call.path("practice_id")}


def _practice_subject(call: RestCall) -> str:
    return f"practice {call.path('practice_id')!r:.80}"


PAGE = (
    QueryParameter("category", "Only this category.", {"type": "string", "enum": _CATEGORIES}),
    QueryParameter("first", "Page size, 1 to ARCOS_MAX_PAGE_SIZE.",
                   {"type": "integer", "default": 20, "minimum": 1, "maximum": PAGE_CAP}),
    QueryParameter("after", "`next_cursor` of the previous page."),
)
TAG = QueryParameter("tag", "Only patterns carrying this tag.")
EXAMPLE_PATTERN = {
    "pattern": {
        "name": "Coverage gate on changed lines", "category": "testing",
        "description": "Fail the build when changed lines are less than 80% covered.",
        "pattern": {"metrics": ["coverage.line_rate"], "threshold": 0.8},
        "tags": ["coverage", "ci"],
    },
    "permission": "community", "anonymize": True,
}
EXAMPLE_PRACTICE = {
    "practice": {
        "title": "Pin CI actions by commit", "category": "security", "industry": "finance",
        "description": "Reference third-party CI actions by full commit SHA.",
        "steps": ["List the actions used", "Replace tags with SHAs"],
        "examples": [], "references": [],
    },
    "permission": "public",
}

ROUTES: tuple[RestRoute, ...] = (
    RestRoute(
        "POST", "/api/community/patterns/share", "SharePattern", _envelope("pattern"),
        ("sharePattern", "pattern"), Shared("pattern", status=201, ids_key="pattern_id"),
        "legacy", "Share a quality pattern: {\"pattern\": {…}, \"permission\", \"anonymize\"}.",
        payload_path=("sharePattern",), legacy=True, body_example=EXAMPLE_PATTERN,
        body_schema=rest_bodies.PATTERN,
    ),
    RestRoute(
        "GET", "/api/community/patterns/list", "ListPatterns", _listing(False, False),
        ("patterns",), Listing("patterns", lowered, _lowered_schema), "legacy",
        "Quality patterns you may read, newest first.", query_parameters=(*PAGE, TAG),
        legacy=True,
    ),
    RestRoute(
        "GET", "/api/community/patterns/search", "ListPatterns", _listing(True, False),
        ("patterns",), Listing("patterns", lowered, _lowered_schema), "legacy",
        "Quality patterns you may read whose name, tags and description hold every word of "
        "`q`, best match first.",
        query_parameters=(QueryParameter("q", "The words to search for."), *PAGE, TAG),
        legacy=True,
    ),
    RestRoute(
        "POST", "/api/community/practices/add", "AddPractice", _envelope("practice"),
        ("addPractice", "practice"), Shared("practice", status=201, ids_key="practice_id"),
        "legacy", "Share a best practice: {\"practice\": {…}, \"permission\", \"anonymize\"}.",
        payload_path=("addPractice",), legacy=True, body_example=EXAMPLE_PRACTICE,
        body_schema=rest_bodies.PRACTICE,
    ),
    RestRoute(
        "GET", "/api/community/practices/list", "ListPractices", _listing(False, True),
        ("practices",), Listing("practices", lowered, _lowered_schema), "legacy",
        "Best practices you may read, newest first (best match first with `q`).",
        query_parameters=(*PAGE, QueryParameter("industry", "Only this industry."),
                          QueryParameter("q", "Words to search for.")),
        legacy=True,
    ),
    RestRoute(
        "POST", "/api/community/practices/{practice_id}/upvote", "UpvotePractice",
        _upvote_variables, ("upvotePractice",), Upvoted(), "legacy",
        "Upvote a practice someone else shared; each principal counts once.",
        payload_path=("upvotePractice",), subject=_practice_subject, legacy=True,
    ),
)

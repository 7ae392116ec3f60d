"""Documents a prepared direct plan answers (arcos/graphql/direct_plan.py) get the bytes
the generic strawberry path would have written: for many documents, variables, callers and
errors, each request is sent twice, once as usual and once with the direct path turned off,
and the two responses are compared byte for byte (status, content type, body)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from conftest import RunningApp, running_app
from graphql import parse

from arcos.graphql.direct_http import encode
from arcos.graphql.document_cache import document_cache
from arcos.web.preencoded import dumps

FIELDS = "id type source commitSha ref sha256 createdAt submittedBy"
LIST = f"{{ evidenceList(limit: 100) {{ {FIELDS} }} }}"

#: Documents the direct path answers (with no variables, or with those given).
DIRECT: list[tuple[str, dict[str, Any] | None]] = [
    (LIST, None),
    ("{ evidenceList { id } }", None),
    ("{ evidenceList(limit: 2, offset: 1) { createdAt dataSize ref } }", None),
    ("{ items: evidenceList(limit: 3) { __typename key: id id sha256 s: source } }", None),
    ("{ evidenceList(type: \"build\") { type source commitSha } }", None),
    ("{ evidenceList(source: \"jenkins\", project: \"github.com/acme/app\") { id ref } }", None),
    ("query L($n: Int!, $o: Int = 0) { evidenceList(limit: $n, offset: $o) { id type } }",
     {"n": 2}),
    ("query($t: String) { evidenceList(type: $t) { id type } }", {"t": None}),
    ("query($t: String) { evidenceList(type: $t) { id type } }", {"t": "coverage"}),
    ("query($yes: Boolean!) { evidenceList { id ref @include(if: $yes) "
     "sha256 @skip(if: $yes) } }", {"yes": True}),
    ("query($yes: Boolean!) { evidenceList { id ref @include(if: $yes) "
     "sha256 @skip(if: $yes) } }", {"yes": False}),
    ("{ evidenceList { a: id @skip(if: true) a: id type } }", None),
    ("query A { evidenceList { id } } query B { evidenceList { type } }", None),
]
#: Documents the generic path runs (shapes no plan covers); the answers must not change.
GENERIC: list[tuple[str, dict[str, Any] | None]] = [
    ("{ evidenceList { ...F } } fragment F on Evidence { id type }", None),
    ("{ evidenceList { ... on Evidence { id } } }", None),
    ("{ evidenceList { id data } }", None),
    ("{ evidenceList { id relations { relation } } }", None),
    ("{ evidenceList { id cursor } }", None),
    ("{ evidenceList { id } projects { nodes { slug } } }", None),
    ("{ __typename evidenceList { id } }", None),
    ("{ evidenceList @include(if: true) { id } }", None),
]
#: Requests the generic path refuses; the direct path must hand them over unchanged.
ERRORS: list[tuple[str, dict[str, Any] | None]] = [
    ("{ evidenceList(limit: 0) { id } }", None),
    ("{ evidenceList(limit: 1000000) { id } }", None),
    ("{ evidenceList(offset: -1) { id } }", None),
    ("query($n: Int!) { evidenceList(limit: $n) { id } }", None),
    ("query($n: Int!) { evidenceList(limit: $n) { id } }", {"n": "ten"}),
    ("query($t: String) { evidenceList(type: $t) { id } }", {"t": "x" * 65}),
    ("query($t: String) { evidenceList(type: $t) { id } }", {"t": "nul\u0000"}),
    ("{ evidenceList { id nope } }", None),
    ("{ evidenceList { id ", None),
    ("query($y: Boolean!) { evidenceList { id @include(if: $y) } }", {"y": "yes"}),
    ("{ evidenceList { __schema { types { name } } } }", None),
]


def graphql_view(app: RunningApp) -> Any:
    return next(r.endpoint for r in app.app.routes if getattr(r, "path", None) == "/graphql")


class Both:
    """Sends each request with the direct path on, then off, and returns both answers."""

    def __init__(self, app: RunningApp) -> None:
        self.view = graphql_view(app)
        self.direct_answer = self.view.direct.answer

    async def send(
        self, http: httpx.AsyncClient, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[httpx.Response, httpx.Response, bool]:
        headers = {"content-type": "application/json", **(headers or {})}
        before = self.view.direct.answered
        direct = await http.post("/graphql", content=body, headers=headers)
        answered = self.view.direct.answered > before

        async def generic_only(request: Any) -> None:
            return None

        self.view.direct.answer = generic_only
        try:
            generic = await http.post("/graphql", content=body, headers=headers)
        finally:
            self.view.direct.answer = self.direct_answer
        return direct, generic, answered

    async def same(
        self, http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
        **extra: Any,
    ) -> tuple[httpx.Response, bool]:
        """Assert both paths answer identically; the response, and whether it was direct."""
        body = json.dumps({"query": query, "variables": variables, **extra}).encode()
        direct, generic, answered = await self.send(http, body)
        assert direct.status_code == generic.status_code, (query, direct.text, generic.text)
        assert direct.headers.get("content-type") == generic.headers.get("content-type")
        assert direct.content == generic.content, (query, variables)
        return direct, answered


async def seed(app: RunningApp) -> None:
    items = [
        {"type": kind, "source": source, "data": {"i": index},
         **({"project": "github.com/acme/app"} if index % 2 else {}),
         **({"commitSha": f"{index:02x}" * 20} if index % 3 else {}),
         **({"ref": ref} if ref else {})}
        for index, (kind, source, ref) in enumerate([
            ("build", "jenkins", "refs/heads/main"),
            ("coverage", "jenkins", None),
            ("build", "github", "refs/heads/caf\u00e9"),  # non-ASCII: encoded the generic way
            ("test_results", "jenkins", "refs/tags/v1\"quoted\\"),
            ("coverage", "gitlab", "refs/heads/\u2603"),
        ])
    ]
    mutation = ("mutation($i: SubmitEvidenceBatchInput!) { submitEvidenceBatch(input: $i) "
                "{ errors { message } } }")
    async with app.client(app.admin_token) as http:
        response = await http.post(
            "/graphql", json={"query": mutation, "variables": {"i": {"items": items}}}
        )
    assert response.json() == {"data": {"submitEvidenceBatch": {"errors": []}}}


@pytest.fixture
async def seeded(app: RunningApp) -> RunningApp:
    await seed(app)
    return app


async def test_direct_documents_answer_the_generic_bytes(seeded):
    both = Both(seeded)
    async with seeded.client(seeded.admin_token) as http:
        for query, variables in DIRECT:
            operation = {"operationName": "B"} if "query B" in query else {}
            response, answered = await both.same(http, query, variables, **operation)
            assert answered, query
            assert "errors" not in response.json(), response.text
        # The non-ASCII refs were there (so the generic encoder's escaping was compared).
        assert "\\u2603" in (await both.same(http, LIST))[0].text


async def test_other_shapes_run_the_generic_way_unchanged(seeded):
    both = Both(seeded)
    async with seeded.client(seeded.admin_token) as http:
        for query, variables in GENERIC:
            _, answered = await both.same(http, query, variables)
            assert not answered, query


async def test_errors_are_the_generic_errors(seeded):
    both = Both(seeded)
    async with seeded.client(seeded.admin_token) as http:
        for query, variables in ERRORS:
            response, answered = await both.same(http, query, variables)
            assert not answered, query
            assert response.status_code != 200 or response.json().get("errors"), query


async def test_a_cached_plan_checks_each_callers_scopes(seeded):
    """Readers and callers without evidence:read send the same document in turn: the plan
    is shared, the permission check is not."""
    both = Both(seeded)
    writer = await seeded.issue("writer-only", "evidence:write")
    reader = await seeded.issue("reader", "evidence:read")
    async with seeded.client(reader) as reading, seeded.client(writer) as writing, \
            seeded.client() as anonymous:
        for _ in range(2):
            response, answered = await both.same(reading, LIST)
            assert answered and len(response.json()["data"]["evidenceList"]) == 5
            response, answered = await both.same(writing, LIST)
            assert not answered
            assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            assert response.json()["data"] is None
            response, answered = await both.same(anonymous, LIST)
            assert not answered
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_transport_refusals_are_unchanged(seeded):
    both = Both(seeded)
    async with seeded.client(seeded.admin_token) as http:
        for body in (b"{not json", b"[]", b"42", json.dumps({"query": 7}).encode(),
                     json.dumps({"query": LIST, "variables": [1]}).encode(),
                     json.dumps({"query": LIST, "extensions": {"x": 1}}).encode(),
                     json.dumps([{"query": LIST}]).encode(),
                     json.dumps({"query": LIST, "operationName": 3}).encode()):
            direct, generic, answered = await both.send(http, body)
            assert not answered
            assert (direct.status_code, direct.content) == (generic.status_code, generic.content)
    async with seeded.client("arcos_not-a-token") as http:
        direct, generic, answered = await both.send(http, json.dumps({"query": LIST}).encode())
        assert direct.status_code == generic.status_code == 401
        assert direct.content == generic.content and not answered


async def test_body_and_document_limits_still_apply(tmp_path):
    from arcos.settings import Settings

    settings = Settings(database_url=f"sqlite://{tmp_path / 'limits.db'}").replace(
        max_body_bytes=600, max_query_cost=30, max_aliases=2, max_tokens=60,
    )
    async with running_app(settings) as app:
        both = Both(app)
        async with app.client(app.admin_token) as http:
            for query in (
                "{ evidenceList(limit: 40) { id } }",  # cost 41
                "{ evidenceList { a: id b: id c: id } }",  # aliases
                "{ evidenceList { " + " ".join(["id"] * 70) + " } }",  # tokens
            ):
                response, answered = await both.same(http, query)
                assert not answered and response.json()["errors"], query
            padded = json.dumps({"query": "{ evidenceList { id } }" + " " * 700}).encode()
            direct, generic, answered = await both.send(http, padded)
            assert direct.status_code == generic.status_code == 413 and not answered


async def test_a_new_document_text_is_parsed_and_validated_again(seeded):
    """The prepared operations are keyed by the document's text: a comment makes a new
    entry (what the benchmark's cache-miss case relies on)."""
    both = Both(seeded)
    schema = graphql_view(seeded).schema
    async with seeded.client(seeded.admin_token) as http:
        await both.same(http, LIST)
        parsed = document_cache(schema).entries(parse)
        await both.same(http, LIST)
        assert document_cache(schema).entries(parse) == parsed
        for n in range(3):
            _, answered = await both.same(http, f"# request {n}\n{LIST}")
            assert answered
        assert document_cache(schema).entries(parse) == parsed + 3


async def test_long_operation_names_are_not_remembered(seeded):
    """The operation name is part of the prepared operations' key: names longer than the
    document (which can name no operation in it) must not pin memory, even anonymously."""
    both = Both(seeded)
    prepared = both.view.direct.prepared
    async with seeded.client(None) as anonymous, seeded.client(seeded.admin_token) as http:
        await both.same(http, LIST)
        remembered = prepared.entries()
        for n in range(3):
            name = f"{n}" + "a" * 200_000
            for client in (anonymous, http):
                await both.same(client, LIST, operationName=name)
        assert prepared.entries() == remembered
        await both.same(http, "query Named { evidenceList { id } }", operationName="Named")
        assert prepared.entries() == remembered + 1


def test_orjson_bytes_equal_the_generic_encoder_for_every_ascii_character():
    texts = ["".join(chr(c) for c in range(128)), "caf\u00e9", "\u2603", "\U0001f600", "\x7f",
             "lone \ud800 surrogate"]
    for text in texts:
        value = {"data": {"l": [{"s": text, "n": None, "i": -(2**31), "b": True}]}}
        assert encode(value) == dumps(value).encode()


async def test_repeated_listings_see_new_rows(seeded):
    """The direct path remembers SQL, never rows: a write shows in the next listing."""
    both = Both(seeded)
    async with seeded.client(seeded.admin_token) as http:
        before, answered = await both.same(http, LIST)
        assert answered
        await seed(seeded)
        after, answered = await both.same(http, LIST)
        assert answered
        assert len(after.json()["data"]["evidenceList"]) == 2 * len(
            before.json()["data"]["evidenceList"]
        )

"""Every evidence query and mutation through /graphql, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json

import httpx
import pytest
from conftest import GraphQLClient

SUBMIT = """
mutation($i: SubmitEvidenceInput!) {
  submitEvidence(input: $i) {
    evidence { id type source commitSha ref data metadata sha256 submittedBy createdAt
               project { id slug evidenceCount } }
    replayed
    errors { field message code }
  }
}"""

BATCH = """
mutation($i: SubmitEvidenceBatchInput!) {
  submitEvidenceBatch(input: $i) { evidence { id type } errors { field message code } }
}"""

LINK = """
mutation($i: LinkEvidenceInput!) {
  linkEvidence(input: $i) {
    relation { relation createdBy from { id } to { id } }
    errors { field message code }
  }
}"""

PAGE = """
query($first: Int!, $after: String, $filter: EvidenceFilter, $order: OrderDirection! = ASC) {
  evidenceConnection(first: $first, after: $after, filter: $filter, order: $order) {
    totalCount
    edges { cursor node { id type } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


def item(**overrides):
    base = {"type": "test_results", "source": "pytest", "data": {"passed": 1}}
    return {**base, **overrides}


async def submit(gql, **overrides):
    result = await gql(SUBMIT, {"i": item(**overrides)})
    assert "errors" not in result, result
    return result["data"]["submitEvidence"]


async def test_submit_stores_every_field_and_hashes_the_data(gql):
    data = {"suite": "unit", "passed": 12, "nested": {"b": 1, "a": [1, 2]}}
    payload = await submit(
        gql, data=data, project="GitHub.com/Acme/App", commitSha="ABCDEF1234567",
        ref="refs/heads/main", metadata={"runner": "ci-3"},
    )
    evidence = payload["evidence"]
    assert payload["errors"] == [] and payload["replayed"] is False
    assert evidence["data"] == data and evidence["metadata"] == {"runner": "ci-3"}
    assert evidence["project"]["slug"] == "github.com/acme/app"
    assert evidence["project"]["evidenceCount"] == 1
    assert evidence["commitSha"] == "abcdef1234567"
    assert evidence["submittedBy"] == "test-admin"
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    assert evidence["sha256"] == hashlib.sha256(canonical).hexdigest()

    fetched = await gql("query($id: ID!) { evidence(id: $id) { id data } }", {"id": evidence["id"]})
    assert fetched["data"]["evidence"] == {"id": evidence["id"], "data": data}
    node = await gql(
        "query($id: ID!) { node(id: $id) { id ... on Evidence { type } } }", {"id": evidence["id"]}
    )
    assert node["data"]["node"] == {"id": evidence["id"], "type": "test_results"}


async def test_unknown_evidence_is_null_and_malformed_id_is_bad_input(gql):
    result = await gql(
        "{ known: evidence(id: \"00000000-0000-0000-0000-000000000000\") { id } }"
    )
    assert result == {"data": {"known": None}}
    result = await gql("{ evidence(id: \"not-an-id\") { id } }")
    assert result["data"] == {"evidence": None}
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "not an evidence id" in result["errors"][0]["message"]


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"data": [1, 2]}, "data", "INVALID"),
        ({"data": "text"}, "data", "INVALID"),
        ({"metadata": 5}, "metadata", "INVALID"),
        ({"type": ""}, "type", "REQUIRED"),
        ({"type": "Has Spaces"}, "type", "INVALID"),
        ({"source": "x" * 65}, "source", "INVALID"),
        ({"project": "not a slug!"}, "project", "INVALID"),
        ({"commitSha": "xyz"}, "commitSha", "INVALID"),
        ({"ref": "bad\nref"}, "ref", "INVALID"),
        ({"idempotencyKey": ""}, "idempotencyKey", "INVALID"),
    ],
)
async def test_invalid_input_is_refused_with_the_field_and_nothing_is_stored(
    gql, overrides, field, code
):
    result = await gql(SUBMIT, {"i": item(**overrides)})
    payload = result["data"]["submitEvidence"]
    assert payload["evidence"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert payload["errors"][0]["message"]
    count = await gql("{ evidenceConnection { totalCount } }")
    assert count["data"]["evidenceConnection"]["totalCount"] == 0


async def test_data_nested_too_deeply_or_too_large_is_refused(gql, settings):
    deep: dict = {}
    cursor = deep
    for _ in range(settings.max_json_depth + 1):
        cursor["x"] = {}
        cursor = cursor["x"]
    result = await gql(SUBMIT, {"i": item(data=deep)})
    assert result["data"]["submitEvidence"]["errors"][0]["code"] == "TOO_LARGE"


async def test_idempotency_key_returns_the_first_result(gql):
    first = await submit(gql, idempotencyKey="run-42")
    again = await submit(gql, idempotencyKey="run-42")
    assert again["replayed"] is True
    assert again["evidence"]["id"] == first["evidence"]["id"]
    total = await gql("{ evidenceConnection { totalCount } }")
    assert total["data"]["evidenceConnection"]["totalCount"] == 1


async def test_idempotency_key_reused_for_other_content_is_a_conflict(gql):
    await submit(gql, idempotencyKey="run-43")
    result = await gql(SUBMIT, {"i": item(idempotencyKey="run-43", data={"passed": 2})})
    payload = result["data"]["submitEvidence"]
    assert payload["evidence"] is None
    assert payload["errors"][0]["code"] == "CONFLICT"


async def test_concurrent_duplicates_with_one_key_store_one_row(gql):
    results = await asyncio.gather(*(submit(gql, idempotencyKey="race") for _ in range(10)))
    ids = {r["evidence"]["id"] for r in results}
    assert len(ids) == 1
    assert sum(not r["replayed"] for r in results) == 1
    total = await gql("{ evidenceConnection { totalCount } }")
    assert total["data"]["evidenceConnection"]["totalCount"] == 1


async def test_batch_stores_all_items_in_order(gql):
    items = [item(type=f"kind{i}", project="github.com/acme/app") for i in range(5)]
    result = await gql(BATCH, {"i": {"items": items}})
    payload = result["data"]["submitEvidenceBatch"]
    assert payload["errors"] == []
    assert [e["type"] for e in payload["evidence"]] == [f"kind{i}" for i in range(5)]


async def test_batch_with_one_bad_item_writes_nothing(gql):
    items = [item(project="github.com/acme/new"), item(data="oops"), item()]
    result = await gql(BATCH, {"i": {"items": items}})
    payload = result["data"]["submitEvidenceBatch"]
    assert payload["evidence"] == []
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("items.1.data", "INVALID")]
    state = await gql("{ evidenceConnection { totalCount } projects { nodes { slug } } }")
    assert state["data"]["evidenceConnection"]["totalCount"] == 0
    assert state["data"]["projects"]["nodes"] == []


async def test_oversized_and_empty_batches_are_refused(gql, settings):
    too_many = [item() for _ in range(settings.max_batch_items + 1)]
    result = await gql(BATCH, {"i": {"items": too_many}})
    errors = result["data"]["submitEvidenceBatch"]["errors"]
    assert errors[0]["code"] == "LIMIT_EXCEEDED" and str(settings.max_batch_items) in errors[0][
        "message"
    ]
    result = await gql(BATCH, {"i": {"items": []}})
    assert result["data"]["submitEvidenceBatch"]["errors"][0]["code"] == "REQUIRED"


async def test_batch_duplicate_keys_are_refused(gql):
    items = [item(idempotencyKey="same"), item(idempotencyKey="same")]
    result = await gql(BATCH, {"i": {"items": items}})
    errors = result["data"]["submitEvidenceBatch"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("items.1.idempotencyKey", "CONFLICT")]


async def test_link_evidence_and_read_relations_both_ways(gql):
    report = (await submit(gql, type="test_results"))["evidence"]["id"]
    metric = (await submit(gql, type="quality_metric"))["evidence"]["id"]
    payload = (await gql(LINK, {"i": {"from": metric, "to": report, "relation": "DERIVED_FROM"}}))[
        "data"
    ]["linkEvidence"]
    assert payload["errors"] == []
    assert payload["relation"]["from"]["id"] == metric
    assert payload["relation"]["to"]["id"] == report
    again = await gql(LINK, {"i": {"from": metric, "to": report, "relation": "DERIVED_FROM"}})
    assert again["data"]["linkEvidence"]["errors"] == []

    query = """query($a: ID!, $b: ID!) {
      a: evidence(id: $a) { relations { relation from { id } to { id } } }
      b: evidence(id: $b) { relations { relation } }
    }"""
    result = await gql(query, {"a": report, "b": metric})
    assert result["data"]["a"]["relations"] == [
        {"relation": "DERIVED_FROM", "from": {"id": metric}, "to": {"id": report}}
    ]
    assert result["data"]["b"]["relations"] == [{"relation": "DERIVED_FROM"}]


async def test_link_refuses_missing_and_self_links(gql):
    one = (await submit(gql))["evidence"]["id"]
    missing = "00000000-0000-0000-0000-000000000001"
    result = await gql(LINK, {"i": {"from": one, "to": missing, "relation": "RELATES_TO"}})
    assert result["data"]["linkEvidence"]["errors"][0] == {
        "field": "to", "message": f"no evidence with id {missing}", "code": "NOT_FOUND"
    }
    result = await gql(LINK, {"i": {"from": one, "to": one, "relation": "SUPERSEDES"}})
    assert result["data"]["linkEvidence"]["errors"][0]["code"] == "INVALID"


async def test_evidence_list_filters_and_offsets(gql):
    await submit(gql, type="build", source="jenkins", project="github.com/a/one")
    await submit(gql, type="build", source="github", project="github.com/a/two")
    await submit(gql, type="test_results", source="jenkins", project="github.com/a/one")
    query = """query($type: String, $source: String, $project: String, $limit: Int!, $offset: Int!) {
      evidenceList(type: $type, source: $source, project: $project, limit: $limit, offset: $offset)
      { type source project { slug } }
    }"""

    async def listing(**variables):
        args = {"type": None, "source": None, "project": None, "limit": 50, "offset": 0}
        result = await gql(query, {**args, **variables})
        return result["data"]["evidenceList"]

    assert len(await listing(type="build")) == 2
    assert [e["type"] for e in await listing(source="jenkins")] == ["build", "test_results"]
    assert len(await listing(project="github.com/a/one")) == 2
    assert [e["source"] for e in await listing(limit=1, offset=1)] == ["github"]


async def test_connection_pages_forward_and_backward_in_time(gql):
    for index in range(7):
        await submit(gql, type=f"k{index}")
    seen = []
    after = None
    while True:
        result = await gql(PAGE, {"first": 3, "after": after})
        page = result["data"]["evidenceConnection"]
        assert page["totalCount"] == 7
        seen += [edge["node"]["type"] for edge in page["edges"]]
        assert [n["id"] for n in page["nodes"]] == [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"k{i}" for i in range(7)]
    newest = await gql(PAGE, {"first": 2, "order": "DESC"})
    assert [e["node"]["type"] for e in newest["data"]["evidenceConnection"]["edges"]] == [
        "k6", "k5"
    ]


async def test_connection_filters_by_type_project_and_time(gql):
    await submit(gql, type="build", project="github.com/a/one")
    await submit(gql, type="build", project="github.com/a/two")
    result = await gql(PAGE, {"first": 10, "filter": {"type": "build", "project": "github.com/a/two"}})
    assert result["data"]["evidenceConnection"]["totalCount"] == 1
    result = await gql(PAGE, {"first": 10, "filter": {"since": "2100-01-01T00:00:00Z"}})
    assert result["data"]["evidenceConnection"]["totalCount"] == 0
    result = await gql(PAGE, {"first": 10, "filter": {"until": "2100-01-01T00:00:00Z"}})
    assert result["data"]["evidenceConnection"]["totalCount"] == 2


async def page_of(
    gql: GraphQLClient, first: int, after: str | None = None, order: str = "ASC"
) -> dict:
    result = await gql(PAGE, {"first": first, "after": after, "order": order})
    assert "errors" not in result, result
    return result["data"]["evidenceConnection"]


async def pages_after(gql: GraphQLClient, page: dict, order: str = "ASC") -> list[dict]:
    """The pages that follow `page`, of its size, to the end of the listing."""
    pages = []
    while page["pageInfo"]["hasNextPage"]:
        page = await page_of(gql, len(page["edges"]), page["pageInfo"]["endCursor"], order)
        pages.append(page)
    return pages


def ids(pages: list[dict]) -> list[str]:
    return [edge["node"]["id"] for page in pages for edge in page["edges"]]


@pytest.mark.server
async def test_pagination_is_stable_under_concurrent_inserts(live_server):
    """Four writers insert over HTTP while two readers page through a live server, oldest
    first and newest first. Neither sees a row twice or misses a row stored before it
    began, and what each saw is, in order, the start of the listing as it stands
    afterwards (newest first, rows inserted during the read land before its first page),
    so no row was skipped in between."""
    async with httpx.AsyncClient(base_url=live_server.http_url, timeout=30,
                                 headers=live_server.auth_headers) as http:
        gql = GraphQLClient(http)
        early = await gql(BATCH, {"i": {"items": [item(type=f"early{n}") for n in range(20)]}})
        stored_before = {e["id"] for e in early["data"]["submitEvidenceBatch"]["evidence"]}
        first_write = asyncio.Event()

        async def writer(index: int) -> None:
            for n in range(15):
                await submit(gql, type=f"late{index}", data={"n": n})
                first_write.set()

        async def reader(order: str) -> list[dict]:
            first_page = await page_of(gql, 3, order=order)
            await first_write.wait()  # so the read surely spans writes
            return [first_page, *await pages_after(gql, first_page, order)]

        oldest_first, newest_first, *_ = await asyncio.gather(
            reader("ASC"), reader("DESC"), *(writer(i) for i in range(4)))
        whole = await page_of(gql, 100)
        afterwards = ids([whole, *await pages_after(gql, whole)])
    assert oldest_first[0]["totalCount"] < oldest_first[-1]["totalCount"], (
        "no write landed during the read")
    for pages in (oldest_first, newest_first):
        seen = ids(pages)
        assert len(seen) == len(set(seen)), "a row appeared on two pages"
        assert stored_before <= set(seen), "a row stored before the read was skipped"
    for name, seen in (("oldest", ids(oldest_first)), ("newest", ids(newest_first)[::-1])):
        assert afterwards[: len(seen)] == seen, f"{name} first, a row was skipped or moved"


async def test_bad_cursor_and_page_sizes_are_bad_input(gql, settings):
    for variables in (
        {"first": settings.max_page_size + 1},
        {"first": 0},
        {"first": 5, "after": "bm90LWEtY3Vyc29y"},
        {"first": 5, "after": "%%%"},
    ):
        result = await gql(PAGE, variables)
        assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", variables
    result = await gql("{ evidenceList(offset: -1) { id } }")
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_projects_and_project_lookup(gql):
    await submit(gql, project="github.com/acme/one")
    await submit(gql, project="github.com/acme/one")
    await submit(gql, project="gitlab.com/group/two")
    result = await gql("""{
      projects(first: 1) { nodes { slug } pageInfo { hasNextPage endCursor } }
      project(slug: "GitHub.com/acme/one") { slug evidenceCount evidence(first: 1) { totalCount } }
      missing: project(slug: "nowhere/none") { slug }
    }""")
    data = result["data"]
    assert data["projects"]["nodes"] == [{"slug": "github.com/acme/one"}]
    assert data["projects"]["pageInfo"]["hasNextPage"] is True
    assert data["project"] == {
        "slug": "github.com/acme/one", "evidenceCount": 2, "evidence": {"totalCount": 2}
    }
    assert data["missing"] is None
    after = data["projects"]["pageInfo"]["endCursor"]
    rest = await gql("query($a: String) { projects(after: $a) { nodes { slug } } }", {"a": after})
    assert rest["data"]["projects"]["nodes"] == [{"slug": "gitlab.com/group/two"}]


async def test_concurrent_identical_links_all_answer_with_the_one_stored(gql):
    """The unique (from, to, relation) index decides between concurrent identical links;
    the losers answer with the winner's link instead of an error."""
    report = (await submit(gql, type="test_results"))["evidence"]["id"]
    metric = (await submit(gql, type="quality_metric"))["evidence"]["id"]
    link = {"i": {"from": metric, "to": report, "relation": "DERIVED_FROM"}}
    answers = await asyncio.gather(*(gql(LINK, link) for _ in range(8)))
    assert all(a["data"]["linkEvidence"]["errors"] == [] for a in answers), answers
    relations = await gql("query($a: ID!) { evidence(id: $a) { relations { relation } } }",
                          {"a": report})
    assert relations["data"]["evidence"]["relations"] == [{"relation": "DERIVED_FROM"}]

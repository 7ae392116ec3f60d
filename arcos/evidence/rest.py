"""The evidence domain's REST rows: v1/v2/v3 and the original CIV-ARCOS evidence routes.
Their operations are in `rest.graphql` beside this file."""

from __future__ import annotations

from typing import Any

from arcos.evidence.types import parse_evidence_id
from arcos.graphql.errors import ArcosError
from arcos.rest.request import RestCall
from arcos.rest.shapes import Batch, Item, Legacy, Page
from arcos.rest.table import FORMAT_PARAMETER, PAGE_CAP, QueryParameter, RestRoute
from arcos.web.refusal import RestRefusal

#: The legacy API named fields in snake_case; these are the ones it may send.
_LEGACY_FIELD_NAMES = {"commit_sha": "commitSha", "idempotency_key": "idempotencyKey"}


async def _submit_variables(call: RestCall) -> dict[str, Any]:
    body = dict(await call.json_object())
    header_key = call.request.headers.get("idempotency-key")
    if header_key and "idempotencyKey" not in body:
        body["idempotencyKey"] = header_key
    return {"input": body}


async def _legacy_submit_variables(call: RestCall) -> dict[str, Any]:
    variables = await _submit_variables(call)
    variables["input"] = _camel_case(variables["input"])
    return variables


async def _batch_variables(call: RestCall) -> dict[str, Any]:
    return {"input": await call.json_object()}


async def _legacy_batch_variables(call: RestCall) -> dict[str, Any]:
    body = await call.json_object()
    unknown = sorted(set(body) - {"items", "evidence"})
    if unknown or len(body) != 1:
        raise RestRefusal(
            400,
            "send the batch as {\"items\": [...]} (or the original {\"evidence\": [...]})"
            + (f"; unknown fields: {', '.join(unknown)}" if unknown else ""),
            "BAD_REQUEST",
        )
    items = body.get("items", body.get("evidence"))
    if isinstance(items, list):
        items = [_camel_case(item) if isinstance(item, dict) else item for item in items]
    return {"input": {"items": items}}


def _camel_case(item: dict[str, Any]) -> dict[str, Any]:
    return {_LEGACY_FIELD_NAMES.get(key, key): value for key, value in item.items()}


async def _id_variables(call: RestCall) -> dict[str, Any]:
    """The path id; one that cannot be an evidence id names no evidence: 404."""
    raw = call.path("id")
    try:
        parse_evidence_id(raw)
    except ArcosError:
        raise RestRefusal(404, f"no evidence with id {raw!r:.80}", "NOT_FOUND") from None
    return {"id": raw}


async def _id_with_relations_variables(call: RestCall) -> dict[str, Any]:
    call.flag("include_relations")  # accepted for v2 clients; validated, always true
    return await _id_variables(call)


async def _page_variables(call: RestCall) -> dict[str, Any]:
    filters = {
        "type": call.text("type"),
        "source": call.text("source"),
        "project": call.text("project"),
        "commitSha": call.text("commit_sha"),
        "since": call.timestamp("since"),
        "until": call.timestamp("until"),
    }
    return {
        "first": call.integer("first", 50),
        "after": call.text("after"),
        "filter": {key: value for key, value in filters.items() if value is not None},
        "order": call.choice("order", ("asc", "desc"), "asc").upper(),
    }


async def _legacy_list_variables(call: RestCall) -> dict[str, Any]:
    return {
        "type": call.text("type"),
        "source": call.text("source"),
        "project": call.text("project"),
        "limit": call.integer("limit", 50),
        "offset": call.integer("offset", 0),
    }


def _evidence_subject(call: RestCall) -> str:
    return f"evidence with id {call.path('id')!r}"


SUBMIT = ("submitEvidence",)
BATCH = ("submitEvidenceBatch",)
#: OpenAPI's example request bodies.
EVIDENCE_EXAMPLE: dict[str, Any] = {
    "type": "test_results",
    "source": "pytest",
    "project": "github.com/acme/app",
    "commitSha": "4f9c2e1",
    "data": {"passed": 41, "failed": 1},
}
BATCH_EXAMPLE: dict[str, Any] = {"items": [EVIDENCE_EXAMPLE]}
FILTER_PARAMETERS = (
    QueryParameter("type", "Only evidence of this type."),
    QueryParameter("source", "Only evidence from this source."),
    QueryParameter("project", "Only evidence of this project slug."),
)
PAGE_PARAMETERS = (
    *FILTER_PARAMETERS,
    QueryParameter("commit_sha", "Only evidence about this commit."),
    QueryParameter("since", "Created at or after (ISO-8601).",
                   {"type": "string", "format": "date-time", "minLength": 1}),
    QueryParameter("until", "Created before (ISO-8601).",
                   {"type": "string", "format": "date-time", "minLength": 1}),
    QueryParameter("first", "Page size, 1 to ARCOS_MAX_PAGE_SIZE.",
                   {"type": "integer", "default": 50, "minimum": 1, "maximum": PAGE_CAP}),
    QueryParameter("after", "`nextCursor` of the previous page."),
    QueryParameter("order", "asc (oldest first) or desc.",
                   {"type": "string", "enum": ["asc", "desc"]}),
)
def _versioned_evidence_routes(version: str) -> list[RestRoute]:
    """The v1 routes, present in every later version too."""
    return [
        RestRoute(
            "POST", f"/api/{version}/evidence", "SubmitEvidence", _submit_variables,
            (*SUBMIT, "evidence"), Item(status=201), version,
            "Store one evidence item (an Idempotency-Key header makes retries safe).",
            payload_path=SUBMIT, body_input="SubmitEvidenceInput",
            body_example=EVIDENCE_EXAMPLE,
        ),
        RestRoute(
            "GET", f"/api/{version}/evidence/{{id}}", "GetEvidence", _id_variables,
            ("evidence",), Item(), version, "One evidence item by id.",
            subject=_evidence_subject,
        ),
    ]


ROUTES: tuple[RestRoute, ...] = (
    *_versioned_evidence_routes("v1"),
    RestRoute(
        "POST", "/api/v2/evidence", "SubmitEvidence", _submit_variables,
        (*SUBMIT, "evidence"), Item(status=201), "v2",
        "Store one evidence item (an Idempotency-Key header makes retries safe).",
        payload_path=SUBMIT, body_input="SubmitEvidenceInput",
        body_example=EVIDENCE_EXAMPLE,
    ),
    RestRoute(
        "POST", "/api/v2/evidence/batch", "SubmitEvidenceBatch", _batch_variables,
        (*BATCH, "evidence"), Batch("evidence"), "v2",
        "Store up to ARCOS_MAX_BATCH_ITEMS items, all or none; 422 lists each bad item.",
        payload_path=BATCH, body_input="SubmitEvidenceBatchInput",
        body_example=BATCH_EXAMPLE,
    ),
    RestRoute(
        "GET", "/api/v2/evidence/{id}", "GetEvidenceWithRelations", _id_with_relations_variables,
        ("evidence",), Item(), "v2",
        "One evidence item; `include_relations=true` is accepted for v2 clients and the "
        "relations are always included.",
        subject=_evidence_subject,
        query_parameters=(QueryParameter("include_relations", "Accepted; relations are "
                                         "always returned.", {"type": "boolean"}),),
    ),
    RestRoute(
        "GET", "/api/v3/evidence", "ListEvidence", _page_variables,
        ("evidenceConnection",), Page(), "v3",
        "Evidence with filters and cursor pagination, as JSON, NDJSON or CSV.",
        query_parameters=(*PAGE_PARAMETERS, FORMAT_PARAMETER), formats=True,
    ),
    RestRoute(
        "GET", "/api/v3/evidence/{id}", "GetEvidenceWithRelations", _id_variables,
        ("evidence",), Item(), "v3", "One evidence item with its relations.",
        subject=_evidence_subject, query_parameters=(FORMAT_PARAMETER,), formats=True,
    ),
    RestRoute(
        "POST", "/api/evidence/custom", "SubmitEvidence", _legacy_submit_variables,
        (*SUBMIT, "evidence"), Legacy("evidence", status=201, ids_key="evidence_id"), "legacy",
        "Store one evidence item (original API).", payload_path=SUBMIT,
        body_input="SubmitEvidenceInput", legacy=True, body_example=EVIDENCE_EXAMPLE,
    ),
    RestRoute(
        "POST", "/api/evidence/batch", "SubmitEvidenceBatch", _legacy_batch_variables,
        (*BATCH, "evidence"),
        Legacy("evidence", status=201, count=True, ids_key="evidence_ids",
               items_key="evidence"),
        "legacy", "Store several evidence items, all or none (original API).",
        payload_path=BATCH, body_input="SubmitEvidenceBatchInput", legacy=True,
        body_example=BATCH_EXAMPLE,
    ),
    RestRoute(
        "GET", "/api/evidence/list", "LegacyListEvidence", _legacy_list_variables,
        ("evidenceList",), Legacy("evidence", count=True, items_key="evidence"), "legacy",
        "Evidence, oldest first, with offset paging (original API).",
        query_parameters=(
            *FILTER_PARAMETERS,
            QueryParameter("limit", "1 to ARCOS_MAX_PAGE_SIZE.",
                           {"type": "integer", "default": 50, "minimum": 1, "maximum": PAGE_CAP}),
            QueryParameter("offset", "Rows to skip.",
                           {"type": "integer", "default": 0, "minimum": 0}),
        ),
        legacy=True,
    ),
    RestRoute(
        "GET", "/api/evidence/{id}", "GetEvidence", _id_variables,
        ("evidence",), Legacy("evidence"), "legacy", "One evidence item (original API).",
        subject=_evidence_subject, legacy=True,
    ),
)

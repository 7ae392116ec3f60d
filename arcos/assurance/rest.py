"""Assurance case REST rows: thin adapters over the GraphQL operations in rest.graphql.

POST /api/v3/cases?project=<slug> takes gsn2x YAML (Content-Type: application/yaml) or the
JSON form; GET /api/v3/cases/{id}?format=json|yaml|dot|svg answers in that media type;
GET /api/v3/cases/{id}/status answers every element's live status."""

from __future__ import annotations

from typing import Any

from arcos.assurance.document import MAX_TITLE
from arcos.assurance.types import MEDIA_TYPES, CaseFormat
from arcos.community.gsn import MAX_EDGES_PER_NODE, MAX_NODES, MAX_TEXT, NodeType
from arcos.rest.request import RestCall
from arcos.rest.shapes import Document, Item
from arcos.rest.table import QueryParameter, RestRoute
from arcos.web.refusal import RestRefusal

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


async def _create_variables(call: RestCall) -> dict[str, Any]:
    project = call.text("project")
    if project is None:
        raise RestRefusal(400, "give the project slug as ?project=github.com/owner/repo",
                          "BAD_REQUEST")
    title = call.text("title")
    content_type = call.request.headers.get("content-type", "").split(";")[0].strip().lower()
    given: dict[str, Any] = {"project": project, "title": title}
    if content_type in YAML_TYPES:
        raw = await call.request.body()
        if not raw.strip():
            raise RestRefusal(400, "the body is empty: post the gsn2x YAML document",
                              "BAD_REQUEST")
        try:
            given["yaml"] = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise RestRefusal(400, f"the body is not UTF-8 text (byte {error.start}); post the "
                              "YAML file as UTF-8", "BAD_REQUEST") from None
        if "\x00" in given["yaml"]:
            raise RestRefusal(400, "the body holds a NUL character: it is binary, not YAML",
                              "BAD_REQUEST")
    elif content_type == "application/json":
        given["json"] = await call.json_object()
    else:
        raise RestRefusal(415, "send the case as Content-Type: application/yaml (gsn2x YAML) "
                          f"or application/json (got {content_type or 'none'!r})",
                          "UNSUPPORTED_MEDIA_TYPE")
    return {"input": given}


async def _id_variables(call: RestCall) -> dict[str, Any]:
    return {"id": call.path("id")}


async def _export_variables(call: RestCall) -> dict[str, Any]:
    chosen = call.choice("format", tuple(f.value for f in CaseFormat), "json")
    return {"id": call.path("id"), "format": chosen.upper(), "plain": call.flag("plain")}


_IDS = {"type": "array", "maxItems": MAX_EDGES_PER_NODE, "items": {"type": "string"}}
#: The JSON form of a case, as POST /api/v3/cases takes it (YAML bodies are read as YAML).
CASE_JSON: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["elements"],
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE},
        "elements": {"type": "array", "minItems": 1, "maxItems": MAX_NODES, "items": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "type", "text"],
            "properties": {
                "id": {"type": "string", "minLength": 1, "maxLength": 64},
                "type": {"enum": [kind.value for kind in NodeType]},
                "text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
                "supportedBy": _IDS, "inContextOf": _IDS,
                "undeveloped": {"type": "boolean"}, "public": {"type": "boolean"},
                "module": {"type": "string", "minLength": 1, "maxLength": 128},
                "evidenceTypes": {"type": "array", "maxItems": 16,
                                  "items": {"type": "string"}},
                "arcos": {"type": "object"},
            },
        }},
    },
}
EXAMPLE: dict[str, Any] = {
    "title": "Release 1.0 is secure",
    "elements": [
        {"id": "G1", "type": "goal", "text": "The release is secure.", "supportedBy": ["Sn1"]},
        {"id": "Sn1", "type": "solution", "text": "Tests pass.",
         "arcos": {"metric": "tests.pass_rate", "predicate": ">= 0.95", "max_age_days": 30}},
    ],
}
CREATE = ("createAssuranceCase",)
ROUTES: tuple[RestRoute, ...] = (
    RestRoute(
        "POST", "/api/v3/cases", "CreateAssuranceCase", _create_variables, (*CREATE, "case"),
        Item(status=201), "v3",
        "Store an assurance case from gsn2x YAML or its JSON form: 201 with its id, status "
        "and well-formedness problems; 422 lists each hard violation.",
        payload_path=CREATE, raw_body_types=YAML_TYPES, body_schema=CASE_JSON,
        body_example=EXAMPLE,
        query_parameters=(QueryParameter("project", "The project slug the case is about."),
                          QueryParameter("title", "Overrides the document's title.")),
    ),
    RestRoute(
        "GET", "/api/v3/cases/{id}", "ExportAssuranceCase", _export_variables,
        ("assuranceCase", "export"), Document(tuple(MEDIA_TYPES.values())), "v3",
        "An assurance case as JSON, gsn2x YAML, Graphviz DOT or SVG (plain=true leaves out "
        "the arcos: evidence rules).",
        subject=lambda call: f"assurance case {call.path('id')!r:.80}",
        query_parameters=(
            QueryParameter("format", "json (default), yaml, dot or svg.",
                           {"type": "string", "enum": [f.value for f in CaseFormat]}),
            QueryParameter("plain", "true: leave out the arcos: rules.",
                           {"type": "boolean"})),
    ),
    RestRoute(
        "GET", "/api/v3/cases/{id}/status", "AssuranceCaseStatus", _id_variables,
        ("assuranceCase",), Item(), "v3",
        "An assurance case's live status: every element's id, kind and status with the "
        "evidence ids that decided it.",
        subject=lambda call: f"assurance case {call.path('id')!r:.80}",
    ),
)

"""The original community template routes, and compliance status and checklist routes, as
rows of the REST table in the original envelope (`{"success": true, …}`). Their operations
are in `templates_rest.graphql` beside this file.

Bodies are the original shape: `{"template": {…snake_case…}, "permission":
"public|community|private", "anonymize": bool}`. The table answers JSON only, so the
checklist route carries the CSV or Markdown text in the `checklist` field (GraphQL's
`complianceChecklist` returns the same text).
"""

from __future__ import annotations

from typing import Any

from arcos.community import rest_bodies
from arcos.community.checklist_export import ChecklistFormat
from arcos.community.rest_envelope import Envelope, bad
from arcos.community.sharing import Visibility
from arcos.rest.request import RestCall
from arcos.rest.shapes import Legacy
from arcos.rest.table import PAGE_CAP, QueryParameter, RestRoute
from arcos.web.refusal import RestRefusal

_INDUSTRY = Envelope("template", frozenset({
    "key", "name", "description", "standards", "requirements", "argument", "frameworks"}))
_COMPLIANCE = Envelope("template", frozenset({
    "key", "name", "version", "description", "controls"}))
#: GSN node fields a REST body may spell in snake_case.
_NODE_FIELDS = {"supported_by": "supportedBy", "in_context_of": "inContextOf",
                "evidence_types": "evidenceTypes"}


async def _envelope(call: RestCall, envelope: Envelope) -> dict[str, Any]:
    """The mutation input from `{"template": {…}, "permission": …, "anonymize": …}`;
    templates are private unless the body says otherwise."""
    shared = await envelope.read(call)
    return {**shared.item, **shared.sharing(Visibility.PRIVATE)}


def _node(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    return {_NODE_FIELDS.get(key, key): value for key, value in node.items()}


async def _industry_variables(call: RestCall) -> dict[str, Any]:
    values = await _envelope(call, _INDUSTRY)
    if isinstance(values.get("argument"), list):
        values["argument"] = [_node(node) for node in values["argument"]]
    return {"input": values}


async def _compliance_variables(call: RestCall) -> dict[str, Any]:
    return {"input": await _envelope(call, _COMPLIANCE)}


async def _list_variables(call: RestCall) -> dict[str, Any]:
    return {"first": call.integer("first", 50), "after": call.text("after")}


def _framework(call: RestCall) -> str:
    raw = call.path("framework")
    if not 0 < len(raw) <= 255:
        raise RestRefusal(404, f"no compliance framework {raw!r:.80}", "NOT_FOUND")
    return raw


async def _status_variables(call: RestCall) -> dict[str, Any]:
    project = call.text("project")
    if project is None:
        raise bad("give the project slug as ?project=github.com/owner/repo")
    return {"framework": _framework(call), "project": project}


async def _checklist_variables(call: RestCall) -> dict[str, Any]:
    chosen = call.choice("format", tuple(f.value for f in ChecklistFormat), "markdown")
    return {"framework": _framework(call), "project": call.text("project"),
            "format": chosen.upper()}


def _framework_subject(call: RestCall) -> str:
    return f"compliance framework {call.path('framework')!r:.80}"


LIST_PARAMETERS = (
    QueryParameter("first", "Page size, 1 to ARCOS_MAX_PAGE_SIZE.",
                   {"type": "integer", "default": 50, "minimum": 1, "maximum": PAGE_CAP}),
    QueryParameter("after", "The cursor of the last template of the previous page."),
)
EXAMPLE_INDUSTRY = {
    "template": {
        "key": "acme-payments", "name": "ACME payments", "description": "Our payment apps.",
        "standards": [{"name": "PCI DSS v4.0.1", "note": "Requirement 6."}],
        "requirements": ["Review every change."],
        "argument": [
            {"id": "G1", "type": "goal", "text": "Payments are secure.", "supported_by": ["Sn1"],
             "in_context_of": ["C1"]},
            {"id": "C1", "type": "context", "text": "The card-data environment."},
            {"id": "Sn1", "type": "solution", "text": "Code reviews.",
             "evidence_types": ["code_review"]},
        ],
    },
    "permission": "community", "anonymize": False,
}
EXAMPLE_COMPLIANCE = {
    "template": {
        "key": "acme-release-gate", "name": "ACME release gate", "version": "1",
        "controls": [{
            "id": "RG-1", "title": "Tests pass", "checklist": "Did the release's tests pass?",
            "checks": [{"kind": "metric", "expression": "tests.pass_rate >= 0.95", "days": 30}],
        }],
    },
    "permission": "private",
}
ADD_INDUSTRY = ("addIndustryTemplate",)
ADD_COMPLIANCE = ("addComplianceTemplate",)

ROUTES: tuple[RestRoute, ...] = (
    RestRoute(
        "POST", "/api/community/templates/industry/add", "AddIndustryTemplate",
        _industry_variables, (*ADD_INDUSTRY, "template"),
        Legacy("template", status=201, ids_key="template_id"), "legacy",
        "Share a custom industry template; 422 names every problem, GSN rules included.",
        payload_path=ADD_INDUSTRY, body_schema=rest_bodies.INDUSTRY_TEMPLATE, legacy=True,
        body_example=EXAMPLE_INDUSTRY,
    ),
    RestRoute(
        "GET", "/api/community/templates/industry/list", "ListIndustryTemplates",
        _list_variables, ("industryTemplates", "nodes"),
        Legacy("templates", count=True, items_key="templates"), "legacy",
        "Industry templates (summaries): the eight built-ins, then custom ones you may read.",
        query_parameters=LIST_PARAMETERS, legacy=True,
    ),
    RestRoute(
        "POST", "/api/community/templates/compliance/add", "AddComplianceTemplate",
        _compliance_variables, (*ADD_COMPLIANCE, "template"),
        Legacy("template", status=201, ids_key="template_id"), "legacy",
        "Share a custom compliance template; 422 names every bad check.",
        payload_path=ADD_COMPLIANCE, body_schema=rest_bodies.COMPLIANCE_TEMPLATE,
        legacy=True,
        body_example=EXAMPLE_COMPLIANCE,
    ),
    RestRoute(
        "GET", "/api/community/templates/compliance/list", "ListComplianceTemplates",
        _list_variables, ("complianceTemplates", "nodes"),
        Legacy("templates", count=True, items_key="templates"), "legacy",
        "Compliance templates (summaries): the eight built-ins, then custom ones you may "
        "read.",
        query_parameters=LIST_PARAMETERS, legacy=True,
    ),
    RestRoute(
        "GET", "/api/community/compliance/{framework}/status", "ComplianceStatus",
        _status_variables, ("complianceStatus",), Legacy("status"), "legacy",
        "A project's standing against a framework, control by control, with the evidence "
        "ids behind each answer (needs evidence:read too).", subject=_framework_subject,
        query_parameters=(QueryParameter("project", "The project's slug."),), legacy=True,
    ),
    RestRoute(
        "GET", "/api/community/compliance/{framework}/checklist", "ComplianceChecklist",
        _checklist_variables, ("complianceChecklist",), Legacy("checklist"), "legacy",
        "The framework's audit checklist as CSV or Markdown text in `checklist`; with "
        "`project`, each control's status and evidence ids too.", subject=_framework_subject,
        query_parameters=(
            QueryParameter("format", "csv or markdown (default).",
                           {"type": "string", "enum": [f.value for f in ChecklistFormat]}),
            QueryParameter("project", "A project to evaluate (needs evidence:read)."),
        ), legacy=True,
    ),
)

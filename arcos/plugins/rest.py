"""The original CIV-ARCOS plugin routes as rows of the REST table, in the original envelope
(`{"success": true, …}` / `{"success": false, "error": …}`). Their operations are in
`rest.graphql` beside this file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arcos.plugins.reads import MAX_PANELS
from arcos.plugins.types import PLUGIN_ID_BOUND
from arcos.rest.request import RestCall
from arcos.rest.shapes import Item, JsonSchema, Legacy, non_null
from arcos.rest.table import PAGE_CAP, QueryParameter, RestRoute, no_variables
from arcos.web.refusal import RestRefusal

_KINDS = ("collector", "metric", "compliance", "visualization")
_MAX_ID = PLUGIN_ID_BOUND["arcos.max_length"]


@dataclass(frozen=True)
class Spread:
    """`{"success": true, …the value's fields}`: for answers whose fields the original API
    put at the top level (`valid`, `problems`); a payload's (empty) `errors` is left out."""

    status: int = 200
    items_key: str | None = None

    def body(self, value: Any, subject: str) -> Any:
        if value is None:
            raise RestRefusal(404, f"no {subject}", "NOT_FOUND")
        return {"success": True, **{k: v for k, v in value.items() if k != "errors"}}

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        fields = {k: v for k, v in non_null(value_schema)["properties"].items() if k != "errors"}
        properties = {"success": {"const": True}, **fields}
        return {"type": "object", "properties": properties, "required": sorted(properties)}


@dataclass(frozen=True)
class Executed:
    """An execution: `{"success": true, "result": …, "execution": {…}, "evidence": […], …}`,
    the plugin's return value at the top level as the original API answered it."""

    status: int = 200
    items_key: str | None = None

    def body(self, value: Any, subject: str) -> Any:
        payload = dict(value)
        payload.pop("errors", None)
        execution = dict(payload.pop("execution"))
        result = execution.pop("result")
        return {"success": True, "result": result, "execution": execution, **payload}

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        properties = dict(non_null(value_schema)["properties"])
        properties.pop("errors", None)
        execution = non_null(properties.pop("execution"))
        fields = {k: v for k, v in execution["properties"].items() if k != "result"}
        properties = {
            "success": {"const": True},
            "result": {"description": "What the plugin returned: any JSON value."},
            "execution": {"type": "object", "properties": fields, "required": sorted(fields)},
            **properties,
        }
        return {"type": "object", "properties": properties, "required": sorted(properties)}


@dataclass(frozen=True)
class Registered(Legacy):
    """`{"success": true, "plugin": {…}, "plugin_id": "…"}`: the id the other routes take
    at the top level, as the original API answered."""

    def body(self, value: Any, subject: str) -> Any:
        return {**super().body(value, subject), "plugin_id": value["pluginId"]}

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        schema = super().schema(value_schema)
        properties = {**schema["properties"], "plugin_id": {"type": "string"}}
        return {**schema, "properties": properties, "required": sorted(properties)}


EXAMPLE_PLUGIN = {
    "manifest": {
        "id": "acme.pass_rate", "name": "Pass rate", "version": "1.0.0", "type": "metric",
        "description": "The share of passed tests.", "author": "ACME",
        "permissions": ["metrics.write"], "entry_point": "measure",
    },
    "code": "def measure(data):\n    passed = data.get('passed', 0)\n"
            "    total = passed + data.get('failed', 0)\n"
            "    return [{'name': 'tests.pass_rate', 'value': passed / total if total else 0}]\n",
}


async def _plugin_body(call: RestCall) -> dict[str, Any]:
    """`{"manifest": {…}, "code": "…"}`, as the original API took it."""
    body = await call.json_object()
    unknown = sorted(set(body) - {"manifest", "code"})
    if unknown or not isinstance(body.get("manifest"), dict) or not isinstance(
            body.get("code"), str):
        raise RestRefusal(
            400, "send {\"manifest\": {…a JSON object…}, \"code\": \"…Python source…\"}"
            + (f"; unknown fields: {', '.join(unknown)}" if unknown else ""), "BAD_REQUEST")
    return {"input": {"manifest": body["manifest"], "code": body["code"]}}


def _plugin_id(call: RestCall) -> str:
    raw = call.path("plugin_id")
    if not 0 < len(raw) <= _MAX_ID:
        raise RestRefusal(404, f"no plugin {raw!r:.80}", "NOT_FOUND")
    return raw


async def _execute_variables(call: RestCall) -> dict[str, Any]:
    """The body as ExecutePluginInput; the path names the plugin (a `plugin` in the body
    must name the same one)."""
    body = await call.json_object()
    plugin_id = _plugin_id(call)
    if body.get("plugin", plugin_id) != plugin_id:
        raise RestRefusal(400, f"the path names plugin {plugin_id!r:.80}; leave `plugin` out "
                          "of the body or name the same one", "BAD_REQUEST")
    return {"input": {**body, "plugin": plugin_id}}


async def _id_variables(call: RestCall) -> dict[str, Any]:
    return {"id": _plugin_id(call)}


async def _unregister_variables(call: RestCall) -> dict[str, Any]:
    return {"input": {"plugin": _plugin_id(call)}}


def _page(call: RestCall, search: str | None) -> dict[str, Any]:
    kind = call.text("type")
    if kind is not None and kind not in _KINDS:
        raise RestRefusal(400, f"query parameter 'type' must be one of {', '.join(_KINDS)}",
                          "BAD_REQUEST")
    return {
        "type": kind.upper() if kind else None, "search": search,
        "author": call.text("author"), "first": call.integer("first", 50),
        "after": call.text("after"),
    }


async def _list_variables(call: RestCall) -> dict[str, Any]:
    return _page(call, None)


async def _search_variables(call: RestCall) -> dict[str, Any]:
    query = call.text("q")
    if query is None:
        raise RestRefusal(400, "give the words to search for as ?q=", "BAD_REQUEST")
    return _page(call, query)


async def _panels_variables(call: RestCall) -> dict[str, Any]:
    project = call.text("project")
    if project is None:
        raise RestRefusal(400, "name the project as ?project=, e.g. github.com/acme/app",
                          "BAD_REQUEST")
    return {"project": project, "limit": call.integer("limit", MAX_PANELS)}


def _plugin_subject(call: RestCall) -> str:
    return f"plugin {call.path('plugin_id')!r:.80}"


LIST_PARAMETERS = (
    QueryParameter("type", "Only plugins of this type.",
                   {"type": "string", "enum": list(_KINDS)}),
    QueryParameter("author", "Only plugins by this author."),
    QueryParameter("first", "Page size, 1 to ARCOS_MAX_PAGE_SIZE.",
                   {"type": "integer", "default": 50, "minimum": 1, "maximum": PAGE_CAP}),
    QueryParameter("after", "`endCursor` of the previous page."),
)
REGISTER = ("registerPlugin",)
EXECUTE = ("executePlugin",)
UNREGISTER = ("unregisterPlugin",)

ROUTES: tuple[RestRoute, ...] = (
    RestRoute(
        "GET", "/api/v3/plugins/panels", "PluginPanels", _panels_variables,
        ("pluginPanels",), Item(), "v3",
        "The latest panel of each visualization plugin for a project, newest first "
        f"(at most {MAX_PANELS}); needs evidence:read.",
        query_parameters=(
            QueryParameter("project", "The project's slug, e.g. github.com/acme/app."),
            QueryParameter("limit", f"At most this many panels, 1 to {MAX_PANELS}.",
                           {"type": "integer", "default": MAX_PANELS, "minimum": 1,
                            "maximum": MAX_PANELS}),
        ),
    ),
    RestRoute(
        "POST", "/api/plugins/register", "RegisterPlugin", _plugin_body,
        (*REGISTER, "plugin"), Registered("plugin", status=201), "legacy",
        "Register a plugin version (manifest + code); 422 lists every problem with its line "
        "and column.", payload_path=REGISTER, body_input="RegisterPluginInput", legacy=True,
        body_example=EXAMPLE_PLUGIN,
    ),
    RestRoute(
        "POST", "/api/plugins/validate", "ValidatePlugin", _plugin_body,
        ("validatePlugin",), Spread(), "legacy",
        "Check a plugin without storing it: `valid` and every problem with line and column.",
        body_input="ValidatePluginInput", legacy=True, body_example=EXAMPLE_PLUGIN,
    ),
    RestRoute(
        "GET", "/api/plugins/list", "ListPlugins", _list_variables,
        ("plugins", "nodes"), Legacy("plugins", count=True, items_key="plugins"), "legacy",
        "The catalogue: each plugin's latest non-revoked version, by id.",
        query_parameters=LIST_PARAMETERS, legacy=True,
    ),
    RestRoute(
        "GET", "/api/plugins/search", "ListPlugins", _search_variables,
        ("plugins", "nodes"), Legacy("plugins", count=True, items_key="plugins"), "legacy",
        "Plugins ranked by how well their id, name, tags and description match `q`.",
        query_parameters=(QueryParameter("q", "The words to search for."), *LIST_PARAMETERS),
        legacy=True,
    ),
    RestRoute(
        "GET", "/api/plugins/stats", "PluginStats", no_variables,
        ("pluginStats",), Legacy("stats"), "legacy",
        "Counts by type and state, executions, failures, duration percentiles, top plugins.",
        legacy=True,
    ),
    RestRoute(
        "POST", "/api/plugins/{plugin_id}/execute", "ExecutePlugin", _execute_variables,
        EXECUTE, Executed(), "legacy",
        "Run a plugin in the sandbox (body {\"input\": {…}, \"version\"?, \"project\"?}); "
        "4xx says why it did not run.", payload_path=EXECUTE, subject=_plugin_subject,
        body_input="ExecutePluginInput", path_fields=("plugin",), legacy=True,
        body_example={"input": {"passed": 41, "failed": 1}, "project": "github.com/acme/app"},
    ),
    RestRoute(
        "DELETE", "/api/plugins/{plugin_id}", "UnregisterPlugin", _unregister_variables,
        UNREGISTER, Spread(), "legacy",
        "Take a plugin out of the catalogue; its executions and evidence stay.",
        payload_path=UNREGISTER, subject=_plugin_subject, legacy=True,
    ),
    RestRoute(
        "GET", "/api/plugins/{plugin_id}", "GetPlugin", _id_variables,
        ("plugin",), Legacy("plugin"), "legacy", "One plugin with every version.",
        subject=_plugin_subject, legacy=True,
    ),
)

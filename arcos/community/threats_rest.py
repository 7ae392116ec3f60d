"""The original threat routes and the STIX routes as rows of the REST table. A shared
threat's TLP decides who reads it; a `permission` sent beside it must agree with that TLP
(public ↔ clear, community ↔ green, private ↔ amber/amber+strict/red) or is refused, and
with no `tlp` in the threat it picks the matching one (private → amber)."""

from __future__ import annotations

from typing import Any

from arcos.community import rest_bodies
from arcos.community.rest_envelope import Envelope, bad, tlp_of
from arcos.community.stix_export import MAX_EXPORT_OBJECTS
from arcos.community.threats_tlp import Tlp, visibility_of
from arcos.rest.request import RestCall
from arcos.rest.shapes import Item, Legacy
from arcos.rest.table import PAGE_CAP, QueryParameter, RestRoute

_ENVELOPE = Envelope("threat", frozenset({
    "title", "kind", "severity", "description", "indicators", "mitigations",
    "affected_components", "tlp", "recipients"}))


def _upper(value: Any, name: str) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad(f"`threat.{name}` must be a string")
    return value.replace("+", "_").replace("-", "_").upper()


async def _share_variables(call: RestCall) -> dict[str, Any]:
    """`{"threat": {…snake_case…}, "permission"?: …, "anonymize"?: bool}`."""
    shared = await _ENVELOPE.read(call)
    threat = shared.item
    tlp = _upper(threat.get("tlp"), "tlp")
    permission = shared.visibility
    if permission is not None:
        level = Tlp.__members__.get(tlp) if tlp is not None else tlp_of(permission)
        if level is None or visibility_of(level) is not permission:
            raise bad(f"`permission` {permission.value!r} contradicts tlp {threat['tlp']!r}: "
                      "TLP decides visibility (clear: public, green: community, amber, "
                      "amber+strict, red: private); leave `permission` out")
        tlp = level.name
    components = threat.get("affected_components") or []
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise bad('`threat.affected_components` must be a list of {"package": …, '
                  '"versions": …}')
    given = {
        "title": threat.get("title"), "kind": _upper(threat.get("kind"), "kind"),
        "severity": _upper(threat.get("severity"), "severity"),
        "description": threat.get("description"), "indicators": threat.get("indicators"),
        "mitigations": threat.get("mitigations"), "affectedComponents": components,
        "tlp": tlp, "recipients": threat.get("recipients"), "anonymize": shared.anonymize,
    }
    return {"input": {name: value for name, value in given.items() if value is not None}}


async def _list_variables(call: RestCall) -> dict[str, Any]:
    return {"kind": _upper(call.text("kind"), "kind"),
            "severity": _upper(call.text("severity"), "severity"),
            "tlp": _upper(call.text("tlp"), "tlp"), "first": call.integer("first", 50),
            "after": call.text("after")}


async def _import_variables(call: RestCall) -> dict[str, Any]:
    """The body is the bundle itself; `?recipient=` may name principals (repeatable)."""
    recipients = call.request.query_params.getlist("recipient")
    return {"bundle": await call.json_object(), "recipients": recipients}


async def _export_variables(call: RestCall) -> dict[str, Any]:
    first = call.integer("first", MAX_EXPORT_OBJECTS)
    if not 1 <= first <= MAX_EXPORT_OBJECTS:
        raise bad(f"query parameter 'first' must be 1-{MAX_EXPORT_OBJECTS}")
    return {"first": first}


EXAMPLE_THREAT = {
    "threat": {
        "title": "requests leaks Proxy-Authorization on redirect", "kind": "vulnerability",
        "severity": "medium", "description": "Upgrade to 2.31.0.",
        "indicators": ["[url:value = 'http://203.0.113.7/payload']"],
        "mitigations": ["Upgrade requests to 2.31.0 or later"],
        "affected_components": [{"package": "pkg:pypi/requests", "versions": ">=2.3.0,<2.31.0"}],
        "tlp": "green",
    },
    "anonymize": False,
}
SHARE = ("shareThreat",)
IMPORT = ("importStixBundle",)

ROUTES: tuple[RestRoute, ...] = (
    RestRoute(
        "POST", "/api/community/threats/share", "ShareThreat", _share_variables,
        (*SHARE, "threat"), Legacy("threat", status=201, ids_key="id"), "legacy",
        "Share a threat; its `tlp` decides who reads it (`permission`, if sent, must agree).",
        payload_path=SHARE, body_schema=rest_bodies.THREAT, legacy=True,
        body_example=EXAMPLE_THREAT,
    ),
    RestRoute(
        "GET", "/api/community/threats/list", "ListThreats", _list_variables,
        ("threats", "nodes"), Legacy("threats", count=True, items_key="threats"), "legacy",
        "Threats you may read, newest first.", legacy=True,
        query_parameters=(
            QueryParameter("kind", "Only this kind (vulnerability, malware, …)."),
            QueryParameter("severity", "Only this severity."),
            QueryParameter("tlp", "Only this TLP level (clear, green, amber, amber+strict, "
                           "red)."),
            QueryParameter("first", "Page size.", {"type": "integer", "default": 50,
                                                   "minimum": 1, "maximum": PAGE_CAP}),
            QueryParameter("after", "`endCursor` of the previous page."),
        ),
    ),
    RestRoute(
        "POST", "/api/community/threats/stix", "ImportStixBundle", _import_variables,
        IMPORT, Legacy("import", status=201), "legacy",
        "Import a STIX 2.1 bundle (the body); 422 names each object to fix, nothing is "
        "stored then.", payload_path=IMPORT, legacy=True, body_schema=rest_bodies.STIX_BUNDLE,
        query_parameters=(QueryParameter("recipient", "A principal AMBER/RED objects are "
                                         "shared with; repeat for several."),),
        body_example={"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
                      "objects": []},
    ),
    RestRoute(
        "GET", "/api/community/threats/stix", "ExportStixBundle", _export_variables,
        ("stixBundle",), Item(), "legacy",
        "A STIX 2.1 bundle of what you may read, with the TLP 2.0 marking definitions.",
        legacy=True,
        query_parameters=(QueryParameter("first", "At most this many objects of each source.",
                                         {"type": "integer", "minimum": 1,
                                          "maximum": MAX_EXPORT_OBJECTS}),),
    ),
)

"""The domain registry: a domain plugs in with one `Domain`, and node(id) asks for the
scope the id's type declares, not one scope for every kind."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import httpx
import pytest
import strawberry
from conftest import RunningApp
from strawberry import relay
from strawberry.types import Info

from arcos.app import create_app
from arcos.auth.permissions import requires
from arcos.auth.scopes import Scope, ScopeCatalogue
from arcos.community.scopes import COMMUNITY_READ
from arcos.domains import REGISTRY
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.graphql.node import UndeclaredNodeType
from arcos.plugins.scopes import PLUGINS_READ
from arcos.registry import Domain, NodeKind, Registry, ServiceFactory
from arcos.schema import create_schema
from arcos.settings import Settings

MISSING_EVIDENCE_NODE = "RXZpZGVuY2U6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"
NODE = "query ($id: ID!) { node(id: $id) { id } }"


def global_id(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


@strawberry.type(name="Widget", description="A node kind of a domain with its own scope.")
class WidgetType(relay.Node):
    key: relay.NodeID[str]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[WidgetType | None]:
        return [cls(key=key) for key in node_ids]


#: A domain as a later one (plugins) will declare itself: no fields reach its node type,
#: node(id) alone does, with the domain's own read scope.
WIDGETS = Domain(name="widgets", nodes=(NodeKind(WidgetType, PLUGINS_READ),))
WITH_WIDGETS = Registry((*REGISTRY.domains, WIDGETS))


@asynccontextmanager
async def app_with_widgets(settings: Settings) -> AsyncIterator[RunningApp]:
    application = create_app(settings.replace(bootstrap_admin=False), registry=WITH_WIDGETS)
    async with application.router.lifespan_context(application):
        yield RunningApp(application, admin_token="")


async def node(running: RunningApp, token: str | None, id_: str) -> dict:
    async with running.client(token) as http:
        response = await http.post("/graphql", json={"query": NODE, "variables": {"id": id_}})
    assert response.status_code == 200, response.text
    return response.json()


def codes(body: dict) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def test_node_requires_the_scope_of_the_ids_type(settings):
    widget = global_id("Widget", "w1")
    async with app_with_widgets(settings) as running:
        plugins_reader = await running.issue("plugins-reader", "plugins:read")
        evidence_reader = await running.issue("evidence-reader", "evidence:read")

        body = await node(running, plugins_reader, widget)
        assert body == {"data": {"node": {"id": widget}}}
        body = await node(running, plugins_reader, MISSING_EVIDENCE_NODE)
        assert codes(body) == ["FORBIDDEN"] and "'evidence:read'" in body["errors"][0]["message"]

        body = await node(running, evidence_reader, MISSING_EVIDENCE_NODE)
        assert body == {"data": {"node": None}}
        body = await node(running, evidence_reader, widget)
        assert codes(body) == ["FORBIDDEN"] and "'plugins:read'" in body["errors"][0]["message"]

        for id_ in (widget, MISSING_EVIDENCE_NODE):
            assert codes(await node(running, None, id_)) == ["UNAUTHENTICATED"]


async def test_a_type_no_domain_declares_needs_a_scope_that_reads_some_node(settings):
    """Such an id resolves to nothing; only a caller who could read some node learns so."""
    unknown = global_id("Gadget", "1")
    async with app_with_widgets(settings) as running:
        plugins_reader = await running.issue("plugins-reader", "plugins:read")
        deliverer = await running.issue("deliverer", "webhooks:deliver")
        assert "FORBIDDEN" not in codes(await node(running, plugins_reader, unknown))
        assert codes(await node(running, deliverer, unknown)) == ["FORBIDDEN"]


def test_node_types_and_rows_come_from_the_registry():
    assert REGISTRY.node_scopes == {
        "Evidence": EVIDENCE_READ, "Project": EVIDENCE_READ,
        "Finding": EVIDENCE_READ, "Plugin": PLUGINS_READ,
        "PluginVersion": PLUGINS_READ, "PluginExecution": PLUGINS_READ,
        "QualityPattern": COMMUNITY_READ, "BestPractice": COMMUNITY_READ,
        "Threat": COMMUNITY_READ, "StixObject": COMMUNITY_READ,
        "IndustryTemplate": COMMUNITY_READ, "ComplianceTemplate": COMMUNITY_READ,
        "Benchmark": COMMUNITY_READ, "AssuranceCase": EVIDENCE_READ,
    }
    assert WITH_WIDGETS.node_scopes["Widget"] == PLUGINS_READ
    assert {route.path for route in REGISTRY.rest_routes} >= {
        "/api/v1/evidence", "/api/webhooks/endpoints", "/api/cicd/status/{job_id}",
        "/api/v3/cases",
    }


def test_a_domain_or_node_type_registered_twice_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        Registry((*REGISTRY.domains, REGISTRY.domains[0]))
    with pytest.raises(ValueError, match="claimed by two domains"):
        Registry((*REGISTRY.domains, WIDGETS, Domain(name="more", nodes=WIDGETS.nodes)))


@pytest.mark.server
def test_a_live_server_reads_each_kind_only_with_its_scope(live_server):
    """Against `arcos serve`: every node kind the registry declares is read with its own
    scope and refused (FORBIDDEN) to a token holding only another kind's scope."""
    from conftest import issue_token_with_cli

    server = live_server
    admin = {"authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.http_url, timeout=30) as http:
        stored = http.post("/graphql", headers=admin, json={"query": """
            mutation { submitEvidence(input: {type: "build", source: "ci",
                       project: "acme/app", data: {status: "ok"}}) {
              evidence { id project { id } } errors { code } } }"""}).json()
        evidence = stored["data"]["submitEvidence"]["evidence"]
        ids = {"Evidence": evidence["id"], "Project": evidence["project"]["id"]}
        scopes = {kind.type_name: kind.scope for kind in REGISTRY.node_kinds()}
        outsider = issue_token_with_cli(server.database_url, "hooks-only", "webhooks:admin")
        for type_name, id_ in ids.items():
            holder = issue_token_with_cli(
                server.database_url, f"{type_name.lower()}-reader", scopes[type_name].value
            )
            for token, allowed in ((holder, True), (outsider, False)):
                body = http.post(
                    "/graphql", headers={"authorization": f"Bearer {token}"},
                    json={"query": NODE, "variables": {"id": id_}},
                ).json()
                if allowed:
                    assert body == {"data": {"node": {"id": id_}}}, body
                else:
                    assert codes(body) == ["FORBIDDEN"], body
                    assert scopes[type_name].value in body["errors"][0]["message"]


async def test_a_domain_brings_its_routes_body_limits_sweeps_and_topics(settings):
    """Everything a domain adds beyond the schema is read from its `Domain` by the app:
    HTTP routes of its own, a larger body limit for its paths, retention sweeps on the
    app's schedule and the topics its units of work may publish."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from arcos.store.housekeeping import Sweep
    from arcos.store.outbox import Message

    swept: list[str] = []

    async def echo_size(request: Request) -> JSONResponse:
        return JSONResponse({"size": len(await request.body())})

    async def sweep() -> None:
        swept.append("gadgets")

    gadgets = Domain(
        name="gadgets",
        http_routes=lambda adapter: [Route("/api/gadgets/echo", echo_size, methods=["POST"])],
        body_limits=lambda settings: {"/api/gadgets/": 2 * settings.max_body_bytes},
        sweeps=lambda settings: [Sweep("gadgets", sweep)],
        topics=("gadgets.changed",),
    )
    small = settings.replace(bootstrap_admin=False, max_body_bytes=1024,
                             max_evidence_bytes=256, max_response_bytes=1024)
    application = create_app(small, registry=Registry((*REGISTRY.domains, gadgets)))
    async with application.router.lifespan_context(application):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                     base_url="http://arcos") as http:
            fits = await http.post("/api/gadgets/echo", content=b"x" * 2000)
            too_big = await http.post("/api/gadgets/echo", content=b"x" * 3000)
            elsewhere = await http.post("/graphql", content=b"x" * 2000)
        await application.state.housekeeping.run_once()

        async def publish(topic: str):
            async def work(unit) -> None:
                unit.publish(Message(topic=topic, event={}))
            await application.state.writer.run(work)

        await publish("gadgets.changed")
        with pytest.raises(ValueError, match="no registered domain declares"):
            await publish("gadgets.chnaged")
    assert (fits.status_code, fits.json()) == (200, {"size": 2000})
    assert too_big.status_code == 413 and elsewhere.status_code == 413
    assert swept and set(swept) == {"gadgets"}  # at start-up, and when run again


async def test_a_domain_service_lives_as_long_as_the_app(settings):
    """A domain's app service is built with the app, started after the store opens,
    reachable by name from every request's context, and closed when the app stops, the
    ones started before a failing start included."""
    from arcos.auth.permissions import Public
    from arcos.graphql.context import AppServices

    events: list[str] = []

    class Clock:
        def __init__(self, services: AppServices, name: str, fail: bool = False) -> None:
            self.name, self.fail = name, fail

        async def start(self) -> None:
            events.append(f"start {self.name}")
            if self.fail:
                raise RuntimeError(f"{self.name} cannot start")

        async def close(self) -> None:
            events.append(f"close {self.name}")

    @strawberry.type
    class ClockQueries:
        @strawberry.field(permission_classes=[Public])
        def clock_name(self, info: Info) -> str:
            return info.context.service("clock").name

    clocks = Domain(name="clocks", query=ClockQueries, services=(
        ServiceFactory("clock", lambda services: Clock(services, "clock")),
    ))
    application = create_app(settings.replace(bootstrap_admin=False),
                             registry=Registry((*REGISTRY.domains, clocks)))
    async with application.router.lifespan_context(application):
        assert events[-1] == "start clock"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                     base_url="http://arcos") as http:
            answer = await http.post("/graphql", json={"query": "{ clockName }"})
        assert answer.json() == {"data": {"clockName": "clock"}}
    assert events[-1] == "close clock"

    events.clear()
    failing = Domain(name="failing", services=(
        ServiceFactory("first", lambda services: Clock(services, "first")),
        ServiceFactory("second", lambda services: Clock(services, "second", fail=True)),
    ))
    application = create_app(settings.replace(bootstrap_admin=False),
                             registry=Registry((*REGISTRY.domains, failing)))
    with pytest.raises(RuntimeError, match="second cannot start"):
        async with application.router.lifespan_context(application):
            pass
    assert events[-3:] == ["start first", "start second", "close first"]


@strawberry.type(name="Gizmo", description="A node type its domain forgot to give a scope.")
class GizmoType(relay.Node):
    key: relay.NodeID[str]


@strawberry.type
class GizmoQueries:
    @strawberry.field
    def gizmo(self) -> GizmoType | None:
        return None


def test_a_schema_with_a_node_type_without_a_scope_is_refused():
    """node(id) would otherwise read a Gizmo with whatever scope some other kind needs."""
    careless = Registry((*REGISTRY.domains, Domain(name="gizmos", query=GizmoQueries)))
    with pytest.raises(UndeclaredNodeType, match=r"Node type\(s\) Gizmo: declare"):
        create_schema(Settings(), careless)
    declared = Registry((*REGISTRY.domains, Domain(
        name="gizmos", query=GizmoQueries, nodes=(NodeKind(GizmoType, PLUGINS_READ),),
    )))
    assert "Gizmo" in create_schema(Settings(), declared).as_str()


#: A domain with a scope of its own, declared in the domain and nowhere in arcos/auth.
WIDGETS_READ = Scope("widgets:read", "Read widgets.")


@strawberry.type
class WidgetQueries:
    @strawberry.field(description="How many widgets.", permission_classes=[requires(WIDGETS_READ)])
    def widget_count(self) -> int:
        return 3


WITH_WIDGET_SCOPE = Registry(
    (*REGISTRY.domains, Domain(name="widgets", scopes=(WIDGETS_READ,), query=WidgetQueries))
)


async def test_a_domains_own_scope_can_be_granted_and_authorises_its_fields(settings):
    application = create_app(settings.replace(bootstrap_admin=False), registry=WITH_WIDGET_SCOPE)
    assert "widgets:read" in [scope.value for scope in WITH_WIDGET_SCOPE.scopes]
    async with application.router.lifespan_context(application):
        running = RunningApp(application, admin_token="")
        admin = await running.issue("root", "admin")
        async with running.client(admin) as http:
            created = (await http.post("/graphql", json={"query": (
                'mutation { createApiToken(input: {name: "widget-reader", '
                'scopes: ["widgets:read"]}) { token apiToken { scopes } errors { message } } }'
            )})).json()["data"]["createApiToken"]
            refused = (await http.post("/graphql", json={"query": (
                'mutation { createApiToken(input: {name: "nope", scopes: ["gadgets:read"]}) '
                "{ token errors { field message } } }"
            )})).json()["data"]["createApiToken"]
        assert created["errors"] == [] and created["apiToken"]["scopes"] == ["widgets:read"]
        assert refused["token"] is None and refused["errors"][0]["field"] == "scopes"
        # The refusal lists every scope the app knows: the domain's own among the others.
        message = refused["errors"][0]["message"]
        assert "widgets:read" in message and "evidence:read" in message and "admin" in message

        query = {"query": "{ widgetCount viewer { scopes } }"}
        async with running.client(created["token"]) as http:
            body = (await http.post("/graphql", json=query)).json()
        assert body == {"data": {"widgetCount": 3, "viewer": {"scopes": ["widgets:read"]}}}
        evidence_reader = await running.issue("evidence-reader", "evidence:read")
        async with running.client(evidence_reader) as http:
            body = (await http.post("/graphql", json={"query": "{ widgetCount }"})).json()
        assert codes(body) == ["FORBIDDEN"] and "'widgets:read'" in body["errors"][0]["message"]


def test_a_scope_declared_twice_is_refused_when_the_registry_is_built():
    copycat = Domain(name="copycat", scopes=(Scope("evidence:read"),))
    with pytest.raises(ValueError, match="'evidence:read' of domain 'copycat' is already "
                                         "declared by 'evidence'"):
        Registry((*REGISTRY.domains, copycat))
    with pytest.raises(ValueError, match="'admin'"):
        Registry((Domain(name="usurper", scopes=(Scope("admin"),)),))
    with pytest.raises(ValueError, match="declared twice"):
        ScopeCatalogue((WIDGETS_READ, Scope("widgets:read")))


def test_a_node_type_needing_an_undeclared_scope_is_refused():
    stray = Domain(name="widgets", nodes=(NodeKind(WidgetType, WIDGETS_READ),))
    with pytest.raises(ValueError, match="Widget needs the scope 'widgets:read'"):
        Registry((*REGISTRY.domains, stray))
    Registry((*REGISTRY.domains, Domain(
        name="widgets", scopes=(WIDGETS_READ,), nodes=(NodeKind(WidgetType, WIDGETS_READ),)
    )))


def test_the_catalogue_lists_every_domains_scopes_then_admin():
    assert [scope.value for scope in REGISTRY.scopes] == [
        "evidence:read", "evidence:write", "webhooks:admin", "webhooks:deliver",
        "plugins:read", "plugins:write", "plugins:execute", "community:read",
        "community:write", "admin",
    ]
    assert REGISTRY.scopes.anonymous_read == {"evidence:read", "community:read"}

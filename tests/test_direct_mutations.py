"""Mutations a compiled plan runs (arcos/graphql/direct_mutation.py) answer what the generic
strawberry path answers, byte for byte.

A mutation cannot be sent twice to compare: the second would find the first's rows. So
one scenario (webhook deliveries over HTTP, then adapter calls with chosen callers and
variables) runs on a fresh store twice, once with the plans and once with them turned
off, with the same ids drawn in the same order; every answer of the two runs must be
equal, and the first run must have used the plans (counted), both the walk and the
completion by graphql-core after the resolver (errors)."""

from __future__ import annotations

import gzip
import itertools
import json
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, NewType

import pytest
import strawberry
from conftest import RunningApp, running_app
from graphql import execute as graphql_execute
from graphql import parse
from starlette.requests import Request
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.utils.await_maybe import await_maybe
from test_webhooks import GITHUB_SECRET, PUSH, github_headers

from arcos.auth.caller import Caller
from arcos.graphql import direct_walk
from arcos.graphql.after_writes import FreshLoadersAfterWrite
from arcos.graphql.direct_mutation import compile_mutation
from arcos.graphql.direct_resolve import direct_field
from arcos.rest.adapter import RestAdapter
from arcos.settings import Settings
from arcos.web.preencoded import dumps

sys.path.insert(0, str(Path(__file__).parent / "formats"))
pytest_plugins = ["format_artifacts"]

PUSH_BODY = json.dumps(PUSH).encode()
PING_BODY = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 42}).encode()

#: (event, delivery id, body): success, a redelivery, a ping, an unmapped event, and an
#: event name too long to store.
DELIVERIES = [
    ("push", "d-1", PUSH_BODY),
    ("push", "d-1", PUSH_BODY),
    ("push", "d-2", PUSH_BODY),
    ("ping", "d-3", PING_BODY),
    ("watch", "d-4", PUSH_BODY),
    ("e" * 200, "d-5", PUSH_BODY),  # unmapped too: never refused (GitLab disables hooks)
]

SCM = Caller(name="github-webhook", kind="scm", authenticated=True,
             scopes=frozenset({"webhooks:deliver"}))
PUBLISHER = Caller(name="publisher", kind="token", authenticated=True, token_id=7,
                   token_name="publisher", scopes=frozenset({"plugins:write"}))
READER = Caller(name="reader", kind="token", authenticated=True, token_id=8,
                token_name="reader", scopes=frozenset({"evidence:read"}))
NOBODY = Caller(name="anonymous", scopes=frozenset(), authenticated=False)


def ingest(**fields: Any) -> dict[str, Any]:
    body = PUSH_BODY.decode()
    return {"input": {"provider": "GITHUB", "event": "push", "dedupeKey": "k-1",
                      "body": body, **fields}}


#: Adapter calls: (operation, variables, caller).
CALLS: list[tuple[str, dict[str, Any], Caller]] = [
    ("IngestWebhookDelivery", ingest(), SCM),
    ("IngestWebhookDelivery", ingest(), SCM),  # duplicate
    ("IngestWebhookDelivery", ingest(action="opened", dedupeKey="k-2"), SCM),
    ("IngestWebhookDelivery", ingest(dedupeKey="k" * 300), SCM),  # UserError
    ("IngestWebhookDelivery", ingest(provider="NOPE"), SCM),  # invalid variables
    ("IngestWebhookDelivery", {"input": {"provider": "GITHUB"}}, SCM),
    ("IngestWebhookDelivery", {}, SCM),
    ("IngestWebhookDelivery", ingest(dedupeKey="k-3"), READER),  # permission refused
    ("IngestWebhookDelivery", ingest(dedupeKey="k-4"), NOBODY),
    # An API token may deliver CI/CD payloads only: the resolver raises.
    ("IngestWebhookDelivery", ingest(dedupeKey="k-5"), SCM.__class__(
        name="ci", scopes=frozenset({"webhooks:deliver"}), authenticated=True,
        token_id=9, token_name="ci")),
    ("UnregisterPlugin", {"input": {"plugin": "no-such-plugin"}}, PUBLISHER),  # UserError
    ("UnregisterPlugin", {"input": {"plugin": "p" * 101}}, PUBLISHER),  # over its bound
    ("UnregisterPlugin", {"input": {"plugin": 12}}, PUBLISHER),  # invalid variables
    ("UnregisterPlugin", {"input": {"plugin": "other"}}, READER),  # permission refused
    ("UnregisterPlugin", {"input": {"plugin": "again"}}, PUBLISHER),
    ("UnregisterPlugin", {"input": {"plugin": "limited"}}, PUBLISHER),  # rate limited
]


def adapter_of(app: RunningApp) -> RestAdapter:
    route = next(r for r in app.app.routes if getattr(r, "path", "") == "/api/webhooks/github")
    return route.endpoint.__self__.adapter


def a_request() -> Request:
    return Request({"type": "http", "method": "POST", "path": "/", "headers": [],
                    "query_string": b"", "client": ("127.0.0.1", 1)})


def encoded(result: Any, extensions: bool = True) -> bytes:
    """Everything a caller of `RestAdapter.execute` can read of a result, as bytes
    (without its extensions, for graphql-core's own results)."""
    errors = None if result.errors is None else [e.formatted for e in result.errors]
    return dumps({"data": result.data, "errors": errors,
                  **({"extensions": result.extensions} if extensions else {})}).encode()


@asynccontextmanager
async def fresh_adapter(settings: Any, direct: bool, monkeypatch: pytest.MonkeyPatch
                        ) -> AsyncIterator[tuple[RunningApp, RestAdapter]]:
    """A running app on a fresh store whose new ids are 1, 2, … (so both runs of a
    scenario make the same bytes), and its adapter, with the compiled plans off unless
    `direct`. The patches are undone when the block ends."""
    ids = itertools.count(1)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(ids), version=4))
    try:
        async with running_app(settings) as running:
            adapter = adapter_of(running)
            if not direct:
                monkeypatch.setattr(adapter.direct, "plan", lambda *_: None)
            yield running, adapter
    finally:
        monkeypatch.undo()


async def execute_all(adapter: RestAdapter,
                      calls: list[tuple[str, dict[str, Any], Caller]]) -> list[bytes]:
    """`encoded` answers of each (operation, variables, caller) call, in order."""
    return [encoded(await adapter.execute(name, variables, caller, a_request()))
            for name, variables, caller in calls]


async def scenario(settings: Any, direct: bool, monkeypatch: pytest.MonkeyPatch
                   ) -> tuple[list[bytes], tuple[int, int]]:
    """Every answer of the scenario on a fresh store, and the plans' counts."""
    answers: list[bytes] = []
    async with fresh_adapter(settings, direct, monkeypatch) as (running, adapter):
        async with running.client() as http:
            for event, delivery, body in DELIVERIES:
                response = await http.post("/api/webhooks/github", content=body,
                                           headers=github_headers(body, event, delivery))
                answers.append(b"%d %s " % (response.status_code,
                                            response.headers["content-type"].encode())
                               + response.content)
        answers += await execute_all(adapter, CALLS)
        counts = adapter.direct.counts()
    return answers, counts


@pytest.fixture
def hook_settings(tmp_path):
    """Settings for one run; each `scenario` gets a fresh SQLite file (`fresh`)."""
    return Settings(
        database_url=f"sqlite://{tmp_path / 'arcos.db'}",
        plugin_signing_key_path=str(tmp_path / "plugin-signing.key"),
        github_webhook_secret=GITHUB_SECRET, write_rate_per_minute=1, write_burst=2,
    )


def fresh(settings: Settings, name: str) -> Settings:
    path = settings.database_url.removeprefix("sqlite://")
    return settings.replace(database_url=f"sqlite://{path}.{name}")


async def test_direct_mutations_answer_the_generic_bytes(hook_settings, monkeypatch):
    direct, (walked, replayed) = await scenario(fresh(hook_settings, "direct"), True,
                                                monkeypatch)
    generic, generic_counts = await scenario(fresh(hook_settings, "generic"), False,
                                             monkeypatch)
    assert generic_counts == (0, 0)
    # Deliveries that succeed or carry UserErrors are walked; refusals raised by the
    # permission classes or the resolver are completed by graphql-core after it.
    assert walked >= 8 and replayed >= 4, (walked, replayed)
    for index, (mine, theirs) in enumerate(zip(direct, generic, strict=True)):
        assert mine == theirs, f"answer {index} differs:\n{mine!r}\n{theirs!r}"
    statuses = [answer.split(b" ", 1)[0] for answer in direct[:len(DELIVERIES)]]
    assert statuses == [b"200", b"200", b"200", b"200", b"202", b"202"]
    assert b'"duplicate":true' in direct[1] and b"RATE_LIMITED" in direct[-1]
    assert b"FORBIDDEN" in direct[len(DELIVERIES) + 7]


#: Every write of the upload scenario happens at this moment (`createdAt` is selected).
MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
PROJECT = "github.com/acme/app"


def evidence_input(**fields: Any) -> dict[str, Any]:
    return {"input": {"type": "note", "source": "direct-test", "data": {"n": 1}, **fields}}


async def upload_scenario(settings: Any, direct: bool, monkeypatch: pytest.MonkeyPatch,
                          genuine: Any) -> tuple[list[bytes], tuple[int, int]]:
    """Every answer of a round of uploads through the REST routes (a JUnit report, a
    coverage report through the same document's other root field, a malformed report,
    a caller without the scope) and of adapter calls (uploads, and evidence submitted
    with and without a project, replayed, refused), on a fresh store."""
    answers: list[bytes] = []
    async with fresh_adapter(settings, direct, monkeypatch) as (running, adapter):
        running.app.state.writer.clock = lambda: MOMENT
        reader = await running.issue("reader", "evidence:read")
        xml = {"content-type": "application/xml"}
        uploads = [
            (running.admin_token, "/api/cicd/test", genuine.read("junit-xunit2"), xml),
            (running.admin_token, "/api/cicd/test", genuine.read("junit-xunit2"), xml),
            (running.admin_token, "/api/cicd/test", gzip.compress(genuine.read("cobertura")),
             {"content-type": "application/gzip"}),
            (running.admin_token, "/api/cicd/test", b"<testsuite><testcase", xml),
            (running.admin_token, "/api/cicd/build", b'{"status": 1}',  # no build
             {"content-type": "application/json"}),
            (reader, "/api/cicd/test", genuine.read("junit-xunit2"), xml),
        ]
        for token, path, body, headers in uploads:
            async with running.client(token) as http:
                response = await http.post(path, content=body, headers=headers,
                                           params={"project": PROJECT, "commit": "abcdef1"})
            answers.append(b"%d " % response.status_code + response.content)
        report = genuine.read("junit-xunit2").decode()
        writer = Caller(name="writer", kind="token", authenticated=True, token_id=10,
                        token_name="writer", scopes=frozenset({"evidence:write"}))
        calls: list[tuple[str, dict[str, Any], Caller]] = [
            *(("SubmitTestArtifact", {"input": {"content": report, "project": PROJECT},
                                      "coverage": coverage}, caller)
              for caller, coverage in ((NOBODY, False), (READER, True), (writer, False))),
            ("SubmitEvidence", evidence_input(project=PROJECT, idempotencyKey="e-1"), writer),
            ("SubmitEvidence", evidence_input(project=PROJECT, idempotencyKey="e-1"),
             writer),  # replayed: the stored row and its project
            ("SubmitEvidence", evidence_input(metadata={"k": "é"}), writer),  # no project
            ("SubmitEvidence", evidence_input(project="Not A Slug!"), writer),  # UserError
            ("SubmitEvidenceBatch", {"input": {"items": [
                evidence_input(project=PROJECT)["input"],
                evidence_input(project="github.com/acme/other")["input"],
                evidence_input()["input"]]}}, writer),
        ]
        answers += await execute_all(adapter, calls)
        counts = adapter.direct.counts()
    return answers, counts


async def test_uploads_answer_the_generic_bytes(hook_settings, monkeypatch, genuine):
    """The upload document (two root fields, one kept by `@skip`/`@include`; a payload
    whose `evidence.project` and `evidence.data` answer what the write holds) and the
    evidence submissions run directly and answer what the generic path answers."""
    hook_settings = hook_settings.replace(write_rate_per_minute=600, write_burst=100)
    direct, (walked, replayed) = await upload_scenario(
        fresh(hook_settings, "direct"), True, monkeypatch, genuine)
    generic, generic_counts = await upload_scenario(
        fresh(hook_settings, "generic"), False, monkeypatch, genuine)
    assert generic_counts == (0, 0)
    # The two JUnit uploads, the coverage upload, the build and the malformed report (its
    # errors are the payload's), the writer's upload and four evidence submissions are
    # walked. Completed by graphql-core after the resolver: the two adapter calls refused
    # by permission classes (the REST route refuses the reader before any GraphQL), and
    # the idempotent replay, whose `data` is not in hand (the walk meets an awaitable).
    assert (walked, replayed) == (10, 3), (walked, replayed)
    for index, (mine, theirs) in enumerate(zip(direct, generic, strict=True)):
        assert mine == theirs, f"answer {index} differs:\n{mine!r}\n{theirs!r}"
    statuses = [answer.split(b" ", 1)[0] for answer in direct[:6]]
    assert statuses == [b"201", b"201", b"201", b"422", b"422", b"403"], direct
    assert b'"type":"test_results"' in direct[0] and b"test_coverage" in direct[2]
    assert b"UNAUTHENTICATED" in direct[6] and b"FORBIDDEN" in direct[7]
    assert b'"project":{"slug":"github.com/acme/app"}' in direct[8]
    assert b'"replayed":true' in direct[10] and b'"project":{"slug"' in direct[10]
    assert b'"project":null' in direct[11] and b"INVALID" in direct[12]


async def test_a_payload_the_walk_refuses_is_completed_the_generic_way(
    hook_settings, monkeypatch
):
    """A value the walk cannot coerce is left to graphql-core, after the one write."""
    refused = []
    original = direct_walk._leaf

    def strict_leaf(leaf_type: Any) -> Any:
        inner = original(leaf_type)
        if leaf_type.name != "Boolean":
            return inner

        def complete(executor, value, path, info):
            refused.append(value)
            raise direct_walk.Unwalkable

        return complete

    monkeypatch.setattr(direct_walk, "_leaf", strict_leaf)
    async with running_app(hook_settings) as running:
        adapter = adapter_of(running)
        result = await adapter.execute("IngestWebhookDelivery", ingest(), SCM, a_request())
        assert adapter.direct.counts() == (0, 1) and refused == [False]
        again = await adapter.execute("IngestWebhookDelivery", ingest(), SCM, a_request())
    assert result.errors is None and result.data["ingestWebhookDelivery"]["duplicate"] is False
    assert again.data["ingestWebhookDelivery"]["duplicate"] is True  # written once


async def test_only_understood_schemas_and_shapes_compile(hook_settings, monkeypatch):
    async with running_app(hook_settings) as running:
        adapter = adapter_of(running)
        operations = adapter.operations
        plans = adapter.direct
        assert plans.plan(operations["IngestWebhookDelivery"].document,
                          "IngestWebhookDelivery") is not None
        # evidence.project and evidence.data answer what a write holds without awaiting.
        for name in ("SubmitEvidence", "SubmitTestArtifact"):
            assert plans.plan(operations[name].document, name) is not None
        # A payload with an async field (it may wait for a loader) runs the generic way;
        # see arcos/graphql/direct_walk.py.
        waits = parse("mutation M($input: AddBenchmarkInput!) { addBenchmark(input: $input) "
                      "{ benchmark { author { __typename } } } }")
        assert compile_mutation(adapter.schema, waits, "M", plans.rules) is None
        # A payload with a guarded field (permission classes) runs the generic way.
        guarded = parse("mutation M($input: SubmitEvidenceInput!) { submitEvidence("
                        "input: $input) { evidence { relations { relation } } } }")
        assert compile_mutation(adapter.schema, guarded, "M", plans.rules) is None
        # So does a lone conditional root field (graphql-core may answer `{}`).
        lone = parse("mutation M($input: SubmitEvidenceInput!, $s: Boolean!) { "
                     "submitEvidence(input: $input) @skip(if: $s) { errors { message } } }")
        assert compile_mutation(adapter.schema, lone, "M", plans.rules) is None
        unregister = operations["UnregisterPlugin"].document
        assert compile_mutation(adapter.schema, unregister, "UnregisterPlugin",
                                plans.rules) is not None
        # A schema with an extension the plan does not reproduce compiles nothing.
        monkeypatch.setattr(adapter.schema, "extensions", (*adapter.schema.extensions, _Unknown))
        assert compile_mutation(adapter.schema, unregister, "UnregisterPlugin",
                                plans.rules) is None


class _Unknown:
    """Stands for any schema extension the direct path knows nothing about."""


# Argument shapes: the converters built once per field (arcos/graphql/direct_resolve.py)
# against strawberry's own conversion, through graphql-core's execution of both.

Level = strawberry.enum(Enum("Level", {"LOW": "low", "HIGH": "high"}))


def _parse_point(value: Any) -> tuple[int, int]:
    x, y = str(value).split(",")
    return int(x), int(y)


Point = NewType("Point", tuple)
#: Point is a custom scalar whose graphql-core value ("x,y" parsed) the resolver gets.
SHAPE_CONFIG = StrawberryConfig(scalar_map={Point: strawberry.scalar(
    name="Point", serialize=lambda p: f"{p[0]},{p[1]}", parse_value=_parse_point)})


@strawberry.input
class Inner:
    level: Level  # type: ignore[valid-type]
    points: list[Point] | None = None
    child: Inner | None = None  # the type contains itself


@strawberry.input
class Shape:
    name: str = strawberry.field(name="label")
    count: int = 3
    note: str | None  # no Python default: None unless given
    tags: list[str] = strawberry.field(default_factory=lambda: ["t"])
    data: JSON | None = None
    inner: Inner | None = None
    inners: list[Inner | None] | None = None
    levels: list[Level] | None = None  # type: ignore[valid-type]


class Counted(BasePermission):
    """Refuses callers named "nobody"; returns a non-boolean for "odd" (fails closed)."""

    message = "no"

    async def has_permission(self, source: Any, info: Any, **kwargs: Any) -> Any:
        caller = info.context["caller"]
        return "yes" if caller == "odd" else caller != "nobody"


@strawberry.type
class ShapeQuery:
    ok: bool = True


@strawberry.type
class ShapeMutation:
    @strawberry.mutation(permission_classes=[Counted], extensions=[FreshLoadersAfterWrite()])
    async def echo(self, info: strawberry.Info, shape: Shape, extra: list[Shape] | None = None,
                   level: Level | None = None, when: Point | None = None  # type: ignore[valid-type]
                   ) -> str:
        return repr((shape, extra, level, when, sorted(info.context)))

    @strawberry.mutation
    def plain(self, words: list[str | None], flag: bool = False) -> str:
        return repr((words, flag))


class _Context(dict):
    def fresh_loaders(self) -> None:
        self["fresh"] = self.get("fresh", 0) + 1


SHAPES = [
    ('mutation { echo(shape: {label: "a", note: null}) }', {}),
    ('mutation { echo(shape: {label: "a", count: 7, tags: [], data: {k: [1, null]}, '
     'inner: {level: HIGH, points: ["1,2"], child: {level: LOW}}, inners: [null, {level: LOW}],'
     ' levels: [HIGH, LOW]}, level: LOW, when: "3,4") }', {}),
    ('mutation M($s: Shape!, $e: [Shape!], $l: Level, $w: Point) { '
     'echo(shape: $s, extra: $e, level: $l, when: $w) }',
     {"s": {"label": "v", "data": {"x": "é"}, "inner": {"level": "HIGH", "child": None}},
      "e": [{"label": "e1", "note": "n", "inners": None}, {"label": "e2", "levels": []}],
      "l": None, "w": "5,6"}),
    ('mutation M($s: Shape!) { echo(shape: $s) }', {"s": {"label": "omitted"}}),
    ('mutation M($w: [String]!) { plain(words: $w) }', {"w": ["a", None]}),
    ('mutation { plain(words: "single", flag: true) }', {}),
]


def _direct_middleware(schema: Any) -> Any:
    """Resolves the mutation's root fields with their direct calls (others as usual)."""
    calls = {name: direct_field(schema, field)
             for name, field in schema._schema.mutation_type.fields.items()}

    def middleware(next_: Any, root: Any, info: Any, **arguments: Any) -> Any:
        direct = calls.get(info.field_name) if info.path.prev is None else None
        if direct is None:
            return next_(root, info, **arguments)
        return direct.call(root, info, arguments)

    return middleware


@pytest.mark.parametrize("caller", ["someone", "nobody", "odd"])
async def test_direct_calls_convert_arguments_as_strawberry_does(caller):
    """Nested inputs, renamed fields, defaults (values, factories, implicit None),
    lists, enums, nulls, omitted optionals, custom scalars, literals and variables give
    the resolver what strawberry's own conversion gives it; the permission class and the
    field extension run (a refusal and a non-boolean answer fail closed, with the same
    errors)."""
    schema = strawberry.Schema(query=ShapeQuery, mutation=ShapeMutation, config=SHAPE_CONFIG)
    assert all(direct_field(schema, field) is not None
               for field in schema._schema.mutation_type.fields.values())
    generic_context, direct_context = _Context(caller=caller), _Context(caller=caller)
    for document, variables in SHAPES:
        generic = await schema.execute(document, variables, context_value=generic_context)
        direct = await await_maybe(graphql_execute(
            schema._schema, parse(document), variable_values=variables,
            context_value=direct_context, middleware=[_direct_middleware(schema)]))
        assert encoded(direct, extensions=False) == encoded(generic, extensions=False), document
        assert (direct.errors is None) is (caller == "someone" or "plain" in document)
    # The field extension ran after each echo that was allowed, and only then.
    assert direct_context == generic_context
    assert direct_context.get("fresh") == (4 if caller == "someone" else None)


@strawberry.input
class Sized:
    size: strawberry.Maybe[int]


@strawberry.type
class UnreproducedMutation:
    @strawberry.mutation
    def maybe(self, sized: Sized) -> str:
        return ""

    @strawberry.mutation
    def node(self, id: strawberry.relay.GlobalID) -> str:
        return ""


def test_unreproduced_conversions_keep_strawberrys_resolver(monkeypatch):
    """A field whose conversion the direct call would not reproduce keeps the wrapper, and
    so does a field whose resolve is no longer strawberry's own wrapper."""
    schema = strawberry.Schema(query=ShapeQuery, mutation=UnreproducedMutation)
    fields = schema._schema.mutation_type.fields
    assert direct_field(schema, fields["maybe"]) is None
    assert direct_field(schema, fields["node"]) is None
    shapes = strawberry.Schema(query=ShapeQuery, mutation=ShapeMutation, config=SHAPE_CONFIG)
    plain = shapes._schema.mutation_type.fields["plain"]
    assert direct_field(shapes, plain) is not None
    wrapped = plain.resolve
    monkeypatch.setattr(plain, "resolve", lambda *args, **kwargs: wrapped(*args, **kwargs))
    assert direct_field(shapes, plain) is None

"""What `arcos serve` imports before its first answer, and what it leaves for later.

Start-up time is mostly imports (tests/benchmarks/bench_cold_start.py measures it). These
tests pin the structure that keeps it short, without timing anything: each runs a fresh
interpreter and reads its `sys.modules`.

- Building the parser and the app imports none of the modules the first request does not
  need (DEFERRED below): jsonschema (which, with `rfc3987_syntax` installed, builds a
  grammar at import), the STIX pattern parser, every artifact format's parser (defusedxml
  among them), asyncpg for an SQLite store, PyYAML (assurance-case documents); nor (ON_FIRST_USE) the process pool's
  machinery, which the first large upload starts, and strawberry's federation directives.
- Once the app's lifespan has started, a background thread imports them
  (arcos/web/deferred_imports.py), so the first request that needs one does not import
  it on the event loop.
- `import arcos.cli` imports no domain: `main` imports them with the collector paused
  (arcos/startup_collector.py); `serve` keeps it paused until its app's lifespan has
  started, when that runs in its own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Packages and modules no start-up step needs, imported in the background once it serves.
DEFERRED = (
    "jsonschema", "rfc3987_syntax", "stix2patterns", "antlr4", "asyncpg",
    "arcos.formats.parse", "defusedxml", "arcos.assurance.safe_yaml", "yaml",
)
#: Modules starting the server does not import at all: the process pool's machinery, which
#: the first large upload starts (arcos/web/parse_pool.py), and the federation directives
#: strawberry's schema imports only to warn when one is used (ArcosSchema).
ON_FIRST_USE = ("concurrent.futures.process", "strawberry.federation.schema_directives")

BUILD_APP = """
import json, sys
import arcos.cli
arcos.cli._parser()
from arcos.app import create_app
from arcos.settings import Settings
app = create_app(Settings(database_url=sys.argv[1]))
"""


def run_python(code: str, *args: str) -> str:
    """Run `code` in a fresh interpreter importing this checkout's arcos; its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def loaded(names: list[str]) -> str:
    """Code printing which of `names` (packages, with their submodules, or modules) are
    imported, as JSON."""
    return (f"print(json.dumps(sorted(n for n in {names!r} "
            f"if any(m == n or m.startswith(n + '.') for m in sys.modules))))")


def test_building_the_parser_and_the_app_imports_no_deferred_module(tmp_path):
    code = BUILD_APP + loaded([*DEFERRED, *ON_FIRST_USE])
    assert json.loads(run_python(code, f"sqlite://{tmp_path / 'store.db'}")) == []


def test_starting_the_app_compiles_no_scrubbing_rule(tmp_path):
    """The community scrubber's ~15 patterns are compiled by the first scrub, not at
    import (arcos/community/scrub.py): start-up never scrubs."""
    code = BUILD_APP + """
import asyncio
from arcos.community import scrub

async def start_and_stop():
    async with app.router.lifespan_context(app):
        pass

asyncio.run(start_and_stop())
print(json.dumps(scrub._rules.cache_info().currsize))
"""
    assert json.loads(run_python(code, f"sqlite://{tmp_path / 'store.db'}")) == 0


def test_the_started_app_imports_the_deferred_modules_in_the_background(tmp_path):
    installed = [name for name in DEFERRED if name not in ("asyncpg", "rfc3987_syntax")]
    code = BUILD_APP + """
import asyncio

async def start_and_stop():
    async with app.router.lifespan_context(app):
        app.state.deferred_imports.join(timeout=60)

asyncio.run(start_and_stop())
""" + loaded([*installed, *ON_FIRST_USE])
    assert json.loads(run_python(code, f"sqlite://{tmp_path / 'store.db'}")) == sorted(installed)


def test_importing_the_command_imports_no_domain():
    code = ("import json, sys\nimport arcos.cli\n"
            "print(json.dumps(sorted({'arcos.domains', 'arcos.db'} & set(sys.modules))))")
    assert json.loads(run_python(code)) == []


WATCH_MAIN = """
import gc, json, sys
import arcos.cli
from arcos.startup_collector import end_startup_pause
seen = {}
build = arcos.cli._parser
def watched_parser():
    seen["collecting_while_importing"] = gc.isenabled()
    return build()
def fake_serve(args):
    seen["collecting_when_serve_starts"] = gc.isenabled()
    if "--lifespan" in sys.argv:
        end_startup_pause()  # what the app's lifespan does once started
        seen["collecting_once_started"] = gc.isenabled()
    return 0
arcos.cli._parser = watched_parser
arcos.cli._serve = fake_serve
arcos.cli.main([a for a in sys.argv[1:] if a != "--lifespan"])
seen["collecting_after"] = gc.isenabled()
seen["frozen"] = gc.get_freeze_count()
print(json.dumps(seen))
"""


def test_serve_keeps_the_collector_paused_until_its_app_started_then_freezes():
    """One worker: the app starts in this process, so its start-up (store check, schema,
    app, lifespan) runs paused too, and the lifespan freezes what it all built."""
    seen = json.loads(run_python(WATCH_MAIN, "serve", "--lifespan"))
    assert seen["collecting_while_importing"] is False
    assert seen["collecting_when_serve_starts"] is False
    assert seen["collecting_once_started"] is True
    assert seen["collecting_after"] is True
    assert seen["frozen"] > 50_000  # the domains' types, models and schema pieces


def test_a_server_whose_app_never_started_turns_the_collector_back_on():
    seen = json.loads(run_python(WATCH_MAIN, "serve"))
    assert seen["collecting_when_serve_starts"] is False
    assert seen["collecting_after"] is True
    assert seen["frozen"] > 50_000


def test_serve_with_workers_freezes_at_once_since_its_apps_start_elsewhere():
    """With several workers (or --reload) the apps start in child processes, whose
    lifespans cannot end this process's pause: it ends after the imports, as before."""
    seen = json.loads(run_python(WATCH_MAIN, "serve", "--workers", "2"))
    assert seen["collecting_while_importing"] is False
    assert seen["collecting_when_serve_starts"] is True
    assert seen["frozen"] > 50_000


def test_the_app_ends_the_pause_serve_held_once_its_lifespan_started(tmp_path):
    code = """
import asyncio, gc, json, sys
from arcos.startup_collector import StartupPause
with StartupPause() as pause:
    pause.hold_until_serving()
    import arcos.cli
    arcos.cli._parser()
from arcos.app import create_app
from arcos.settings import Settings
app = create_app(Settings(database_url=sys.argv[1]))
seen = {"collecting_before_start": gc.isenabled()}

async def start():
    async with app.router.lifespan_context(app):
        seen["collecting_once_started"] = gc.isenabled()
        seen["frozen"] = gc.get_freeze_count()

asyncio.run(start())
print(json.dumps(seen))
"""
    seen = json.loads(run_python(code, f"sqlite://{tmp_path / 'store.db'}"))
    assert seen["collecting_before_start"] is False
    assert seen["collecting_once_started"] is True
    assert seen["frozen"] > 50_000


def test_other_commands_pause_the_collector_but_freeze_nothing():
    seen = json.loads(run_python(WATCH_MAIN, "settings").splitlines()[-1])
    assert seen["collecting_while_importing"] is False
    assert seen["collecting_after"] is True
    assert seen["frozen"] == 0


async def test_the_first_body_check_compiles_off_the_event_loop(monkeypatch):
    """The first check of a REST body imports jsonschema and compiles the row's schema in
    a worker thread (the loop would otherwise wait for the whole import)."""
    import threading

    import jsonschema

    from arcos.rest.body_schema import BodyCheck

    compiled_in = []
    original = jsonschema.Draft202012Validator

    def recording(schema):
        compiled_in.append(threading.current_thread())
        return original(schema)

    monkeypatch.setattr(jsonschema, "Draft202012Validator", recording)
    check = BodyCheck({"type": "object"})
    await check.ready()
    check({})
    await check.ready()
    assert len(compiled_in) == 1 and compiled_in[0] is not threading.main_thread()


async def test_the_openapi_document_and_the_sdl_are_built_when_first_asked_for(
    tmp_path, monkeypatch
):
    """No start-up step needs the OpenAPI document, the documentation or the printed SDL:
    building the app builds none of them; the first request for each builds it, once."""
    import httpx

    from arcos.app import create_app
    from arcos.rest import routes
    from arcos.schema import ArcosSchema
    from arcos.settings import Settings

    built: list[str] = []

    def recorded(name, function):
        def recording(*args, **kwargs):
            built.append(name)
            return function(*args, **kwargs)
        return recording

    monkeypatch.setattr(routes, "openapi_document",
                        recorded("openapi", routes.openapi_document))
    monkeypatch.setattr(routes, "ecosystem_documentation",
                        recorded("documentation", routes.ecosystem_documentation))
    monkeypatch.setattr(ArcosSchema, "as_str", recorded("sdl", ArcosSchema.as_str))
    app = create_app(Settings(database_url=f"sqlite://{tmp_path / 'store.db'}"))
    assert built == []
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://arcos") as client:
            for path in ("/api/openapi.json", "/api/ecosystem/documentation",
                         "/api/graphql/schema") * 2:
                assert (await client.get(path)).status_code == 200
    assert built == ["openapi", "documentation", "sdl"]

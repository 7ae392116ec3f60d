"""GraphiQL without a CDN: ARCOS's own page, its assets from an installed package.

Strawberry's GraphiQL page loads React, GraphiQL and the explorer from a public CDN and
starts them with inline script, so it is blank on an air-gapped network and needs a
policy that allows inline script. This page loads the same kind of files from the
`graphene-django-graphiql-static` package (plain static files, no dependencies; its build
is GraphiQL 2 on React 17, started with `ReactDOM.render`), or from the mirror named by
ARCOS_GRAPHIQL_ASSETS_URL, and starts them from /graphiql/start.js.
"""

from __future__ import annotations

import html
import importlib.util
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from arcos.settings import Settings
from arcos.web.browser.headers import SecurityHeaders, request_host, security_headers

#: Where this package's files are served from when no mirror is configured.
VENDOR_PATH = "/graphiql/vendor/"
#: The package that ships GraphiQL's files, and their folder inside it.
ASSET_PACKAGE = "graphene_django_graphiql_static"
ASSET_FOLDER = ("static", "graphene_django_graphiql_static")
#: ARCOS's own files for the page (start.js, page.css), shipped as package data.
OWN_FILES = Path(__file__).parent / "static" / "graphiql"

STYLES = ("graphiql.min.css", "style.css")
#: In load order: each UMD script reads the globals of those before it.
SCRIPTS = (
    "react.production.min.js", "react-dom.production.min.js", "graphiql.min.js",
    "graphql-ws.min.js", "graphiql-plugin-explorer.umd.js",
)


def asset_directory() -> Path:
    """The installed package's folder of GraphiQL files (found without importing it)."""
    spec = importlib.util.find_spec(ASSET_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"GraphiQL's assets need the {ASSET_PACKAGE!r} package installed")
    return Path(next(iter(spec.submodule_search_locations)), *ASSET_FOLDER)


def assets_base(settings: Settings) -> str:
    """The URL prefix GraphiQL's files are loaded from: a mirror's, or this server's."""
    mirror = settings.graphiql_assets_url.strip()
    if not mirror:
        return VENDOR_PATH
    return mirror if mirror.endswith("/") else mirror + "/"


def mirror_origin(settings: Settings) -> tuple[str, ...]:
    """The mirror's origin for the page's policy; none when the files are served here."""
    mirror = settings.graphiql_assets_url.strip()
    if not mirror:
        return ()
    parts = urlsplit(mirror)
    return (f"{parts.scheme}://{parts.netloc}",)


def page_html(settings: Settings, endpoint: str = "/graphql") -> str:
    """The page: styles and scripts by URL, no inline script, the endpoint as data."""
    return _page(assets_base(settings), endpoint)


@cache
def _page(assets: str, endpoint: str) -> str:
    """The page for one asset base and endpoint, built once (it depends on nothing else)."""
    base = html.escape(assets, quote=True)
    styles = "".join(f'<link rel="stylesheet" href="{base}{name}">' for name in STYLES)
    scripts = "".join(f'<script src="{base}{name}"></script>' for name in SCRIPTS)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>ARCOS GraphiQL</title>"
        '<link rel="icon" href="/ui/icon.svg">'
        f'{styles}<link rel="stylesheet" href="/graphiql/page.css">{scripts}'
        '<script type="module" src="/graphiql/start.js"></script>'
        f'</head><body><div id="graphiql" data-endpoint="{html.escape(endpoint, quote=True)}">'
        "Loading GraphiQL…</div></body></html>"
    )


def graphiql_response(request: Request, settings: Settings) -> HTMLResponse:
    """The page with its policy (inline styles allowed: the editor sets style attributes;
    inline script is not)."""
    headers = security_headers(
        request_host(request.scope), extra_sources=mirror_origin(settings), inline_styles=True
    )
    headers["cache-control"] = "no-store"
    return HTMLResponse(page_html(settings), headers=headers)


def graphiql_routes(settings: Settings) -> list[BaseRoute]:
    """/graphiql/start.js and page.css, and the package's files under /graphiql/vendor/
    (served even with a mirror configured, so a mirror can be filled from them)."""
    if not settings.expose_schema:
        return []
    return [
        Mount(VENDOR_PATH.rstrip("/"), app=SecurityHeaders(StaticFiles(
            directory=asset_directory())), name="graphiql-vendor"),
        Mount("/graphiql", app=SecurityHeaders(StaticFiles(directory=OWN_FILES)),
              name="graphiql-own"),
    ]

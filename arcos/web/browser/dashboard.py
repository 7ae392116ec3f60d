"""The dashboard at /ui/: hand-written HTML, CSS and ES modules shipped as package data.

It speaks only the public GraphQL API (queries over HTTP, subscriptions over
graphql-transport-ws), so the server holds no dashboard logic: these routes serve files,
each with the strict policy of arcos/web/browser/headers.py.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from arcos.web.browser.headers import SecurityHeaders

#: index.html, app.css, icon.svg and js/ (the shell, the GraphQL client, one module a page).
DASHBOARD_FILES = Path(__file__).parent / "static" / "dashboard"


def dashboard_routes() -> list[BaseRoute]:
    """/ui/ and its files (/ui redirects here through the router's trailing-slash rule)."""
    files = StaticFiles(directory=DASHBOARD_FILES, html=True)
    return [Mount("/ui", app=SecurityHeaders(files), name="dashboard")]

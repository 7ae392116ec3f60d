"""The security headers of every page ARCOS serves to a browser.

The policy allows scripts and styles only from this origin (plus any mirror the operator
configured for GraphiQL), no inline script, no framing, and network access only back to
this server over HTTP and websockets: evidence is attacker-controlled, so even a rendering
bug must not be able to run script or send data elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from arcos.web.scope_headers import scope_header

#: A Host header this plain (name or address, optional port) may be echoed into the policy.
_PLAIN_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def content_security_policy(
    host: str | None, *, extra_sources: Sequence[str] = (), inline_styles: bool = False
) -> str:
    """The policy for one response. `host` (the request's Host header, when it is plain)
    adds this server's ws:// and wss:// origins to connect-src, which older browsers do not
    count as 'self'. `inline_styles` is for GraphiQL, whose editor sets style attributes."""
    origins = " ".join(extra_sources)
    sockets = f" ws://{host} wss://{host}" if host and _PLAIN_HOST.match(host) else ""
    styles = " 'unsafe-inline'" if inline_styles else ""
    directives = [
        "default-src 'self'",
        f"script-src 'self' {origins}".rstrip(),
        f"style-src 'self'{styles} {origins}".rstrip(),
        f"font-src 'self' data: {origins}".rstrip(),
        "img-src 'self' data:",
        f"connect-src 'self'{sockets}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def security_headers(
    host: str | None, *, extra_sources: Sequence[str] = (), inline_styles: bool = False
) -> dict[str, str]:
    """Every header a browser page gets: the policy, no framing, no MIME sniffing, and no
    referrer leaving the server (a page's URL may name a project)."""
    return {
        "content-security-policy": content_security_policy(
            host, extra_sources=extra_sources, inline_styles=inline_styles
        ),
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
    }


def request_host(scope: Scope) -> str | None:
    """The Host header of an ASGI request, when it has one."""
    value = scope_header(scope, b"host")
    return value.decode("latin-1") if value is not None else None


class SecurityHeaders:
    """ASGI wrapper adding `security_headers` to every HTTP response of `app` (the static
    files under /ui/ and GraphiQL's assets), replacing any of the same name."""

    def __init__(self, app: ASGIApp, *, extra_sources: Sequence[str] = ()) -> None:
        self.app = app
        self.extra_sources = tuple(extra_sources)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = security_headers(request_host(scope), extra_sources=self.extra_sources)
        encoded = [(name.encode(), value.encode()) for name, value in added.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(name, value) for name, value in message.get("headers", ())
                        if name.decode("latin-1").lower() not in added]
                message = {**message, "headers": kept + encoded}
            await send(message)

        await self.app(scope, receive, send_with_headers)

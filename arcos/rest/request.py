"""What a REST adapter reads from HTTP: path and query parameters, and a JSON body, each
refused with a 400/415 that names the parameter and says what to send instead."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request

from arcos.web.json_text import UnreadableJson, parse_json_object
from arcos.web.json_threads import INLINE, JsonThreads
from arcos.web.parse_pool import ParsePool
from arcos.web.refusal import RestRefusal
from arcos.web.spool import BodySpool

JSON_TYPES = ("application/json",)
_ABSENT = object()


@dataclass
class RestCall:
    request: Request
    body: Any = field(default=_ABSENT)
    #: Where large bodies are parsed off the event loop (None: inline).
    parse_pool: ParsePool | None = None
    #: Where large JSON bodies are decoded, off the event loop.
    json_threads: JsonThreads = INLINE
    #: Spooled bodies, removed by `close()` when the request is answered.
    spools: list[BodySpool] = field(default_factory=list)

    def keep(self, spool: BodySpool) -> BodySpool:
        """Hold `spool` until the request is answered."""
        self.spools.append(spool)
        return spool

    def close(self) -> None:
        for spool in self.spools:
            spool.close()
        self.spools.clear()

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])

    def text(self, name: str) -> str | None:
        """A query parameter; None when absent. Given twice or empty, it is refused."""
        values = self.request.query_params.getlist(name)
        if not values:
            return None
        if len(values) > 1:
            raise _bad(f"query parameter {name!r} was given {len(values)} times; give it once")
        if values[0] == "":
            raise _bad(f"query parameter {name!r} is empty; give a value or leave it out")
        return values[0]

    def integer(self, name: str, default: int) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise _bad(f"query parameter {name!r} must be an integer (got {raw!r:.40})") from None

    def flag(self, name: str) -> bool:
        raw = (self.text(name) or "false").lower()
        if raw in ("1", "true", "yes"):
            return True
        if raw in ("0", "false", "no"):
            return False
        raise _bad(f"query parameter {name!r} must be true or false (got {raw!r:.40})")

    def timestamp(self, name: str) -> str | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise _bad(
                f"query parameter {name!r} must be an ISO-8601 time like 2026-01-31T12:00:00Z"
            ) from None
        return parsed.isoformat()

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        raw = (self.text(name) or default).lower()
        if raw not in options:
            raise _bad(f"query parameter {name!r} must be one of {', '.join(options)}")
        return raw

    async def json_object(self) -> dict[str, Any]:
        """The request body as a JSON object, or a 415/400 saying what is wrong with it."""
        if self.body is not _ABSENT:
            return self.body
        content_type = self.request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in JSON_TYPES:
            raise RestRefusal(
                415,
                f"send the body as Content-Type: application/json (got {content_type or 'none'!r})",
                "UNSUPPORTED_MEDIA_TYPE",
            )
        raw = await self.request.body()
        self.body = await self.json_threads.run(_json_object, raw, size=len(raw))
        return self.body


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        return parse_json_object(raw)
    except UnreadableJson as error:
        raise _bad(f"the request body: {error}") from None


def _bad(message: str) -> RestRefusal:
    return RestRefusal(400, message, "BAD_REQUEST")

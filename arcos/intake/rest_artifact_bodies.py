"""Artifact uploads over REST: a CI step posts what its tool wrote, as it wrote it.

Two forms reach the same GraphQL input. A raw body (`curl --data-binary @coverage.xml`,
any content type, gzip allowed) carries `project`, `commit`, `ref`, `pipeline_run` and
`format` as query parameters. A JSON envelope (`{"content": "...", "project": ...}`)
carries them as fields beside `content` (or `contentBase64` for binary or gzip).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from arcos.formats.detect import detect, head_text, looks_like_json
from arcos.formats.errors import ArtifactRefused
from arcos.formats.payload import PEEK_INPUT_BYTES, peek
from arcos.rest.request import RestCall
from arcos.web.json_text import parse_json
from arcos.web.refusal import RestRefusal
from arcos.web.spool import BodySpool

ENVELOPE_FIELDS = ("content", "contentBase64")
#: Envelope fields, and the query parameter that carries each with a raw body.
METADATA = (
    ("format", "format"),
    ("project", "project"),
    ("commitSha", "commit"),
    ("ref", "ref"),
    ("pipelineRun", "pipeline_run"),
    ("sourceRoot", "source_root"),
)
COVERAGE_FORMATS = frozenset({"cobertura", "coverage-json", "lcov"})
#: How much of an upload is decoded just to tell coverage from tests: a bounded prefix, so
#: the sniff costs the event loop the same for any body (the worker parses the whole).
SNIFF_BYTES = 64 * 1024
#: coverage.py writes `meta` (with `format`) first: enough to know a truncated JSON head.
_COVERAGE_JSON_HEAD = re.compile(r'^\{\s*"meta"\s*:\s*\{[^{}]*"format"')


async def artifact_input(call: RestCall) -> dict[str, Any]:
    """The GraphQL input for an upload, from an envelope or a raw body. The body is read
    only here, after the adapter has authenticated and authorised the caller, and is
    streamed to a temporary file: a raw body reaches the mutation as its `file`."""
    request = call.request
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields: dict[str, Any] = {}
    for name, parameter in METADATA:
        value = call.text(parameter)  # checked even beside an envelope: empty is refused
        if value is not None:
            fields[name] = value
    spool = call.keep(await BodySpool.of(request))
    if not spool.size:
        raise RestRefusal(400, "the body is empty: post the report file itself, or a JSON "
                          "envelope {\"content\": ...}", "BAD_REQUEST")
    envelope = None
    if content_type == "application/json":
        source = spool.source()
        envelope = (
            await call.parse_pool.run(read_envelope, source)
            if call.parse_pool is not None and isinstance(source, Path)
            else read_envelope(source)
        )
    if envelope is not None:
        return {**fields, **_from_envelope(envelope)}
    fields["file"] = spool
    if "format" not in fields and content_type:
        fields["contentType"] = content_type
    return fields


def read_envelope(source: bytes | Path) -> dict[str, Any] | None:
    """The body as an envelope, or None when it is a JSON report posted raw. Run in a
    parse worker when the body is large: a JSON document is parsed whole."""
    raw = source.read_bytes() if isinstance(source, Path) else source
    return _envelope(raw)


def is_coverage(fields: dict[str, Any]) -> bool:
    """Whether an upload to the tests route is a coverage report (else a test report),
    judged from at most SNIFF_BYTES of its decoded start."""
    if fields.get("format"):
        return str(fields["format"]).lower() in COVERAGE_FORMATS
    try:
        raw, whole = _prefix(fields)
        head, complete = peek(raw, SNIFF_BYTES)
        text = head_text(head)
        if looks_like_json(text) and not (whole and complete):
            return _COVERAGE_JSON_HEAD.match(text) is not None
        kind = detect(head, fields.get("contentType"))
    except (ArtifactRefused, ValueError):
        return False  # the test-report mutation will say what is wrong with it
    return kind in COVERAGE_FORMATS


def _prefix(fields: dict[str, Any]) -> tuple[bytes, bool]:
    """The first PEEK_INPUT_BYTES of the artifact as sent, and whether that is all of it."""
    budget = PEEK_INPUT_BYTES
    if isinstance(fields.get("file"), BodySpool):
        spool = fields["file"]
        return spool.head(budget), spool.size <= budget
    if fields.get("content") is not None:
        text = str(fields["content"])[:budget]
        return text.encode("utf-8", errors="surrogatepass"), len(text) == len(fields["content"])
    encoded = str(fields.get("contentBase64") or "")
    chars = budget // 3 * 4
    return base64.b64decode(encoded[:chars], validate=True), len(encoded) <= chars


def _envelope(raw: bytes) -> dict[str, Any] | None:
    try:
        value = parse_json(raw)
    except (ValueError, RecursionError):
        return None  # not JSON at all: the parser will say what it is not
    if isinstance(value, dict) and any(field in value for field in ENVELOPE_FIELDS):
        return value
    return None


def _from_envelope(envelope: dict[str, Any]) -> dict[str, Any]:
    allowed = {*ENVELOPE_FIELDS, *(name for name, _ in METADATA), "contentType"}
    unknown = sorted(set(envelope) - allowed)
    if unknown:
        raise RestRefusal(
            400, f"unknown envelope fields: {', '.join(unknown)}; allowed: "
            f"{', '.join(sorted(allowed))}", "BAD_REQUEST",
        )
    return dict(envelope)

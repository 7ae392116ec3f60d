"""Artifact uploads over REST: a CI step posts what its tool wrote, as it wrote it.

Two forms reach the same GraphQL input. A raw body (`curl --data-binary @coverage.xml`,
any content type, gzip allowed) carries `project`, `commit`, `ref`, `pipeline_run` and
`format` as query parameters. A JSON envelope (`{"content": "...", "project": ...}`)
carries them as fields beside `content` (or `contentBase64` for binary or gzip).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from arcos.ingest.detect import detect
from arcos.ingest.errors import ArtifactRefused
from arcos.ingest.payload import decode
from arcos.rest.refusal import RestRefusal
from arcos.rest.request import RestCall

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
#: How much of a gzip body is inflated just to tell coverage from tests (the parser inflates
#: it again, with its own limit).
SNIFF_LIMIT = 64 * 1024 * 1024
GZIP_TYPES = ("application/gzip", "application/x-gzip")


async def artifact_input(call: RestCall) -> dict[str, Any]:
    """The GraphQL input for an upload, from an envelope or a raw body."""
    request = call.request
    raw = await request.body()
    if not raw:
        raise RestRefusal(400, "the body is empty: post the report file itself, or a JSON "
                          "envelope {\"content\": ...}", "BAD_REQUEST")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields: dict[str, Any] = {}
    for name, parameter in METADATA:
        value = call.text(parameter)  # checked even beside an envelope: empty is refused
        if value is not None:
            fields[name] = value
    envelope = _envelope(raw) if content_type == "application/json" else None
    if envelope is not None:
        return {**fields, **_from_envelope(envelope)}
    gzipped = (
        request.headers.get("content-encoding", "").lower() == "gzip"
        or content_type in GZIP_TYPES
    )
    text = None if gzipped else _utf8(raw)
    if text is None:
        fields["contentBase64"] = base64.b64encode(raw).decode("ascii")
    else:
        fields["content"] = text
    if "format" not in fields and content_type:
        fields["contentType"] = content_type
    return fields


def is_coverage(fields: dict[str, Any]) -> bool:
    """Whether an upload to the tests route is a coverage report (else a test report)."""
    if fields.get("format"):
        return str(fields["format"]).lower() in COVERAGE_FORMATS
    try:
        if fields.get("content") is not None:
            raw = str(fields["content"]).encode("utf-8", errors="surrogatepass")
        else:
            raw = base64.b64decode(str(fields.get("contentBase64") or ""), validate=True)
        kind = detect(decode(raw, max_bytes=SNIFF_LIMIT), fields.get("contentType"))
    except (ArtifactRefused, ValueError):
        return False  # the test-report mutation will say what is wrong with it
    return kind in COVERAGE_FORMATS


def _envelope(raw: bytes) -> dict[str, Any] | None:
    """The body as an envelope, or None when it is a JSON report posted raw."""
    try:
        value = json.loads(raw)
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


def _utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None

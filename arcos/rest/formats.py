"""Response formats for REST bodies: JSON always; NDJSON and CSV for routes that list
records (RestRoute.formats). Chosen by `?format=` first, then by the Accept header."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from starlette.responses import Response

from arcos.rest.request import RestCall
from arcos.web.preencoded import PreEncodedJSON, dumps

MEDIA_TYPES = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
}
#: Columns of the CSV form; nested values (data, metadata, relations) are JSON text.
CSV_COLUMNS = (
    "id", "type", "source", "project", "commitSha", "ref", "sha256", "submittedBy",
    "createdAt", "data", "metadata",
)


def chosen_format(call: RestCall) -> str:
    explicit = call.text("format")
    if explicit is not None:
        return call.choice("format", tuple(MEDIA_TYPES), "json")
    accept = call.request.headers.get("accept", "")
    if "application/x-ndjson" in accept:
        return "ndjson"
    if "text/csv" in accept:
        return "csv"
    return "json"


async def render(body: Any, route: Any, call: RestCall) -> Response:
    """The response for a shaped body in the format the caller asked for.

    A stored item's `data` and `metadata` arrive as JSON text (`PreEncodedJSON`): JSON and
    NDJSON splice it in as it is; CSV cells hold it re-encoded with sorted keys, which
    decodes it, so a large table is written in a JSON thread.
    """
    status = route.shape.status
    if getattr(route.shape, "raw", False):
        return Response(body["content"], status_code=status, media_type=body["mediaType"])
    chosen = chosen_format(call) if route.formats else "json"
    if chosen == "json":
        return Response(dumps(body), status_code=status, media_type="application/json")
    key = route.shape.items_key
    records = body[key] if key else [body]
    if chosen == "ndjson":
        lines = "".join(dumps(record) + "\n" for record in records)
        return Response(lines, status_code=status, media_type=MEDIA_TYPES["ndjson"])
    size = sum(
        len(value.text) for record in records for value in record.values()
        if isinstance(value, PreEncodedJSON)
    )
    table = await call.json_threads.run(_csv, records, size=size)
    return Response(table, status_code=status, media_type=MEDIA_TYPES["csv"])


def _csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow([_cell(column, record.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column == "project":
        return value["slug"]
    if isinstance(value, PreEncodedJSON):
        value = value.value()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    text = str(value)
    # Cells starting with these run as formulas in spreadsheets (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


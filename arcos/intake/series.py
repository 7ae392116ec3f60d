"""Metric series downsampled for plotting: a time range cut into at most `points` equal
buckets, each summarised (min, max, mean, last, count) by the store in one GROUP BY.

A page plotting 90 days of hourly values needs a few hundred numbers per metric, not
thousands of rows: the store reads the rows through the (project_id, name, timestamp)
index and sends back one row per bucket, so the answer's size depends on `points` alone.

The bucket of a row is `(epoch_ms(timestamp) - from_ms) / width_ms` in integer division;
epoch milliseconds come from each dialect's own date arithmetic. SQLite holds Tortoise's
datetimes as UTC text (`2026-01-02 03:04:05.123456+00:00`), which `julianday` reads
(offset included) with millisecond precision; PostgreSQL holds `timestamptz`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections

from arcos.evidence.models import Project
from arcos.intake.models import QualityMetric
from arcos.problems import BadUserInput
from arcos.storable import unstorable
from arcos.store.catalogue import dialect

#: Buckets a series may be cut into: enough for a full-width plot on a large screen.
MIN_POINTS = 2
MAX_POINTS = 1000
DEFAULT_POINTS = 200
#: Metrics one request may plot (each is one series of up to `points` buckets).
MAX_NAMES = 10

#: Epoch milliseconds of the `timestamp` column, per dialect (see the module docstring).
_EPOCH_MS = {
    "sqlite": 'CAST(ROUND((julianday("timestamp") - 2440587.5) * 86400000.0) AS INTEGER)',
    "postgres": 'CAST(FLOOR(EXTRACT(EPOCH FROM "timestamp") * 1000) AS BIGINT)',
}

#: Rows of one project in [from, to), bucketed; `newest` = 1 marks each bucket's last value.
#: `{from_ms}`, `{width}`, `{last}` (the last bucket's index: a time rounded up to `to`
#: stays in it) and `{last_start}` (its offset) are integers computed here and inlined, so
#: no placeholder needs a type and PostgreSQL multiplies no 32-bit literals.
_BUCKETS = """
SELECT name, bucket, MIN(value) AS low, MAX(value) AS high, AVG(value) AS mean,
       COUNT(*) AS count, AVG(t) AS mean_t, MAX(CASE WHEN newest = 1 THEN value END) AS last
FROM (
  SELECT name, value, t, bucket,
         ROW_NUMBER() OVER (PARTITION BY name, bucket ORDER BY t DESC, id DESC) AS newest
  FROM (
    SELECT id, name, value, t,
           CASE WHEN t - {from_ms} >= {last_start} THEN {last}
                ELSE (t - {from_ms}) / {width} END AS bucket
    FROM (
      SELECT id, name, value, {epoch_ms} AS t FROM quality_metric
      WHERE project_id = {project} AND "timestamp" >= {since} AND "timestamp" < {until}{names}
    ) AS timed
  ) AS bucketed
) AS ranked
GROUP BY name, bucket
ORDER BY name, bucket
"""


@dataclass(frozen=True)
class Bucket:
    """The values of one metric in [start, end): `timestamp` is their mean time, so a
    bucket holding one value sits exactly at that value's time."""

    start: datetime
    end: datetime
    timestamp: datetime
    low: float
    high: float
    mean: float
    last: float
    count: int


@dataclass(frozen=True)
class Series:
    name: str
    buckets: list[Bucket] = field(default_factory=list)


@dataclass(frozen=True)
class SeriesRange:
    """What was plotted: the range (defaults filled in) and the bucket width."""

    since: datetime | None
    until: datetime | None
    bucket_ms: int
    series: list[Series]


def check_request(names: Sequence[str] | None, since: datetime | None,
                  until: datetime | None, points: int) -> None:
    """Refuse what no plot needs before touching the store (BAD_USER_INPUT)."""
    if not MIN_POINTS <= points <= MAX_POINTS:
        raise BadUserInput(f"points must be between {MIN_POINTS} and {MAX_POINTS} (got {points})")
    if names is not None and not names:
        raise BadUserInput("names must name at least one metric (or be omitted for all)")
    if names is not None and len(set(names)) > MAX_NAMES:
        raise BadUserInput(f"names may list at most {MAX_NAMES} metrics (got {len(set(names))})")
    if since is not None and until is not None and since >= until:
        raise BadUserInput(f"from ({since.isoformat()}) must be before to ({until.isoformat()})")


def _utc(moment: datetime) -> datetime:
    """Naive datetimes are UTC (as the store's are); aware ones are converted to it."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc_bound(moment: datetime | None, argument: str) -> datetime | None:
    """A range bound in UTC, so a naive and an aware bound compare; one that UTC cannot
    hold (an offset moment at the edge of year 1 or 9999) is refused."""
    if moment is None:
        return None
    try:
        return _utc(moment)
    except (OverflowError, ValueError):
        raise BadUserInput(f"{argument} ({moment.isoformat()}) is outside the range a time "
                           "can have in UTC") from None


def _epoch_ms(moment: datetime) -> int:
    return math.floor(moment.timestamp() * 1000)


def _moment(epoch_ms: float) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=epoch_ms)


async def series_in_range(
    project: str, names: Sequence[str] | None, since: datetime | None,
    until: datetime | None, points: int,
) -> SeriesRange:
    """A project's metrics over [since, until), at most `points` buckets each.

    `since` defaults to the first value, `until` to just after the last one. With `names`,
    one series per distinct name in the given order (empty when the name has no values);
    without, every metric with values in the range, by name, at most MAX_NAMES of them.
    """
    since, until = _utc_bound(since, "from"), _utc_bound(until, "to")
    check_request(names, since, until, points)
    wanted = list(dict.fromkeys(names)) if names is not None else None
    found = await Project.get_or_none(slug=project.strip().lower()) if (
        not unstorable(project)
    ) else None
    storable_names = [n for n in wanted if not unstorable(n)] if wanted is not None else None
    if found is None or storable_names == []:
        return SeriesRange(since, until, 0, [Series(name) for name in wanted or ()])
    rows = QualityMetric.filter(project_id=found.id)
    if storable_names is not None:
        rows = rows.filter(name__in=storable_names)
    if since is None:
        since = await _edge(rows.filter(timestamp__lt=until) if until else rows, "timestamp")
    if until is None:
        newest = await _edge(rows.filter(timestamp__gte=since) if since else rows, "-timestamp")
        until = newest + timedelta(milliseconds=1) if newest else None
    if since is None or until is None or since >= until:
        return SeriesRange(since, until, 0, [Series(name) for name in wanted or ()])
    if storable_names is None:
        # Every metric: name them first, so a project with hundreds is refused before any
        # of them is bucketed.
        storable_names = await _names_in_range(rows, since, until)
        if not storable_names:
            return SeriesRange(since, until, 0, [])
    from_ms = _epoch_ms(since)
    width = max(1, -(-(_epoch_ms(until) - from_ms) // points))  # ceil: at most `points`
    grouped = await _bucket_rows(found.id, storable_names, since, until, from_ms, width,
                                 last=-(-(_epoch_ms(until) - from_ms) // width) - 1)
    if wanted is None:
        wanted = storable_names
    return SeriesRange(since, until, width,
                       [Series(name, grouped.get(name, [])) for name in wanted])


async def _names_in_range(rows: Any, since: datetime, until: datetime) -> list[str]:
    """The names of the metrics with values in [since, until), by name; BAD_USER_INPUT
    when there are more than MAX_NAMES (reads at most one more than that)."""
    names = await (rows.filter(timestamp__gte=since, timestamp__lt=until).distinct()
                   .order_by("name").limit(MAX_NAMES + 1).values_list("name", flat=True))
    if len(names) > MAX_NAMES:
        raise BadUserInput(f"the project has more than {MAX_NAMES} metrics in this range; "
                           f"list at most {MAX_NAMES} of them in names")
    return list(names)


async def _edge(rows: Any, order: str) -> datetime | None:
    """The first (`timestamp`) or last (`-timestamp`) time among `rows`, if any."""
    found = await rows.order_by(order).first().values_list("timestamp", flat=True)
    return _utc(found) if found is not None else None


async def _bucket_rows(
    project_id: int, names: list[str] | None, since: datetime, until: datetime,
    from_ms: int, width: int, last: int,
) -> dict[str, list[Bucket]]:
    connection = connections.get("default")
    kind = dialect(connection)
    parameters: list[Any] = [project_id, since, until, *(names or ())]
    marks = ([f"${i}" for i in range(1, len(parameters) + 1)] if kind == "postgres"
             else ["?"] * len(parameters))
    name_filter = f" AND name IN ({', '.join(marks[3:])})" if names else ""
    sql = _BUCKETS.format(from_ms=int(from_ms), width=int(width), last=int(last),
                          last_start=int(last) * int(width),
                          epoch_ms=_EPOCH_MS[kind],
                          project=marks[0], since=marks[1], until=marks[2], names=name_filter)
    grouped: dict[str, list[Bucket]] = {}
    for row in await connection.execute_query_dict(sql, parameters):
        start_ms = from_ms + int(row["bucket"]) * width
        grouped.setdefault(row["name"], []).append(Bucket(
            start=_moment(start_ms), end=_moment(start_ms + width),
            timestamp=_moment(float(row["mean_t"])), low=float(row["low"]),
            high=float(row["high"]), mean=float(row["mean"]), last=float(row["last"]),
            count=int(row["count"]),
        ))
    return grouped

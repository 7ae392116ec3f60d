"""The catalogue's reads: listing with ranked search, one plugin's versions, executions.

Search is ranked in Python over the rows SQL selects (every term must occur in the
version's lower-cased `search_text` of id, name, description and tags, a plain `LIKE` that
SQLite and PostgreSQL run alike), at most SEARCH_CANDIDATES of them, so the ranking is
exact whenever a query matches fewer plugins than that, and the answer says when it did
not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tortoise.functions import Max

from arcos.plugins.manifest import semver_key
from arcos.plugins.models import (
    LARGE_EXECUTION_VALUES,
    ExecutionStatus,
    PluginExecution,
    PluginPanel,
    PluginVersion,
    VersionState,
)

#: The most catalogue rows one search ranks.
SEARCH_CANDIDATES = 500
#: At most this many words of a search query are used.
MAX_TERMS = 8
_TERM = re.compile(r"\w+(?:[.\-]\w+)*")


@dataclass(frozen=True)
class PluginQuery:
    kind: str | None = None
    search: str | None = None
    author: str | None = None

    def terms(self) -> list[str]:
        return [term.lower() for term in _TERM.findall(self.search or "")][:MAX_TERMS]


@dataclass(frozen=True)
class PluginPage:
    rows: list[PluginVersion]
    has_next: bool
    total: int
    #: Whether the search matched more rows than were ranked (refine it to see the rest).
    truncated: bool = False


async def page_plugins(query: PluginQuery, first: int, offset: int) -> PluginPage:
    """One page of the catalogue (each plugin's latest version), ranked when searching,
    by id otherwise."""
    queryset = PluginVersion.filter(is_latest=True, removed_at=None)
    if query.kind is not None:
        queryset = queryset.filter(kind=query.kind)
    if query.author is not None:
        queryset = queryset.filter(author__iexact=query.author)
    terms = query.terms()
    if not terms:
        total = await queryset.count()
        rows = await queryset.order_by("plugin_id").offset(offset).limit(first + 1)
        return PluginPage(list(rows[:first]), len(rows) > first, total)
    for term in terms:
        queryset = queryset.filter(search_text__contains=term)
    candidates = await queryset.order_by("plugin_id").limit(SEARCH_CANDIDATES + 1)
    truncated = len(candidates) > SEARCH_CANDIDATES
    ranked = sorted(candidates[:SEARCH_CANDIDATES],
                    key=lambda row: (-score(row, terms), row.plugin_id))
    page = ranked[offset:offset + first + 1]
    return PluginPage(page[:first], len(page) > first, len(ranked), truncated)


def score(row: PluginVersion, terms: list[str]) -> int:
    """How well `row` matches: an exact id or tag beats a word in the name, which beats
    one in the description."""
    plugin_id, name = row.plugin_id.lower(), row.name.lower()
    description = row.description.lower()
    tags = [str(tag).lower() for tag in row.tags or []]
    total = 0
    for term in terms:
        if term == plugin_id or term in plugin_id.split("."):
            total += 8
        elif term in plugin_id:
            total += 4
        total += 3 if term in name.split() else 2 if term in name else 0
        total += 3 if term in tags else 1 if any(term in tag for tag in tags) else 0
        total += 1 if term in description else 0
    return total


async def shown_version(plugin_id: str) -> PluginVersion | None:
    """The version `plugin(id)` describes a plugin by: the catalogue's (highest
    non-revoked) one, or, when every version is revoked, the highest, so a revoked plugin
    can still be looked up and seen to be revoked."""
    rows = await PluginVersion.filter(plugin_id=plugin_id, removed_at=None)
    latest = next((row for row in rows if row.is_latest), None)
    return latest or max(rows, key=lambda row: semver_key(row.version), default=None)


async def versions_of(plugin_ids: list[str]) -> list[PluginVersion]:
    """Every catalogue version of these plugins, oldest registration first."""
    return list(await PluginVersion.filter(plugin_id__in=plugin_ids, removed_at=None)
                .order_by("id"))


async def find_version(plugin_id: str, version: str | None) -> PluginVersion | None:
    """The version a caller names; without one, the newest ACTIVE version (a newer one
    waiting for approval does not stop callers of the approved one)."""
    queryset = PluginVersion.filter(plugin_id=plugin_id, removed_at=None)
    if version is not None:
        return await queryset.filter(version=version).first()
    active = await queryset.filter(state=VersionState.ACTIVE)
    return max(active, key=lambda row: semver_key(row.version), default=None)


@dataclass(frozen=True)
class ExecutionQuery:
    plugin_id: str | None = None
    status: ExecutionStatus | None = None


async def page_executions(
    query: ExecutionQuery, first: int, before_id: int | None
) -> tuple[list[PluginExecution], bool]:
    """Executions newest first, keyset on the primary key; their results are left
    unread (a response reads only those it shows, see ExecutionResultById)."""
    queryset = PluginExecution.all()
    if query.plugin_id is not None:
        queryset = queryset.filter(plugin_id=query.plugin_id)
    if query.status is not None:
        queryset = queryset.filter(status=query.status)
    if before_id is not None:
        queryset = queryset.filter(id__lt=before_id)
    columns = [name for name in PluginExecution._meta.fields_db_projection
               if name not in LARGE_EXECUTION_VALUES]
    rows = await queryset.only(*columns).order_by("-id").limit(first + 1)
    return list(rows[:first]), len(rows) > first


async def execution_results(ids: list[int]) -> dict[int, Any]:
    """The stored `result` of each execution id (one query, for the DataLoader)."""
    rows = await PluginExecution.filter(id__in=ids).values_list("id", "result")
    return dict(rows)


#: The most panels `pluginPanels` answers with: one per visualization plugin.
MAX_PANELS = 20


@dataclass(frozen=True)
class ShownPanel:
    """A project's latest panel from one plugin, with the name its version was registered
    under (None when no catalogue row names it)."""

    row: PluginPanel
    plugin_name: str | None


async def latest_panels(project: str, limit: int) -> list[ShownPanel]:
    """The newest panel of each plugin that drew one for `project`, newest first, at most
    `limit`, leaving out versions revoked since (a revoked plugin's panel is not vouched
    for any more). A version keeps one panel per project (a new one replaces it:
    arcos/plugins/outputs.py), so the grouped query reads one row per plugin version that
    drew for the project; a second reads the chosen rows and a third names them."""
    newest = await (PluginPanel.filter(project=project).annotate(last=Max("id"))
                    .group_by("plugin_id", "version")
                    .values_list("plugin_id", "version", "last"))
    if not newest:
        return []
    versions = await PluginVersion.filter(
        plugin_id__in=sorted({plugin_id for plugin_id, _, _ in newest})).values_list(
        "plugin_id", "version", "name", "state")
    catalogue = {(plugin_id, version): (name, state)
                 for plugin_id, version, name, state in versions}
    per_plugin: dict[str, int] = {}
    for plugin_id, version, last in newest:
        if catalogue.get((plugin_id, version), (None, None))[1] == VersionState.REVOKED:
            continue
        per_plugin[plugin_id] = max(per_plugin.get(plugin_id, 0), int(last))
    ids = sorted(per_plugin.values(), reverse=True)[:limit]
    if not ids:
        return []
    rows = await PluginPanel.filter(id__in=ids).order_by("-id")
    return [ShownPanel(row, catalogue.get((row.plugin_id, row.version), (None, None))[0])
            for row in rows]

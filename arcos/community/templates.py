"""Industry and compliance templates: the built-ins from the content modules and the custom
ones people share, added, edited by their owners and read (visibility enforced) here.

The two kinds differ only in what a `Kind` names (their model, built-ins, checking and
columns); adding, editing, paging and finding are written once for both. What a valid
template is lives in templates_input.py; an added or edited one is refused with every
problem at once and nothing is stored. Reads put the built-ins first (they are visible to
every community reader), then the custom templates the caller may read, oldest first.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from arcos.auth.caller import Caller
from arcos.community import compliance_content, industry_content
from arcos.community.compliance_content import Framework
from arcos.community.gsn import parse_argument
from arcos.community.industry_content import Industry, Standard
from arcos.community.library_items import changeable_item
from arcos.community.scopes import COMMUNITY_READ
from arcos.community.scrub import Scrubber, scrubber
from arcos.community.sharing import SharedItem, Visibility, may_change, readable
from arcos.community.templates_input import (
    KEY,
    ComplianceDraft,
    IndustryDraft,
    controls_json,
    framework_draft,
    industry_draft,
    parse_controls,
    prepared_framework,
    prepared_industry,
)
from arcos.community.templates_models import ComplianceTemplate, IndustryTemplate
from arcos.problems import NotFound, Problem, ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext

Content = TypeVar("Content", Industry, Framework)
Draft = TypeVar("Draft", IndustryDraft, ComplianceDraft)


@dataclass(frozen=True)
class Template(Generic[Content]):
    """A template as readers see it: its content, and its row when it is a custom one."""

    content: Content
    row: SharedItem | None = None

    @property
    def built_in(self) -> bool:
        return self.row is None


@dataclass(frozen=True)
class Sharing:
    visibility: Visibility
    anonymize: bool


@dataclass(frozen=True)
class Kind(Generic[Content, Draft]):
    """What tells industry templates from compliance templates; nothing else does."""

    #: How refusals name it ("industry template").
    what: str
    model: type[SharedItem]
    built_ins: Mapping[str, Content]
    #: Checked (and scrubbed when anonymised), or Refused.
    prepared: Callable[[Draft, bool, Scrubber], Content]
    #: The model columns a checked template sets.
    columns: Callable[[Content], dict[str, Any]]
    #: A stored (already checked) row as content.
    content_of: Callable[[Any], Content]
    #: Content as the draft an edit starts from.
    draft_of: Callable[[Content], Draft]


# ── reading rows ─────────────────────────────────────────────────────────────────────


def industry_of(row: IndustryTemplate) -> Industry:
    """A stored (already checked) template as an Industry."""
    problems: list[Problem] = []
    nodes = parse_argument(row.argument, "argument", problems)
    return Industry(
        row.key, row.name, row.description,
        tuple(Standard(str(s.get("name")), str(s.get("note") or "")) for s in row.standards),
        tuple(str(line) for line in row.requirements), tuple(nodes),
        tuple(str(key) for key in row.frameworks or ()))


def framework_of(row: ComplianceTemplate) -> Framework:
    """A stored (already checked) template as a Framework."""
    problems: list[Problem] = []
    return Framework(row.key, row.name, row.version, row.description, parse_controls(
        row.controls, problems))


def _industry_columns(industry: Industry) -> dict[str, Any]:
    return {"key": industry.key, "name": industry.name, "description": industry.description,
            "standards": [{"name": s.name, "note": s.note} for s in industry.standards],
            "requirements": list(industry.requirements),
            "argument": [node.to_json() for node in industry.argument],
            "frameworks": list(industry.frameworks)}


def _framework_columns(framework: Framework) -> dict[str, Any]:
    return {"key": framework.key, "name": framework.name, "version": framework.version,
            "description": framework.description,
            "controls": controls_json(framework.controls)}


INDUSTRY: Kind[Industry, IndustryDraft] = Kind(
    "industry template", IndustryTemplate, industry_content.BY_KEY, prepared_industry,
    _industry_columns, industry_of, industry_draft)
COMPLIANCE: Kind[Framework, ComplianceDraft] = Kind(
    "compliance template", ComplianceTemplate, compliance_content.BY_KEY, prepared_framework,
    _framework_columns, framework_of, framework_draft)


# ── writing ──────────────────────────────────────────────────────────────────────────


def _taken(key: Any, whose: str) -> Any:
    async def refuse(_: Exception) -> Any:
        raise Refused.one("key", f"{whose} a template with key {key}; choose another key",
                          ProblemCode.CONFLICT)
    return refuse


async def add(kind: Kind[Content, Draft], draft: Draft, sharing: Sharing,
              write: WriteContext) -> Template[Content]:
    """Check and store a custom template (scrubbed first when anonymised)."""
    content = await asyncio.to_thread(kind.prepared, draft, sharing.anonymize,
                                      scrubber(write.settings))

    async def work(unit: UnitOfWork) -> Template[Content]:
        row = await kind.model.create(
            **kind.columns(content), owner=write.principal, visibility=sharing.visibility,
            anonymized=sharing.anonymize, created_at=unit.now, updated_at=unit.now,
            using_db=unit.connection)
        return Template(content, row)

    return await write.writer.run(work, retries=0,
                                  on_conflict=_taken(content.key, "you already have"))


def _editable_uid(kind: Kind[Content, Draft], handle: str) -> uuid.UUID:
    """The uid behind a template's handle; a built-in's key is refused (they are the
    server's, served from its content modules, and change only with a release)."""
    if handle in kind.built_ins:
        raise Refused.one("id", f"{handle} is a built-in {kind.what} and cannot be edited; "
                          "add your own (with another key) to change it", ProblemCode.INVALID)
    try:
        return uuid.UUID(handle)
    except ValueError:
        raise Refused.one("id", f"no {kind.what} with id {handle:.80}",
                          ProblemCode.NOT_FOUND) from None


async def update(kind: Kind[Content, Draft], handle: str, changes: Mapping[str, Any], *,
                 visibility: Visibility | None, caller: Caller,
                 write: WriteContext) -> Template[Content]:
    """Replace the fields in `changes` (draft field names) of a template the caller owns
    (admins: any) and check the result exactly as an added one; an anonymised template's
    text is scrubbed again.

    The merged template is checked and scrubbed from the row as read before the write
    starts, so the store's write lock is not held for that CPU work; only when another
    edit changed the row meanwhile is it done again under the lock."""
    uid = _editable_uid(kind, handle)
    scrub = scrubber(write.settings)

    async def prepared(row: Any) -> Content:
        draft = replace(kind.draft_of(kind.content_of(row)), **changes)
        return await asyncio.to_thread(kind.prepared, draft, row.anonymized, scrub)

    seen = await kind.model.filter(readable(caller), uid=uid).first()
    early = await prepared(seen) if seen is not None and may_change(seen, caller) else None

    async def work(unit: UnitOfWork) -> Template[Content]:
        row = await changeable_item(kind.model, uid, caller, unit, kind.what)
        if early is not None and seen is not None and row.updated_at == seen.updated_at:
            content = early
        else:
            content = await prepared(row)
        columns = kind.columns(content)
        if visibility is not None:
            columns["visibility"] = visibility
        row.update_from_dict({**columns, "updated_at": unit.now})
        await row.save(using_db=unit.connection)
        return Template(content, row)

    return await write.writer.run(work, retries=0, on_conflict=_taken(
        changes.get("key"), "its owner already has"))


# ── reading ──────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Page(Generic[Content]):
    templates: list[Template[Content]]
    total: int
    has_next: bool


def _visible_built_ins(caller: Caller, items: Sequence[Content]) -> list[Content]:
    """Built-ins are public: every reader of the community sees them."""
    return list(items) if caller.may(COMMUNITY_READ) else []


async def page(kind: Kind[Content, Any], caller: Caller, first: int,
               offset: int) -> Page[Content]:
    """`first` templates from `offset`: the built-ins, then the readable custom ones."""
    shown = _visible_built_ins(caller, list(kind.built_ins.values()))
    customs = kind.model.filter(readable(caller))
    total = len(shown) + await customs.count()
    found: list[Template[Content]] = [Template(item) for item in shown[offset:offset + first]]
    remaining = first - len(found)
    if remaining > 0:
        start = max(0, offset - len(shown))
        rows = await customs.order_by("id").offset(start).limit(remaining)
        found += [Template(kind.content_of(row), row) for row in rows]
    return Page(found, total, offset + len(found) < total)


async def find(kind: Kind[Content, Any], caller: Caller, key: str | None = None,
               uid: str | None = None) -> Template[Content] | None:
    """A built-in by key, one of the caller's own by key, or any readable one by uid."""
    if key is not None and key in kind.built_ins:
        return Template(kind.built_ins[key]) if caller.may(COMMUNITY_READ) else None
    if key is not None and not KEY.match(key):
        return None  # no template has such a key; the store is not asked
    query = kind.model.filter(readable(caller))
    if uid is not None:
        try:
            query = query.filter(uid=uuid.UUID(uid))
        except ValueError:
            return None
    elif key is not None and caller.authenticated:
        query = query.filter(key=key, owner=caller.name)
    else:
        return None
    row = await query.first()
    return Template(kind.content_of(row), row) if row is not None else None


async def by_handles(kind: Kind[Content, Any], caller: Caller,
                     handles: Sequence[str]) -> list[Template[Content] | None]:
    """node(id): each handle's template (a built-in's key or a custom one's uid), None
    where there is none the caller may read."""
    wanted = []
    for raw in handles:
        try:
            wanted.append(uuid.UUID(raw))
        except ValueError:
            continue
    rows = {str(row.uid): row for row in await kind.model.filter(
        readable(caller), uid__in=wanted)} if wanted else {}
    found: list[Template[Content] | None] = []
    for handle in handles:
        if handle in kind.built_ins:
            found.append(Template(kind.built_ins[handle]))
        elif handle in rows:
            found.append(Template(kind.content_of(rows[handle]), rows[handle]))
        else:
            found.append(None)
    return found


def framework_required(found: Template[Framework] | None, reference: str) -> Framework:
    if found is None:
        built_ins = ", ".join(compliance_content.BY_KEY)
        raise NotFound(f"no compliance framework {reference!r:.80} you may read; built-in: "
                       f"{built_ins}, or the key of one of yours, or a template's id")
    return found.content

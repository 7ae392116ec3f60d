"""Industry and compliance templates: the built-ins from the content modules and the custom
ones people share, added (validated, scrubbed when anonymised) and read (visibility
enforced) here.

A custom template is refused with every problem at once, each naming its input field
(`argument.3.supportedBy`, `controls.2.checks.0.expression`), and nothing is stored.
Reads put the built-ins first (they are visible to every community reader), then the
custom templates the caller may read, oldest first.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from arcos.auth.caller import Caller
from arcos.auth.scopes import Scope
from arcos.community import compliance_content, industry_content
from arcos.community.checks import checks_json, parse_checks
from arcos.community.compliance_content import Control, Framework
from arcos.community.gsn import Node, check_argument, parse_argument
from arcos.community.industry_content import Industry, Standard
from arcos.community.scrub import Scrubber, scrubber
from arcos.community.scrubbed_bounds import refuse_grown
from arcos.community.sharing import SharedItem, Visibility, readable
from arcos.community.templates_models import (
    MAX_KEY_LENGTH,
    ComplianceTemplate,
    IndustryTemplate,
)
from arcos.problems import NotFound, Problem, ProblemCode, Refused
from arcos.storable import unstorable
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext

KEY = re.compile(r"^[a-z][a-z0-9-]*$")
MAX_NAME = 255
MAX_DESCRIPTION = 5000
MAX_LINE = 1000
MAX_LIST = 100
MAX_CONTROLS = 500
MAX_CONTROL_ID = 64
MAX_CHECKS = 20
#: Distinct evidence types and metrics one compliance template's checks may name, so
#: evaluating it reads a bounded set.
MAX_NAMED = 200

Content = TypeVar("Content", Industry, Framework)


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
class IndustryDraft:
    key: Any
    name: Any
    description: Any
    #: [(name, note)]
    standards: Sequence[tuple[Any, Any]]
    requirements: Sequence[Any]
    argument: Any
    frameworks: Sequence[Any] = ()


@dataclass(frozen=True)
class ComplianceDraft:
    key: Any
    name: Any
    version: Any
    description: Any
    controls: Any


# ── checking ─────────────────────────────────────────────────────────────────────────


def _text(value: Any, field: str, limit: int, problems: list[Problem],
          required: bool = True) -> str:
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()) \
            or unstorable(value):
        problems.append(Problem(field, f"{field.rsplit('.', 1)[-1]} must be "
                                f"{'1' if required else '0'}-{limit} characters of text "
                                "(no NUL characters)", ProblemCode.INVALID))
        return ""
    return value.strip()


def _key(value: Any, built_ins: Sequence[str], problems: list[Problem]) -> str:
    if not isinstance(value, str) or not 2 <= len(value) <= MAX_KEY_LENGTH or not KEY.match(
            value):
        problems.append(Problem("key", f"key must be 2-{MAX_KEY_LENGTH} lower-case letters, "
                                "digits and '-', starting with a letter (e.g. acme-bank)",
                                ProblemCode.INVALID))
        return ""
    if value in built_ins:
        problems.append(Problem("key", f"{value} is a built-in template's key; choose another",
                                ProblemCode.CONFLICT))
    return value


def _lines(values: Sequence[Any], field: str, problems: list[Problem]) -> tuple[str, ...]:
    if len(values) > MAX_LIST:
        problems.append(Problem(field, f"at most {MAX_LIST} entries", ProblemCode.TOO_LARGE))
        return ()
    return tuple(_text(value, f"{field}.{index}", MAX_LINE, problems)
                 for index, value in enumerate(values))


def check_industry(draft: IndustryDraft) -> Industry:
    """The draft as an Industry, or Refused listing every problem (GSN rules included)."""
    problems: list[Problem] = []
    key = _key(draft.key, list(industry_content.BY_KEY), problems)
    name = _text(draft.name, "name", MAX_NAME, problems)
    description = _text(draft.description, "description", MAX_DESCRIPTION, problems,
                        required=False)
    if len(draft.standards) > MAX_LIST:
        problems.append(Problem("standards", f"at most {MAX_LIST} standards",
                                ProblemCode.TOO_LARGE))
    standards = tuple(
        Standard(_text(s_name, f"standards.{i}.name", MAX_NAME, problems),
                 _text(note, f"standards.{i}.note", MAX_LINE, problems, required=False))
        for i, (s_name, note) in enumerate(draft.standards[:MAX_LIST]))
    requirements = _lines(draft.requirements, "requirements", problems)
    frameworks = tuple(dict.fromkeys(draft.frameworks))
    unknown = [f for f in frameworks if f not in compliance_content.BY_KEY]
    if unknown:
        problems.append(Problem("frameworks", f"{unknown[0]!r:.40} is not a built-in compliance "
                                f"framework; use {', '.join(compliance_content.BY_KEY)}",
                                ProblemCode.INVALID))
    shape: list[Problem] = []
    nodes = parse_argument(draft.argument, "argument", shape)
    problems += shape or check_argument(nodes, "argument").problems
    if problems:
        raise Refused(problems)
    return Industry(key, name, description, standards, requirements, tuple(nodes), frameworks)


def check_framework(draft: ComplianceDraft) -> Framework:
    """The draft as a Framework, or Refused listing every problem."""
    problems: list[Problem] = []
    key = _key(draft.key, list(compliance_content.BY_KEY), problems)
    name = _text(draft.name, "name", MAX_NAME, problems)
    version = _text(draft.version, "version", MAX_NAME, problems, required=False)
    description = _text(draft.description, "description", MAX_DESCRIPTION, problems,
                        required=False)
    controls = _controls(draft.controls, problems)
    names = {name for c in controls for check in c.checks
             for name in (*check.types, *((check.metric,) if check.metric else ()))}
    if len(names) > MAX_NAMED:
        problems.append(Problem("controls", f"the checks name {len(names)} evidence types and "
                                f"metrics; at most {MAX_NAMED} distinct ones",
                                ProblemCode.TOO_LARGE))
    if problems:
        raise Refused(problems)
    return Framework(key, name, version, description, controls)


def _controls(raw: Any, problems: list[Problem]) -> tuple[Control, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(Problem("controls", 'give a non-empty list of controls, each {"id", '
                                '"title", "checklist", "checks": […]}', ProblemCode.INVALID))
        return ()
    if len(raw) > MAX_CONTROLS:
        problems.append(Problem("controls", f"at most {MAX_CONTROLS} controls (got {len(raw)})",
                                ProblemCode.TOO_LARGE))
        return ()
    controls: list[Control] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        field = f"controls.{index}"
        if not isinstance(item, dict):
            problems.append(Problem(field, "a control is a JSON object", ProblemCode.INVALID))
            continue
        for extra in sorted(set(item) - {"id", "title", "checklist", "checks"}):
            problems.append(Problem(f"{field}.{extra:.40}", "a control has only id, title, "
                                    "checklist and checks", ProblemCode.INVALID))
        control_id = _text(item.get("id"), f"{field}.id", MAX_CONTROL_ID, problems)
        if control_id in seen:
            problems.append(Problem(f"{field}.id", f"{control_id} is also control "
                                    f"{seen[control_id]}; give each control its own id",
                                    ProblemCode.CONFLICT))
        elif control_id:
            seen[control_id] = index
        title = _text(item.get("title"), f"{field}.title", MAX_LINE, problems)
        checklist = _text(item.get("checklist"), f"{field}.checklist", MAX_LINE * 2, problems)
        raw_checks = item.get("checks")
        if isinstance(raw_checks, list) and len(raw_checks) > MAX_CHECKS:
            problems.append(Problem(f"{field}.checks", f"at most {MAX_CHECKS} checks per "
                                    "control", ProblemCode.TOO_LARGE))
            continue
        checks = parse_checks(raw_checks, f"{field}.checks", problems)
        controls.append(Control(control_id, title, (), checks, checklist))
    return tuple(controls)


# ── writing ──────────────────────────────────────────────────────────────────────────


def _identifiers_kept(identifiers: Sequence[tuple[str, str]], scrub: Scrubber) -> None:
    """Identifiers (keys, node ids) are stored as given, even when shared
    anonymised: refuse those the scrubber would redact rather than store a name."""
    problems = [Problem(field, f"{value!r:.80} names something anonymised sharing redacts; "
                        "choose a neutral identifier", ProblemCode.INVALID)
                for field, value in identifiers if scrub.text(value) != value]
    if problems:
        raise Refused(problems)


def _scrubbed_industry(industry: Industry, scrub: Scrubber) -> Industry:
    _identifiers_kept([("key", industry.key), *((f"argument.{i}.id", node.id)
                                                for i, node in enumerate(industry.argument))],
                      scrub)
    return Industry(
        industry.key, scrub.text(industry.name), scrub.text(industry.description),
        tuple(Standard(scrub.text(s.name), scrub.text(s.note)) for s in industry.standards),
        tuple(scrub.text(line) for line in industry.requirements),
        tuple(Node(n.id, n.type, scrub.text(n.text), n.supported_by, n.in_context_of,
                   n.undeveloped, n.evidence_types) for n in industry.argument),
        industry.frameworks,
    )


def _scrubbed_framework(framework: Framework, scrub: Scrubber) -> Framework:
    # Control ids are the framework's own (6.2.3.1 would look like an address): kept.
    _identifiers_kept([("key", framework.key)], scrub)
    return Framework(
        framework.key, scrub.text(framework.name), scrub.text(framework.version),
        scrub.text(framework.description),
        tuple(Control(c.id, scrub.text(c.title), c.codes, c.checks, scrub.text(c.checklist))
              for c in framework.controls),
    )


def _taken(key: str) -> Any:
    async def refuse(_: Exception) -> Any:
        raise Refused.one("key", f"you already have a template with key {key}; choose another "
                          "key", ProblemCode.CONFLICT)
    return refuse


async def add_industry(draft: IndustryDraft, sharing: Sharing,
                       write: WriteContext) -> Template[Industry]:
    """Check and store a custom industry template (scrubbed first when anonymised)."""
    industry = check_industry(draft)
    if sharing.anonymize:
        industry = _scrubbed_industry(industry, scrubber(write.settings))
        refuse_grown([("name", industry.name, MAX_NAME)])

    async def work(unit: UnitOfWork) -> Template[Industry]:
        row = await IndustryTemplate.create(
            key=industry.key, name=industry.name, description=industry.description,
            standards=[{"name": s.name, "note": s.note} for s in industry.standards],
            requirements=list(industry.requirements),
            argument=[node.to_json() for node in industry.argument],
            frameworks=list(industry.frameworks),
            owner=write.principal, visibility=sharing.visibility,
            anonymized=sharing.anonymize, created_at=unit.now, updated_at=unit.now,
            using_db=unit.connection)
        return Template(industry, row)

    return await write.writer.run(work, retries=0, on_conflict=_taken(industry.key))


async def add_framework(draft: ComplianceDraft, sharing: Sharing,
                        write: WriteContext) -> Template[Framework]:
    """Check and store a custom compliance template (scrubbed first when anonymised)."""
    framework = check_framework(draft)
    if sharing.anonymize:
        framework = _scrubbed_framework(framework, scrubber(write.settings))
        refuse_grown([("name", framework.name, MAX_NAME), ("version", framework.version,
                                                          MAX_NAME)])

    async def work(unit: UnitOfWork) -> Template[Framework]:
        row = await ComplianceTemplate.create(
            key=framework.key, name=framework.name, version=framework.version,
            description=framework.description, controls=controls_json(framework.controls),
            owner=write.principal, visibility=sharing.visibility,
            anonymized=sharing.anonymize, created_at=unit.now, updated_at=unit.now,
            using_db=unit.connection)
        return Template(framework, row)

    return await write.writer.run(work, retries=0, on_conflict=_taken(framework.key))


def controls_json(controls: Sequence[Control]) -> list[dict[str, Any]]:
    return [{"id": c.id, "title": c.title, "checklist": c.checklist,
             "checks": checks_json(c.checks)} for c in controls]


# ── reading ──────────────────────────────────────────────────────────────────────────


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
    return Framework(row.key, row.name, row.version, row.description, _controls(
        row.controls, problems))


@dataclass(frozen=True)
class Page(Generic[Content]):
    templates: list[Template[Content]]
    total: int
    has_next: bool


def _visible_built_ins(caller: Caller, items: Sequence[Content]) -> list[Content]:
    """Built-ins are public: every reader of the community sees them."""
    return list(items) if caller.may(Scope.COMMUNITY_READ) else []


async def _page(model: type[SharedItem], built_ins: Sequence[Content], convert: Any,
                caller: Caller, first: int, offset: int) -> Page[Content]:
    shown = _visible_built_ins(caller, built_ins)
    customs = model.filter(readable(caller))
    total = len(shown) + await customs.count()
    page: list[Template[Content]] = [Template(item) for item in shown[offset:offset + first]]
    remaining = first - len(page)
    if remaining > 0:
        start = max(0, offset - len(shown))
        rows = await customs.order_by("id").offset(start).limit(remaining)
        page += [Template(convert(row), row) for row in rows]
    return Page(page, total, offset + len(page) < total)


async def industries(caller: Caller, first: int, offset: int) -> Page[Industry]:
    return await _page(IndustryTemplate, industry_content.INDUSTRIES, industry_of, caller,
                       first, offset)


async def frameworks(caller: Caller, first: int, offset: int) -> Page[Framework]:
    return await _page(ComplianceTemplate, compliance_content.FRAMEWORKS, framework_of,
                       caller, first, offset)


async def _find(model: type[SharedItem], built_ins: dict[str, Content], convert: Any,
                caller: Caller, key: str | None, uid: str | None) -> Template[Content] | None:
    if key is not None and key in built_ins:
        return Template(built_ins[key]) if caller.may(Scope.COMMUNITY_READ) else None
    if key is not None and not KEY.match(key):
        return None  # no template has such a key; the store is not asked
    query = model.filter(readable(caller))
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
    return Template(convert(row), row) if row is not None else None


async def find_industry(caller: Caller, key: str | None = None,
                        uid: str | None = None) -> Template[Industry] | None:
    """A built-in by key, one of the caller's own by key, or any readable one by uid."""
    return await _find(IndustryTemplate, industry_content.BY_KEY, industry_of, caller, key, uid)


async def find_framework(caller: Caller, key: str | None = None,
                         uid: str | None = None) -> Template[Framework] | None:
    return await _find(ComplianceTemplate, compliance_content.BY_KEY, framework_of, caller,
                       key, uid)


async def readable_rows(model: type[SharedItem], caller: Caller,
                        uids: Sequence[str]) -> dict[str, SharedItem]:
    """node(id): the rows among `uids` the caller may read, by uid text."""
    wanted = []
    for raw in uids:
        try:
            wanted.append(uuid.UUID(raw))
        except ValueError:
            continue
    if not wanted:
        return {}
    return {str(row.uid): row for row in await model.filter(readable(caller), uid__in=wanted)}


def framework_required(found: Template[Framework] | None, reference: str) -> Framework:
    if found is None:
        built_ins = ", ".join(compliance_content.BY_KEY)
        raise NotFound(f"no compliance framework {reference!r:.80} you may read; built-in: "
                       f"{built_ins}, or the key of one of yours, or a template's id")
    return found.content

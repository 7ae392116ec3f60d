"""Assurance cases: create, edit (each edit a new version), read and check them.

A case is checked on every edit: its Solutions' `arcos:` rules are parsed
(arcos/assurance/rules.py), its Away Goals resolved against the public goals of the cases
they name, and the GSN rules applied (arcos/community/gsn.py). A hard violation refuses
the edit with every violation named; an incomplete argument is stored with its status
saying INCOMPLETE."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q

from arcos.assurance import document as codec
from arcos.assurance.document import CaseDocument
from arcos.assurance.events import case_edited_message
from arcos.assurance.models import AssuranceCase, AssuranceCaseVersion
from arcos.assurance.rules import parse_rule, rule_to_json
from arcos.community.gsn import (
    Checked,
    Module,
    Node,
    NodeType,
    check_argument,
    parse_argument,
)
from arcos.community.patterns import project_slug
from arcos.problems import Problem, ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext
from arcos.web.parse_pool import ParsePool

#: YAML longer than this is parsed in the parse pool's threads, not on the event loop: a
#: reader's validateCase of a few hundred KiB would otherwise stall every other request.
INLINE_YAML_BYTES = 8 * 1024

MAX_CASES_LISTED = 200


class Wellformedness(StrEnum):
    WELL_FORMED = "WELL_FORMED"
    #: Breaks no hard rule, but has unsupported or undeveloped goals or strategies.
    INCOMPLETE = "INCOMPLETE"
    #: Breaks a hard rule (only ever a validation answer: such a case is not stored).
    ILL_FORMED = "ILL_FORMED"


@dataclass(frozen=True)
class CaseDocumentInput:
    """A document as a caller sends it: gsn2x YAML text or the JSON form (one of them)."""

    yaml: str | None = None
    json: Any = None
    title: str | None = None


@dataclass(frozen=True)
class Validation:
    document: CaseDocument
    checked: Checked

    @property
    def wellformedness(self) -> Wellformedness:
        if self.checked.errors:
            return Wellformedness.ILL_FORMED
        return Wellformedness.WELL_FORMED if self.checked.complete else \
            Wellformedness.INCOMPLETE


@dataclass(frozen=True)
class CaseView:
    """A stored case at one of its versions, checked again as it reads now."""

    case: AssuranceCase
    version: AssuranceCaseVersion
    validation: Validation

    @property
    def document(self) -> CaseDocument:
        return self.validation.document


def _from_yaml(text: str, title: str | None) -> tuple[CaseDocument, list[Problem]]:
    problems: list[Problem] = []
    return codec.from_yaml(text, problems, title), problems


async def read_document(given: CaseDocumentInput, pool: ParsePool | None = None) -> CaseDocument:
    """The document from YAML or JSON, or Refused naming each shape problem. With a `pool`
    (the server always passes one) YAML beyond INLINE_YAML_BYTES is parsed in its threads,
    under its admission (RATE_LIMITED when full)."""
    problems: list[Problem] = []
    if (given.yaml is None) == (given.json is None):
        raise Refused.one("document", "give the case as exactly one of yaml (gsn2x YAML text) "
                          'or json ({"title": …, "elements": […]})', ProblemCode.REQUIRED)
    if given.yaml is not None:
        if pool is not None and len(given.yaml) > INLINE_YAML_BYTES:
            document, problems = await pool.run(_from_yaml, given.yaml, given.title,
                                                in_thread=True)
        else:
            document, problems = _from_yaml(given.yaml, given.title)
    else:
        document = codec.from_json(given.json, problems, given.title)
    if problems:
        raise Refused(problems)
    return document


def _with_rules(document: CaseDocument, problems: list[Problem]) -> CaseDocument:
    """Each Solution's rule parsed and written back in its normal form."""
    nodes: list[Node] = []
    for index, node in enumerate(document.elements):
        if node.rule is not None:
            if node.type != NodeType.SOLUTION:
                problems.append(Problem(f"elements.{index}.arcos", f"{node.id} is a "
                                        f"{node.type}; only solutions carry an evidence rule",
                                        ProblemCode.INVALID))
                continue
            rule = parse_rule(dict(node.rule), f"elements.{index}.arcos", problems)
            node = replace(node, rule=rule_to_json(rule) if rule is not None else None)
        nodes.append(node)
    return replace(document, elements=tuple(nodes))


async def _modules(nodes: Sequence[Node]) -> dict[str, Module]:
    """Every case the Away Goals name (by case id): its public goals and all its ids."""
    named: dict[str, uuid.UUID] = {}
    for node in nodes:
        if node.type == NodeType.AWAY_GOAL and node.module is not None:
            try:
                named[node.module] = uuid.UUID(node.module)
            except ValueError:
                continue
    if not named:
        return {}
    cases = await AssuranceCase.filter(uid__in=list(named.values()))
    modules: dict[str, Module] = {}
    for case in cases:
        version = await AssuranceCaseVersion.get(case_id=case.id, number=case.version)
        module = Module(frozenset(str(e["id"]) for e in version.elements
                                  if e.get("public") and e.get("type") == NodeType.GOAL),
                        frozenset(str(e["id"]) for e in version.elements))
        for name, uid in named.items():
            if uid == case.uid:
                modules[name] = module
    return modules


async def validate(document: CaseDocument) -> Validation:
    """Rules parsed, Away Goals resolved, GSN rules (with rule 8's advice) applied."""
    problems: list[Problem] = []
    document = _with_rules(document, problems)
    if problems:
        raise Refused(problems)
    checked = check_argument(document.elements, "elements",
                             await _modules(document.elements), advise=True)
    return Validation(document, checked)


def _refuse_errors(validation: Validation) -> None:
    errors = validation.checked.errors
    if errors:
        raise Refused([Problem(v.problem.field, v.text, v.problem.code) for v in errors])


async def _store_version(case: AssuranceCase, validation: Validation, number: int,
                         write: WriteContext, unit: UnitOfWork) -> AssuranceCaseVersion:
    return await AssuranceCaseVersion.create(
        case=case, number=number, title=validation.document.title,
        elements=[node.to_json() for node in validation.document.elements],
        wellformedness=validation.wellformedness.value, created_by=write.principal,
        created_at=unit.now, using_db=unit.connection)


async def create_case(project: str, given: CaseDocumentInput, write: WriteContext,
                      pool: ParsePool | None = None) -> CaseView:
    """Check and store a new case as its version 1; refused with every hard violation."""
    slug = project_slug(project)
    validation = await validate(await read_document(given, pool))
    _refuse_errors(validation)

    async def work(unit: UnitOfWork) -> CaseView:
        case = await AssuranceCase.create(
            project=slug, title=validation.document.title, version=1,
            created_by=write.principal, created_at=unit.now, updated_at=unit.now,
            using_db=unit.connection)
        version = await _store_version(case, validation, 1, write, unit)
        return CaseView(case, version, validation)

    return await write.writer.run(work)


async def update_case(case_id: str, given: CaseDocumentInput, write: WriteContext,
                      pool: ParsePool | None = None) -> CaseView:
    """A new version of a case (the older ones stay readable); refused like a create."""
    uid = _uid(case_id)
    validation = await validate(await read_document(given, pool))
    _refuse_errors(validation)

    async def work(unit: UnitOfWork) -> CaseView:
        case = await AssuranceCase.filter(uid=uid).using_db(unit.connection) \
            .select_for_update().first()
        if case is None:
            raise Refused.one("id", f"no assurance case {case_id:.80}", ProblemCode.NOT_FOUND)
        case.version += 1
        case.title = validation.document.title
        case.updated_at = unit.now
        await case.save(using_db=unit.connection)
        version = await _store_version(case, validation, case.version, write, unit)
        unit.publish(case_edited_message(case.uid, case.version))
        return CaseView(case, version, validation)

    return await write.writer.run(work)


def _uid(case_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(case_id)
    except ValueError:
        raise Refused.one("id", f"no assurance case {case_id:.80}",
                          ProblemCode.NOT_FOUND) from None


def document_of(version: AssuranceCaseVersion) -> CaseDocument:
    """A stored (already checked) version as a document."""
    problems: list[Problem] = []
    return CaseDocument(version.title,
                        tuple(parse_argument(version.elements, "elements", problems)))


async def view(case: AssuranceCase, number: int | None = None) -> CaseView | None:
    version = await AssuranceCaseVersion.filter(
        case_id=case.id, number=case.version if number is None else number).first()
    return None if version is None else await _checked_view(case, version)


async def _checked_view(case: AssuranceCase, version: AssuranceCaseVersion) -> CaseView:
    """The version checked as it reads now (Away Goals resolved against today's cases)."""
    document = document_of(version)
    checked = check_argument(document.elements, "elements", await _modules(document.elements),
                             advise=True)
    return CaseView(case, version, Validation(document, checked))


async def find_case(case_id: str, number: int | None = None) -> CaseView | None:
    """A case at its newest version (or `number`); None when there is none."""
    try:
        uid = uuid.UUID(case_id)
    except ValueError:
        return None
    case = await AssuranceCase.filter(uid=uid).first()
    return None if case is None else await view(case, number)


async def cases_of(project: str) -> list[CaseView]:
    """A project's cases, oldest first (at most MAX_CASES_LISTED)."""
    rows = await AssuranceCase.filter(project=project.strip().lower()).order_by("id") \
        .limit(MAX_CASES_LISTED)
    if not rows:
        return []
    newest = Q(*(Q(case_id=row.id, number=row.version) for row in rows), join_type=Q.OR)
    versions = {v.case_id: v for v in await AssuranceCaseVersion.filter(newest)}
    return [await _checked_view(row, versions[row.id]) for row in rows if row.id in versions]


async def versions_of(case: AssuranceCase) -> list[AssuranceCaseVersion]:
    return list(await AssuranceCaseVersion.filter(case_id=case.id).order_by("number"))

"""What a valid custom template is: the drafts people send, the checks that turn a draft
into an Industry or a Framework (or refuse it with every problem, each naming its input
field: `argument.3.supportedBy`, `controls.2.checks.0.expression`), and the scrubbing of an
anonymised one.

Adding and editing share all of it: an edit is the stored template with the given fields
replaced, checked as a whole exactly as an added one is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from arcos.community import compliance_content, industry_content
from arcos.community.checks import checks_json, parse_checks
from arcos.community.compliance_content import Control, Framework
from arcos.community.gsn import MAX_TEXT as MAX_NODE_TEXT
from arcos.community.gsn import Node, check_argument, parse_argument
from arcos.community.industry_content import Industry, Standard
from arcos.community.scrub import Scrubber
from arcos.community.scrubbed_bounds import refuse_grown
from arcos.community.templates_models import MAX_KEY_LENGTH
from arcos.problems import Problem, ProblemCode, Refused
from arcos.storable import unstorable

KEY = re.compile(r"^[a-z][a-z0-9-]*$")
MAX_NAME = 255
MAX_DESCRIPTION = 5000
MAX_LINE = 1000
MAX_LIST = 100
MAX_CONTROLS = 500
MAX_CONTROL_ID = 64
MAX_CHECKLIST = 2 * MAX_LINE
MAX_CHECKS = 20
#: Distinct evidence types and metrics one compliance template's checks may name, so
#: evaluating it reads a bounded set.
MAX_NAMED = 200


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
    controls = parse_controls(draft.controls, problems)
    names = {name for c in controls for check in c.checks
             for name in (*check.types, *((check.metric,) if check.metric else ()))}
    if len(names) > MAX_NAMED:
        problems.append(Problem("controls", f"the checks name {len(names)} evidence types and "
                                f"metrics; at most {MAX_NAMED} distinct ones",
                                ProblemCode.TOO_LARGE))
    if problems:
        raise Refused(problems)
    return Framework(key, name, version, description, controls)


def parse_controls(raw: Any, problems: list[Problem]) -> tuple[Control, ...]:
    """Controls from their JSON (as sent, or as stored), problems appended."""
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
        checklist = _text(item.get("checklist"), f"{field}.checklist", MAX_CHECKLIST, problems)
        raw_checks = item.get("checks")
        if isinstance(raw_checks, list) and len(raw_checks) > MAX_CHECKS:
            problems.append(Problem(f"{field}.checks", f"at most {MAX_CHECKS} checks per "
                                    "control", ProblemCode.TOO_LARGE))
            continue
        checks = parse_checks(raw_checks, f"{field}.checks", problems)
        controls.append(Control(control_id, title, (), checks, checklist))
    return tuple(controls)



# ── scrubbing ────────────────────────────────────────────────────────────────────────


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



def _industry_texts(industry: Industry) -> list[tuple[str, str, int]]:
    """Every text scrubbing rewrites, as (input field, text, the limit checking held it to)."""
    return [("name", industry.name, MAX_NAME),
            ("description", industry.description, MAX_DESCRIPTION),
            *(text for i, s in enumerate(industry.standards)
              for text in ((f"standards.{i}.name", s.name, MAX_NAME),
                           (f"standards.{i}.note", s.note, MAX_LINE))),
            *((f"requirements.{i}", line, MAX_LINE)
              for i, line in enumerate(industry.requirements)),
            *((f"argument.{i}.text", node.text, MAX_NODE_TEXT)
              for i, node in enumerate(industry.argument))]


def _framework_texts(framework: Framework) -> list[tuple[str, str, int]]:
    """Every text scrubbing rewrites, as (input field, text, the limit checking held it to)."""
    return [("name", framework.name, MAX_NAME), ("version", framework.version, MAX_NAME),
            ("description", framework.description, MAX_DESCRIPTION),
            *(text for i, c in enumerate(framework.controls)
              for text in ((f"controls.{i}.title", c.title, MAX_LINE),
                           (f"controls.{i}.checklist", c.checklist, MAX_CHECKLIST)))]


def controls_json(controls: Sequence[Control]) -> list[dict[str, Any]]:
    return [{"id": c.id, "title": c.title, "checklist": c.checklist,
             "checks": checks_json(c.checks)} for c in controls]


Checked = TypeVar("Checked")


def _prepared(checked: Checked, anonymize: bool, scrub: Scrubber,
              scrubbed: Callable[[Checked, Scrubber], Checked],
              texts: Callable[[Checked], list[tuple[str, str, int]]]) -> Checked:
    """A checked template as stored: scrubbed when it is shared anonymised, and refused when
    scrubbing made a text outgrow its limit."""
    if not anonymize:
        return checked
    result = scrubbed(checked, scrub)
    refuse_grown(texts(result))
    return result


def prepared_industry(draft: IndustryDraft, anonymize: bool, scrub: Scrubber) -> Industry:
    """The draft checked, and scrubbed when it is shared anonymised: what is stored."""
    return _prepared(check_industry(draft), anonymize, scrub, _scrubbed_industry,
                     _industry_texts)


def prepared_framework(draft: ComplianceDraft, anonymize: bool, scrub: Scrubber) -> Framework:
    """The draft checked, and scrubbed when it is shared anonymised: what is stored."""
    return _prepared(check_framework(draft), anonymize, scrub, _scrubbed_framework,
                     _framework_texts)


# ── drafts of stored templates (what an edit starts from) ───────────────────────────


def industry_draft(industry: Industry) -> IndustryDraft:
    return IndustryDraft(industry.key, industry.name, industry.description,
                         [(s.name, s.note) for s in industry.standards],
                         list(industry.requirements),
                         [node.to_json() for node in industry.argument],
                         list(industry.frameworks))


def framework_draft(framework: Framework) -> ComplianceDraft:
    return ComplianceDraft(framework.key, framework.name, framework.version,
                           framework.description, controls_json(framework.controls))

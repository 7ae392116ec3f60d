"""Checking what a caller sets on a threat, for shareThreat and updateThreat alike: text
that fits and can be stored, patterns stix2-patterns accepts, affected components in the
documented syntax, recipients only where TLP names them, and scrubbing when the threat is
anonymised. A field left out (None) is not checked: an edit keeps what was stored."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from arcos.community.scrub import scrubber
from arcos.community.scrubbed_bounds import grown_problems
from arcos.community.threats_components import AffectedComponent, parse_components
from arcos.community.threats_models import Severity
from arcos.community.threats_patterns import check_patterns
from arcos.community.threats_tlp import NAMED_RECIPIENTS, Tlp, visibility_of
from arcos.problems import Problem, ProblemCode, Refused
from arcos.settings import Settings
from arcos.storable import json_problem

MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_MITIGATIONS = 50
MAX_MITIGATION = 2_000
MAX_RECIPIENTS = 50


@dataclass(frozen=True)
class ThreatFields:
    """What a caller sets on a threat; None leaves a field as it is (shareThreat sets
    every one). `components` are (package, versions) pairs."""

    title: str | None = None
    severity: Severity | None = None
    description: str | None = None
    tlp: Tlp | None = None
    indicators: list[str] | None = None
    mitigations: list[str] | None = None
    components: list[tuple[str, str]] | None = None
    recipients: list[str] | None = None


@dataclass(frozen=True)
class CheckedThreat:
    """Checked fields, ready to store."""

    #: The Threat columns the fields set (a TLP sets the visibility it maps to as well).
    columns: dict[str, Any]
    #: The affected components to index; None: unchanged.
    components: list[AffectedComponent] | None
    #: The named recipients (distinct, the owner left out); None: unchanged.
    recipients: list[str] | None


def _text_problems(fields: ThreatFields) -> list[Problem]:
    problems = []
    if fields.title is not None and (not fields.title.strip() or len(fields.title) > MAX_TITLE):
        problems.append(Problem("title", f"title must be 1-{MAX_TITLE} characters",
                                ProblemCode.INVALID))
    if fields.description is not None and len(fields.description) > MAX_DESCRIPTION:
        problems.append(Problem("description", f"description must be at most "
                                f"{MAX_DESCRIPTION} characters", ProblemCode.TOO_LARGE))
    if fields.mitigations is not None and (len(fields.mitigations) > MAX_MITIGATIONS or any(
            not m.strip() or len(m) > MAX_MITIGATION for m in fields.mitigations)):
        problems.append(Problem("mitigations", f"at most {MAX_MITIGATIONS} mitigations of "
                                f"1-{MAX_MITIGATION} characters", ProblemCode.INVALID))
    given = {"title": fields.title, "description": fields.description,
             "mitigations": fields.mitigations, "indicators": fields.indicators,
             "recipients": fields.recipients,
             "affectedComponents": None if fields.components is None
             else [list(pair) for pair in fields.components]}
    for name, value in given.items():
        problem = None if value is None else json_problem(value)
        if problem is not None:
            problems.append(Problem(name, f"{name} {problem}", ProblemCode.INVALID))
    return problems


def _scrubbed_problems(title: str | None, description: str | None,
                       mitigations: list[str] | None) -> list[Problem]:
    """Scrubbing replaces identifying spans with markers such as `[redacted:host]`, which
    can be longer than what they replace: the scrubbed text must still fit its column."""
    return grown_problems([("title", title, MAX_TITLE),
                           ("description", description, MAX_DESCRIPTION),
                           *((f"mitigations.{i}", m, MAX_MITIGATION)
                             for i, m in enumerate(mitigations or []))])


def recipient_problems(tlp: Tlp, recipients: list[str], field: str = "recipients"
                       ) -> list[Problem]:
    """Recipients are named only for AMBER and RED; names are principal names."""
    if not recipients:
        return []
    if tlp not in NAMED_RECIPIENTS:
        return [Problem(field, f"TLP:{tlp.value.upper()} names no recipients: only AMBER and "
                        "RED are shared with named principals", ProblemCode.INVALID)]
    if len(recipients) > MAX_RECIPIENTS or any(
            not name.strip() or len(name) > 255 for name in recipients):
        return [Problem(field, f"at most {MAX_RECIPIENTS} principal names of 1-255 characters",
                        ProblemCode.INVALID)]
    return []


def _recipients(fields: ThreatFields, tlp: Tlp, owner: str) -> list[str] | None:
    """The names to record; a level that names nobody (CLEAR, GREEN, AMBER+STRICT) drops
    those recorded before, so raising it back to AMBER later re-grants nobody silently."""
    if fields.recipients is not None:
        return sorted({name.strip() for name in fields.recipients} - {owner})
    if fields.tlp is not None and tlp not in NAMED_RECIPIENTS:
        return []
    return None


async def check_threat(fields: ThreatFields, tlp: Tlp, anonymize: bool, owner: str,
                       settings: Settings) -> CheckedThreat:
    """`fields` checked (and scrubbed when `anonymize`) for a threat of `owner` whose level
    is `tlp` once they are set; raises Refused naming every problem."""
    problems = _text_problems(fields)
    if problems:  # nothing reads text that cannot be stored
        raise Refused(problems)
    components, problems = (None, []) if fields.components is None else \
        parse_components(fields.components, "affectedComponents")
    problems = await check_patterns(fields.indicators or []) + problems
    problems += recipient_problems(tlp, fields.recipients or [])
    if problems:
        raise Refused(problems)
    title = None if fields.title is None else fields.title.strip()
    description, mitigations = fields.description, fields.mitigations
    if anonymize and (title, description, mitigations) != (None, None, None):
        # scrubbing a long description is CPU work: off the event loop
        title, description, mitigations = await asyncio.to_thread(
            scrubber(settings).json, [title, description, mitigations])
    problems = _scrubbed_problems(title, description, mitigations)
    if problems:
        raise Refused(problems)
    columns: dict[str, Any] = {
        name: value for name, value in (
            ("title", title), ("severity", fields.severity), ("description", description),
            ("indicators", fields.indicators), ("mitigations", mitigations))
        if value is not None}
    if fields.tlp is not None:
        columns.update(tlp=fields.tlp, visibility=visibility_of(fields.tlp))
    if components is not None:
        columns["affected_components"] = [c.to_json() for c in components]
    return CheckedThreat({name: list(value) if isinstance(value, list) else value
                          for name, value in columns.items()},
                         components, _recipients(fields, tlp, owner))

"""shareThreat: check a threat (patterns with stix2-patterns, affected components in the
documented syntax, recipients only where TLP allows them), scrub it when anonymised, and
store it with its named recipients in one unit of work."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from arcos.auth.caller import Caller
from arcos.community.scrub import scrubber
from arcos.community.threats_components import parse_components
from arcos.community.threats_events import threat_shared_message
from arcos.community.threats_models import (
    Severity,
    Threat,
    ThreatComponent,
    ThreatKind,
    ThreatRecipient,
)
from arcos.community.threats_patterns import check_patterns
from arcos.community.threats_tlp import NAMED_RECIPIENTS, Tlp, visibility_of
from arcos.problems import Problem, ProblemCode, Refused
from arcos.storable import json_problem
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext

MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_MITIGATIONS = 50
MAX_MITIGATION = 2_000
MAX_RECIPIENTS = 50


@dataclass(frozen=True)
class ThreatDraft:
    """A threat as a caller sends it; `components` are (package, versions) pairs."""

    title: str
    kind: ThreatKind
    severity: Severity
    description: str
    tlp: Tlp
    indicators: list[str] = field(default_factory=list)
    mitigations: list[str] = field(default_factory=list)
    components: list[tuple[str, str]] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    anonymize: bool = False


def _text_problems(draft: ThreatDraft) -> list[Problem]:
    problems = []
    if not draft.title.strip() or len(draft.title) > MAX_TITLE:
        problems.append(Problem("title", f"title must be 1-{MAX_TITLE} characters",
                                ProblemCode.INVALID))
    if len(draft.description) > MAX_DESCRIPTION:
        problems.append(Problem("description", f"description must be at most "
                                f"{MAX_DESCRIPTION} characters", ProblemCode.TOO_LARGE))
    if len(draft.mitigations) > MAX_MITIGATIONS or any(
            not m.strip() or len(m) > MAX_MITIGATION for m in draft.mitigations):
        problems.append(Problem("mitigations", f"at most {MAX_MITIGATIONS} mitigations of "
                                f"1-{MAX_MITIGATION} characters", ProblemCode.INVALID))
    fields = {"title": draft.title, "description": draft.description,
              "mitigations": draft.mitigations, "indicators": draft.indicators,
              "recipients": draft.recipients,
              "affectedComponents": [list(pair) for pair in draft.components]}
    for name, value in fields.items():
        problem = json_problem(value)
        if problem is not None:
            problems.append(Problem(name, f"{name} {problem}", ProblemCode.INVALID))
    return problems


def _scrubbed_problems(title: str, description: str, mitigations: list[str]
                       ) -> list[Problem]:
    """Scrubbing replaces identifying spans with markers such as `[redacted:host]`, which
    can be longer than what they replace: the scrubbed text must still fit its column."""
    problems = []
    for name, text, limit in (("title", title, MAX_TITLE),
                              ("description", description, MAX_DESCRIPTION)):
        if len(text) > limit:
            problems.append(Problem(name, f"{name} is {len(text)} characters once identifying "
                                    f"text is scrubbed (anonymize); at most {limit}: shorten "
                                    "it", ProblemCode.TOO_LARGE))
    if any(len(m) > MAX_MITIGATION for m in mitigations):
        problems.append(Problem("mitigations", f"a mitigation is longer than {MAX_MITIGATION} "
                                "characters once identifying text is scrubbed (anonymize): "
                                "shorten it", ProblemCode.TOO_LARGE))
    return problems


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


async def share_threat(draft: ThreatDraft, caller: Caller, write: WriteContext) -> Threat:
    """Store a threat; raises Refused naming every problem (nothing is written then)."""
    problems = _text_problems(draft)
    if problems:  # nothing reads text that cannot be stored
        raise Refused(problems)
    components, problems = parse_components(draft.components, "affectedComponents")
    problems = await check_patterns(draft.indicators) + problems
    problems += recipient_problems(draft.tlp, draft.recipients)
    if problems:
        raise Refused(problems)
    title, description, mitigations = draft.title.strip(), draft.description, \
        list(draft.mitigations)
    if draft.anonymize:  # scrubbing a long description is CPU work: off the event loop
        title, description, mitigations = await asyncio.to_thread(
            scrubber(write.settings).json, [title, description, mitigations])
    problems = _scrubbed_problems(title, description, mitigations)
    if problems:
        raise Refused(problems)
    recipients = sorted({name.strip() for name in draft.recipients} - {caller.name})

    async def work(unit: UnitOfWork) -> Threat:
        uid = uuid.uuid4()
        threat = await Threat.create(
            uid=uid, grant=uid, stix_id=f"{draft.kind.value}--{uid}", owner=caller.name,
            visibility=visibility_of(draft.tlp),
            anonymized=draft.anonymize, title=title, kind=draft.kind,
            severity=draft.severity, description=description,
            indicators=list(draft.indicators), mitigations=mitigations,
            affected_components=[c.to_json() for c in components], tlp=draft.tlp,
            created_at=unit.now, updated_at=unit.now, using_db=unit.connection,
        )
        if recipients:
            await ThreatRecipient.bulk_create(
                [ThreatRecipient(grant=uid, principal=name) for name in recipients],
                using_db=unit.connection)
        keys = sorted({c.key for c in components if c.key})
        if keys:
            await ThreatComponent.bulk_create(
                [ThreatComponent(threat_id=threat.id, key=key) for key in keys],
                using_db=unit.connection)
        unit.publish(threat_shared_message(threat))
        return threat

    return await write.writer.run(work)

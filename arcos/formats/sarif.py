"""SARIF 2.1.0 logs (ruff, Bandit, Semgrep, CodeQL, …) to a StaticAnalysisReport of findings
with GitHub-compatible severities, repo-relative paths, CWE ids and line-free fingerprints."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from arcos.formats import json_document, paths, severity
from arcos.formats.errors import (
    PAYLOAD_TOO_LARGE,
    UNPROCESSABLE,
    ArtifactRefused,
    ParseWarning,
    capped,
)
from arcos.formats.json_document import mapping, number, objects, text
from arcos.formats.results import Finding, StaticAnalysisReport, Tool

MAX_RUNS = 20
MAX_RESULTS_PER_RUN = 25_000
MAX_MESSAGE_CHARS = 4000
PLACEHOLDER_FINGERPRINTS = frozenset({"requires login"})  # Semgrep OSS
_CWE_TAG = re.compile(r"^(?:external/cwe/)?cwe[-_:]?\s*(\d{1,7})\b", re.IGNORECASE | re.ASCII)
_PLACEHOLDER_ARGUMENT = re.compile(r"\{(\d{1,4})\}", re.ASCII)
_EMPTY: dict[str, Any] = {}  # read only: an absent object
_EXACT_INT = 2**53  # `json_document.integer` goes through float: exact up to here


@dataclass
class _Run:
    """What results of one run are resolved against."""

    tool: Tool
    category: str
    rules_by_id: dict[str, dict[str, Any]]
    rules_by_index: list[dict[str, Any]]
    artifacts: list[dict[str, Any]]
    roots: list[str]
    skipped: Counter[str] = field(default_factory=Counter)
    # many results share a file and a rule: normalise each once
    paths: dict[str, str | None] = field(default_factory=dict)
    rule_cwes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rule_facts: dict[int, _RuleFacts] = field(default_factory=dict)

    def facts(self, rule: dict[str, Any]) -> _RuleFacts:
        """The rule's facts, worked out on its first result (keyed by identity: the rule
        objects live as long as the document)."""
        known = self.rule_facts.get(id(rule))
        if known is None:
            known = self.rule_facts[id(rule)] = _RuleFacts.of(rule)
        return known


def parse(
    content: bytes,
    *,
    max_runs: int = MAX_RUNS,
    max_results_per_run: int = MAX_RESULTS_PER_RUN,
    source_root: str | None = None,
) -> StaticAnalysisReport:
    document = json_document.load(content, what="SARIF log")
    return from_document(
        document, max_runs=max_runs, max_results_per_run=max_results_per_run,
        source_root=source_root,
    )


def from_document(
    document: Any,
    *,
    max_runs: int = MAX_RUNS,
    max_results_per_run: int = MAX_RESULTS_PER_RUN,
    source_root: str | None = None,
) -> StaticAnalysisReport:
    """Build the report from a parsed SARIF log; `source_root` is the checkout directory the
    scanner ran in, stripped from absolute paths (also taken from the log when it says)."""
    log = json_document.expect_object(document, "the SARIF log")
    warnings: list[ParseWarning] = []
    version = text(log.get("version"))
    if version is not None and version.startswith("1."):
        raise ArtifactRefused(UNPROCESSABLE, f"SARIF {version} is not supported; emit SARIF 2.1.0")
    if version != "2.1.0":
        warnings.append(f"SARIF version {version!r} is not 2.1.0; parsed as 2.1.0")
    runs = _checked_runs(log, max_runs, max_results_per_run)
    tools: list[Tool] = []
    findings: list[Finding] = []
    for index, (run, results) in enumerate(runs):
        context = _context(run, index, source_root)
        tools.append(context.tool)
        for result in results:
            if not isinstance(result, dict):
                context.skipped["a result that is not a JSON object"] += 1
                continue
            finding = _finding(result, context, warnings)
            if finding is not None:
                findings.append(finding)
        warnings.extend(
            f"{context.tool.name}: skipped {count} x {reason}"
            for reason, count in context.skipped.items()
        )
    return StaticAnalysisReport(
        format="sarif",
        tools=tuple(dict.fromkeys(tools)),
        findings=tuple(_disambiguate(findings)),
        warnings=capped(warnings),
    )


def _checked_runs(
    log: dict[str, Any], max_runs: int, max_results_per_run: int
) -> list[tuple[dict[str, Any], list[Any]]]:
    """The runs and their results, after applying GitHub's count limits (413)."""
    runs = json_document.expect_list(log.get("runs"), "runs", missing_ok=False)
    if len(runs) > max_runs:
        raise ArtifactRefused(
            PAYLOAD_TOO_LARGE,
            f"the SARIF log has {len(runs)} runs; at most {max_runs} are accepted per upload — "
            "split it into several uploads",
        )
    checked = []
    for index, raw_run in enumerate(runs):
        run = json_document.expect_object(raw_run, f"runs[{index}]")
        results = json_document.expect_list(run.get("results"), f"runs[{index}].results")
        if len(results) > max_results_per_run:
            raise ArtifactRefused(
                PAYLOAD_TOO_LARGE,
                f"run {index} has {len(results):,} results; at most {max_results_per_run:,} "
                "are accepted per run — narrow the rule set or split the scan",
            )
        checked.append((run, results))
    return checked


def _context(run: dict[str, Any], index: int, source_root: str | None) -> _Run:
    tool_object = json_document.expect_object(run.get("tool"), f"runs[{index}].tool")
    driver = json_document.expect_object(tool_object.get("driver"), f"runs[{index}].tool.driver")
    name = text(driver.get("name")) or "unknown"
    tool = Tool(name, text(driver.get("semanticVersion")) or text(driver.get("version")))
    rules_by_index = objects(driver.get("rules"))
    rules_by_id: dict[str, dict[str, Any]] = {}
    for component in [driver, *objects(tool_object.get("extensions"))]:
        for rule in objects(component.get("rules")):
            rule_id = text(rule.get("id"))
            if rule_id:
                rules_by_id.setdefault(rule_id, rule)
    return _Run(
        tool=tool,
        category=_category(run, name),
        rules_by_id=rules_by_id,
        rules_by_index=rules_by_index,
        artifacts=objects(run.get("artifacts")),
        roots=_roots(run, source_root),
    )


def _category(run: dict[str, Any], tool_name: str) -> str:
    """GitHub's category: the automation id up to its last '/', else the tool name."""
    details = mapping(run.get("automationDetails") or run.get("runAutomationDetails"))
    automation_id = text(details.get("id"))
    if automation_id and "/" in automation_id.strip("/"):
        return automation_id.rsplit("/", 1)[0]
    if automation_id and automation_id.strip("/"):
        return automation_id.strip("/")
    return tool_name.lower()


def _roots(run: dict[str, Any], source_root: str | None) -> list[str]:
    """Checkout directories to strip from absolute paths, as '/'-separated paths."""
    roots = [source_root] if source_root else []
    bases = mapping(run.get("originalUriBaseIds"))
    for key in sorted(bases, key=lambda base: base != "SRCROOT"):
        uri = text(mapping(bases[key]).get("uri"))
        if uri and paths.is_absolute(paths.uri_to_path(uri)):
            roots.append(uri)
    for invocation in objects(run.get("invocations")):
        uri = text(mapping(invocation.get("workingDirectory")).get("uri"))
        if uri:
            roots.append(uri)
    return [paths.uri_to_path(root).rstrip("/") for root in roots]


def _finding(result: dict[str, Any], run: _Run, warnings: list[ParseWarning]) -> Finding | None:
    """One result as a finding. Called once per result (25,000 a run), so it reads the
    result's fields directly and takes what its rule contributes from `_RuleFacts`, worked
    out once per rule: at ~10 µs a result, a call more per field is a measurable share."""
    kind = _text(result.get("kind")) or "fail"
    if kind in ("pass", "notApplicable"):
        run.skipped[f"result of kind {kind!r}"] += 1
        return None
    if _text(result.get("baselineState")) == "absent":
        run.skipped["result whose baselineState is 'absent' (already fixed)"] += 1
        return None
    rule_id, rule = _rule(result, run)
    facts = run.facts(rule)
    level = _level(result, facts, run, warnings)
    result_properties = mapping(result.get("properties"))
    score = number(result_properties.get("security-severity")) if result_properties else None
    if score is None:
        score = facts.score
    banded = severity.from_score(score)
    path, line, snippet = _location(result, run)
    if path is not None and paths.is_absolute(path):
        warnings.append(
            "some paths are absolute and outside the known checkout root; pass the checkout "
            "directory (source_root) so findings keep their identity across checkouts"
        )
    message = _message(result, rule) or rule_id
    suppressions = result.get("suppressions")
    return Finding(
        tool=run.tool.name,
        rule_id=rule_id,
        severity=banded or severity.from_sarif_level(level),
        message=message,
        path=path,
        line=line,
        fingerprint=_fingerprint(run.tool.name, rule_id, path, _content(result, snippet, message)),
        kind="sast",
        cwes=_cwes(rule_id, facts, result_properties, result, run),
        category=run.category,
        suppressed=bool(suppressions) and _suppressed(suppressions),
        score=score if banded else None,
    )


def _text(value: Any) -> str | None:
    """`json_document.text`, answering the usual case (a string) without a further call."""
    return value if value.__class__ is str else text(value)


def _integer(value: Any) -> int | None:
    """`json_document.integer`, answering the usual cases (absent, an int a float holds
    exactly) at once."""
    if value is None:
        return None
    if value.__class__ is int and -_EXACT_INT <= value <= _EXACT_INT:
        return value
    return json_document.integer(value)


@dataclass(frozen=True, slots=True)
class _RuleFacts:
    """What a rule contributes to each of its results."""

    score: float | None  # properties["security-severity"]
    level: str | None  # defaultConfiguration.level
    tags: tuple[str, ...]  # properties.tags

    @classmethod
    def of(cls, rule: dict[str, Any]) -> _RuleFacts:
        properties = mapping(rule.get("properties"))
        return cls(
            score=number(properties.get("security-severity")),
            level=text(mapping(rule.get("defaultConfiguration")).get("level")),
            tags=json_document.texts(properties.get("tags")),
        )


def _rule(result: dict[str, Any], run: _Run) -> tuple[str, dict[str, Any]]:
    reference = result.get("rule")
    reference = reference if isinstance(reference, dict) else _EMPTY
    rule_id = _text(result.get("ruleId")) or (text(reference.get("id")) if reference else None)
    rule: dict[str, Any] | None = None
    if rule_id:
        rule = run.rules_by_id.get(rule_id) or run.rules_by_id.get(rule_id.split("/", 1)[0])
    index = _integer(result.get("ruleIndex"))
    if index is None and reference:
        index = _integer(reference.get("index"))
    if rule is None and index is not None and 0 <= index < len(run.rules_by_index):
        rule = run.rules_by_index[index]
    rule = rule or _EMPTY
    if not rule_id:
        rule_id = text(rule.get("id")) or "unknown-rule"
    return rule_id, rule


def _level(
    result: dict[str, Any], rule: _RuleFacts, run: _Run, warnings: list[ParseWarning]
) -> str:
    """result.level, else the rule's defaultConfiguration.level, else 'warning'."""
    level = _text(result.get("level")) or rule.level
    if level is None:
        return "warning"
    if level not in severity.SARIF_LEVELS:
        warnings.append(f"{run.tool.name}: unknown SARIF level {level[:40]!r} treated as warning")
        return "warning"
    return level


def _location(result: dict[str, Any], run: _Run) -> tuple[str | None, int | None, str | None]:
    """(repo-relative path, start line, snippet text) of the primary location."""
    locations = result.get("locations")
    first = _first_object(locations) if locations.__class__ is list else None
    if first is None:
        return None, None, None
    physical = mapping(first.get("physicalLocation"))
    artifact = mapping(physical.get("artifactLocation"))
    uri = _text(artifact.get("uri"))
    if uri is None:
        artifact_index = _integer(artifact.get("index"))
        if artifact_index is not None and 0 <= artifact_index < len(run.artifacts):
            uri = text(mapping(run.artifacts[artifact_index].get("location")).get("uri"))
    region = mapping(physical.get("region"))
    line = _integer(region.get("startLine"))
    snippet = region.get("snippet")
    snippet = _text(snippet.get("text")) if isinstance(snippet, dict) else None
    if not uri:
        return None, line if line and line > 0 else None, snippet
    if uri not in run.paths:
        run.paths[uri] = paths.relative_to_root(paths.uri_to_path(uri), run.roots) or None
    return run.paths[uri], line if line and line > 0 else None, snippet


def _first_object(items: list[Any]) -> dict[str, Any] | None:
    """`objects(items)[0]` without building the list."""
    for item in items:
        if isinstance(item, dict):
            return item
    return None


def _message(result: dict[str, Any], rule: dict[str, Any]) -> str | None:
    message = mapping(result.get("message"))
    template = _text(message.get("text")) or text(message.get("markdown"))
    if template is None:
        message_id = text(message.get("id"))
        if message_id:
            strings = mapping(rule.get("messageStrings"))
            template = text(mapping(strings.get(message_id)).get("text"))
    if template is None:
        template = text(mapping(rule.get("shortDescription")).get("text"))
    if template is None:
        return None
    arguments = message.get("arguments")
    arguments = json_document.texts(arguments) if arguments else ()
    if arguments:
        template = _PLACEHOLDER_ARGUMENT.sub(
            lambda match: arguments[int(match.group(1))]
            if int(match.group(1)) < len(arguments) else match.group(0),
            template,
        )
    return template[:MAX_MESSAGE_CHARS]


def _content(result: dict[str, Any], snippet: str | None, message: str) -> str:
    """The content part of the identity: GitHub's line hash, a real tool fingerprint, the
    snippet, or the message — never the line number."""
    partial = _real_fingerprints(result.get("partialFingerprints"))
    for key in sorted(partial):
        if key.startswith("primaryLocationLineHash"):
            return f"{key}={partial[key]}"
    full = _real_fingerprints(result.get("fingerprints"))
    if full:
        key = sorted(full)[0]
        return f"{key}={full[key]}"
    if partial:
        return ";".join(f"{key}={partial[key]}" for key in sorted(partial))
    if snippet and snippet.strip():
        return "snippet=" + " ".join(snippet.split())
    return "message=" + message


def _real_fingerprints(value: Any) -> dict[str, str]:
    """A fingerprints object's non-empty text values, placeholders left out."""
    if not value or not isinstance(value, dict):
        return {}
    return {
        key: fingerprint for key, item in value.items()
        if (fingerprint := _text(item)) and fingerprint not in PLACEHOLDER_FINGERPRINTS
    }


def _fingerprint(tool: str, rule_id: str, path: str | None, content: str) -> str:
    identity = "\x1f".join((tool.lower(), rule_id, path or "", content))
    return hashlib.sha256(identity.encode("utf-8", errors="surrogatepass")).hexdigest()


def _disambiguate(findings: list[Finding]) -> list[Finding]:
    """Give the 2nd, 3rd… finding with the same identity a distinct fingerprint (ordinal, as
    GitHub's ':<occurrence>' does) so same-message findings in one file stay distinct."""
    seen: Counter[str] = Counter()
    distinct = []
    for finding in findings:
        seen[finding.fingerprint] += 1
        occurrence = seen[finding.fingerprint]
        if occurrence > 1:
            suffixed = hashlib.sha256(f"{finding.fingerprint}:{occurrence}".encode()).hexdigest()
            finding = replace(finding, fingerprint=suffixed)
        distinct.append(finding)
    return distinct


def _cwes(
    rule_id: str,
    rule: _RuleFacts,
    result_properties: dict[str, Any],
    result: dict[str, Any],
    run: _Run,
) -> tuple[str, ...]:
    """CWE ids from `external/cwe/cwe-78` or `CWE-78: …` tags and from CWE taxa. The
    rule's share is taken from the first result naming `rule_id`, then reused."""
    if rule_id not in run.rule_cwes:
        run.rule_cwes[rule_id] = tuple(dict.fromkeys(_tag_cwes(rule.tags)))
    tags = result_properties.get("tags") if result_properties else None
    taxa = result.get("taxa")
    if not tags and not taxa:
        return run.rule_cwes[rule_id]
    found = [*run.rule_cwes[rule_id], *_tag_cwes(json_document.texts(tags))]
    for taxon in objects(taxa):
        component = text(mapping(taxon.get("toolComponent")).get("name")) or ""
        taxon_id = text(taxon.get("id")) or ""
        numeric = len(taxon_id) <= 7 and taxon_id.isascii() and taxon_id.isdigit()
        if component.upper() == "CWE" and numeric:
            found.append(f"CWE-{int(taxon_id)}")
    return tuple(dict.fromkeys(found))


def _tag_cwes(tags: tuple[str, ...]) -> tuple[str, ...]:
    found = []
    for tag in tags:
        match = _CWE_TAG.match(tag.strip())
        if match:
            found.append(f"CWE-{int(match.group(1))}")
    return tuple(found)


def _suppressed(suppressions: Any) -> bool:
    """Suppressed when any suppression is accepted (or has no status); rejected ones don't count."""
    return any(
        text(suppression.get("status")) in (None, "accepted")
        for suppression in objects(suppressions)
    )

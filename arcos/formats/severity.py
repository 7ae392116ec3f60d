"""One mapping from scanner scores, vendor words and SARIF levels to ARCOS's severity enum, so
every format bands a CVSS 7.5 the same way (GitHub / DefectDojo bands)."""

from __future__ import annotations

from cvss import CVSS2, CVSS3, CVSS4

from arcos.formats.results import SEVERITIES, Severity

_WORDS: dict[str, Severity] = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
    "info": "info",
    "informational": "info",
    "none": "info",
    "unknown": "unknown",
}
_SARIF_LEVELS: dict[str, Severity] = {
    "error": "high",
    "warning": "medium",
    "note": "info",
    "none": "info",
}
SARIF_LEVELS = tuple(_SARIF_LEVELS)


def from_score(score: float | None) -> Severity | None:
    """Band a 0..10 score: >=9 critical, >=7 high, >=4 medium, >0 low; else None."""
    if score is None or not 0.0 < score <= 10.0:
        return None
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"


def from_word(word: str | None) -> Severity | None:
    """A vendor severity word (npm/GHSA "moderate" = medium), case-insensitive; else None."""
    if word is None:
        return None
    return _WORDS.get(word.strip().lower())


def from_sarif_level(level: str) -> Severity:
    """error→high, warning→medium, note/none→info (DefectDojo's mapping)."""
    return _SARIF_LEVELS.get(level, "medium")


def score_vector(vector: str | None) -> float | None:
    """The CVSS v2/v3.x/v4 base score of a vector string, or None when it cannot be scored."""
    if not vector or len(vector) > 512:
        return None
    vector = vector.strip()
    try:
        if vector.startswith("CVSS:4"):
            score = CVSS4(vector).base_score
        elif vector.startswith("CVSS:3"):
            score = CVSS3(vector).base_score
        else:
            score = CVSS2(vector).base_score
    except Exception:  # the scorer raises many exception types on hostile vectors
        return None
    try:
        return float(score)
    except (TypeError, ValueError):
        return None


def rank(severity: Severity) -> int:
    """0 for critical … 4 for info, 5 for unknown (known severities outrank unknown)."""
    return SEVERITIES.index(severity)


def worst(severities: list[Severity]) -> Severity:
    """The most severe known severity, or unknown when none is known."""
    return min(severities, key=rank, default="unknown")

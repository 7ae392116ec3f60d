"""Text that anonymised sharing made longer must still fit where it is stored.

The scrubber replaces an identifying span with a label (`a.io` becomes `[redacted:host]`),
so text checked against its column's limit as sent can outgrow it once scrubbed. Every
writer that scrubs checks the scrubbed text here, so an over-long result is a field
problem saying what to shorten, never a database error.
"""

from __future__ import annotations

from collections.abc import Iterable

from arcos.problems import Problem, ProblemCode, Refused


def refuse_grown(texts: Iterable[tuple[str, str, int]]) -> None:
    """Refuses every (field, scrubbed text, limit) whose text is longer than its limit."""
    problems = [
        Problem(field, f"{field.rsplit('.', 1)[-1]} grows to {len(value)} characters when "
                "anonymised sharing redacts the identifying text in it (e.g. [redacted:host]"
                f"); at most {limit} fit: shorten it", ProblemCode.TOO_LARGE)
        for field, value, limit in texts if len(value) > limit]
    if problems:
        raise Refused(problems)

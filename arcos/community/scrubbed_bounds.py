"""Text that anonymised sharing made longer must still fit where it is stored.

The scrubber replaces an identifying span with a label (`a.io` becomes `[redacted:host]`),
so text checked against its limit as sent can outgrow it once scrubbed. Every writer that
scrubs (threats, library items, templates, benchmark releases) checks the scrubbed text
here, so an over-long result is a problem naming the field and saying what to shorten, in
the same words everywhere: never a database error, and never a stored row that every later
edit is refused over.
"""

from __future__ import annotations

from collections.abc import Iterable

from arcos.problems import Problem, ProblemCode, Refused


def grown_problems(texts: Iterable[tuple[str, str | None, int]]) -> list[Problem]:
    """A TOO_LARGE problem for every (field, scrubbed text, limit) whose text is longer than
    its limit; a None text (a field left unchanged) has none."""
    return [
        Problem(field, f"{field.rsplit('.', 1)[-1]} grows to {len(value)} characters once "
                "the identifying text in it is scrubbed for anonymised sharing (each span "
                f"becomes a label such as [redacted:host]); at most {limit} fit: shorten it",
                ProblemCode.TOO_LARGE)
        for field, value, limit in texts if value is not None and len(value) > limit]


def refuse_grown(texts: Iterable[tuple[str, str | None, int]]) -> None:
    """Refuses every (field, scrubbed text, limit) whose text is longer than its limit."""
    problems = grown_problems(texts)
    if problems:
        raise Refused(problems)

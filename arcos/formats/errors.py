"""Why an artifact was refused, as an HTTP-shaped status and a message that says what to fix."""

from __future__ import annotations

from typing import TypeAlias

PAYLOAD_TOO_LARGE = 413
UNPROCESSABLE = 422
BAD_REQUEST = 400

ParseWarning: TypeAlias = str
"""Something a parser tolerated but the uploader should know about (kept on every result)."""


class ArtifactRefused(Exception):
    """The artifact cannot be accepted; nothing derived from it should be stored.

    `status` is 413 (too large), 422 (unparseable, unsupported or unsafe) or 400 (the request
    itself is wrong, e.g. an empty body); `message` tells the uploader what to change.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return f"{self.status}: {self.message}"

    def __reduce__(self) -> tuple[type[ArtifactRefused], tuple[int, str]]:
        # Parsers run in worker processes; the refusal crosses back by pickling.
        return (ArtifactRefused, (self.status, self.message))


MAX_WARNINGS = 50


def capped(warnings: list[ParseWarning]) -> tuple[ParseWarning, ...]:
    """Distinct warnings in first-seen order, at most MAX_WARNINGS (plus a note of the rest)."""
    distinct = list(dict.fromkeys(warnings))
    if len(distinct) <= MAX_WARNINGS:
        return tuple(distinct)
    hidden = len(distinct) - MAX_WARNINGS
    return (*distinct[:MAX_WARNINGS], f"{hidden} further warnings were not kept")

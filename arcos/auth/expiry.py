"""Token lifetimes written the way people say them: `30d`, `12h`, `90m`, `3600s`."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_LIFETIME = timedelta(days=3650)


class BadDuration(ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    """A positive duration from `<number><s|m|h|d|w>`; refuses anything else clearly."""
    match = _DURATION.match(text)
    if not match:
        raise BadDuration(
            f"{text!r} is not a duration; write a number and a unit, e.g. 30d, 12h, 90m"
        )
    amount, unit = int(match.group(1)), match.group(2)
    duration = timedelta(**{_UNITS[unit]: amount})
    if duration <= timedelta(0) or duration > MAX_LIFETIME:
        raise BadDuration(f"{text!r} must be more than 0 and at most 3650d")
    return duration

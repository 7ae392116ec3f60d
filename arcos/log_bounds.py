"""Keep every log record small, whatever a request put into it.

Request values reach log lines through exception messages (an ORM error quoting a filter,
a parser quoting a document): a 9 MB filter once made a 27 MB log. A filter on every
handler, ours and uvicorn's (arcos/log_config.py puts it there), clips each message line
and each formatted traceback, so one request can add only a few KiB to the log however
large its values are.
"""

from __future__ import annotations

import logging
import traceback

#: Longest single line a record keeps (a message, or one line of a traceback).
MAX_LINE_CHARS = 2000
#: Longest formatted traceback a record keeps; its start and end survive.
MAX_TRACEBACK_CHARS = 16 * 1024


def clip(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """`text`, cut to `limit` characters with a note of how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def bounded_traceback(text: str) -> str:
    """A formatted traceback with every line clipped and the whole kept to a bound."""
    lines = [clip(line) for line in text.splitlines()]
    bounded = "\n".join(lines)
    if len(bounded) <= MAX_TRACEBACK_CHARS:
        return bounded
    half = MAX_TRACEBACK_CHARS // 2
    left_out = len(bounded) - 2 * half
    return f"{bounded[:half]}\n… [{left_out} characters left out] …\n{bounded[-half:]}"


class BoundedRecords(logging.Filter):
    """Clips a record's message, its arguments and its traceback before any handler
    formats it. Arguments are clipped one by one rather than merged into the message:
    uvicorn's access formatter reads them as a tuple."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = clip(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clipped(argument) for argument in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = bounded_traceback(
                "".join(traceback.format_exception(*record.exc_info))
            )
        return True


def _clipped(argument: object) -> object:
    if isinstance(argument, (int, float)) or argument is None:
        return argument  # numbers keep their type for %d and %f
    text = argument if isinstance(argument, str) else str(argument)
    return clip(text) if len(text) > MAX_LINE_CHARS else argument

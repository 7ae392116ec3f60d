"""Opaque cursors and page-size checks shared by every connection and list field."""

from __future__ import annotations

import base64
import binascii

from strawberry import relay

from arcos.problems import BadUserInput

#: Positions are 64-bit primary keys.
MAX_POSITION = 2**63 - 1


def encode_cursor(kind: str, position: int) -> str:
    """An opaque cursor for the row at `position` (a primary key) of `kind`."""
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> int | None:
    """The position inside a cursor made by `encode_cursor(kind, …)`; refuses any other."""
    if cursor is None:
        return None
    try:
        prefix, _, position = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if prefix != kind:
            raise ValueError(prefix)
        number = int(position)
        if not 0 <= number <= MAX_POSITION:
            raise ValueError(number)
        return number
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(
            f"'{cursor:.40}' is not a {kind} cursor; pass an endCursor from an earlier page"
        ) from None


def check_page_size(name: str, value: int, maximum: int) -> int:
    """`value` if it is a usable page size, else a BAD_USER_INPUT error naming the cap."""
    if not 1 <= value <= maximum:
        raise BadUserInput(f"{name} must be between 1 and {maximum} (got {value})")
    return value


def check_offset(value: int) -> int:
    if value < 0:
        raise BadUserInput(f"offset must not be negative (got {value})")
    return value


def page_info(
    cursors: list[str], has_next: bool, after: str | None
) -> relay.PageInfo:
    """PageInfo of one forward keyset page whose rows have `cursors`, in order."""
    return relay.PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else after,
    )

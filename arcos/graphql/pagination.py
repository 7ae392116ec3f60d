"""Opaque cursors and page-size checks shared by every connection and list field."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from strawberry import relay

from arcos.problems import BadUserInput

#: Positions are 64-bit primary keys.
MAX_POSITION = 2**63 - 1
#: Rows an offset list can hold: an `offset` argument is a GraphQL Int, and offset cursors
#: share its bound, so no cursor's `position + 1` overflows a SQL OFFSET.
MAX_OFFSET = 2**31 - 1
Row = TypeVar("Row")
Edge = TypeVar("Edge")


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
    """`value` if an offset list can start there, else a BAD_USER_INPUT error."""
    if value < 0:
        raise BadUserInput(f"offset must not be negative (got {value})")
    if value > MAX_OFFSET:
        raise BadUserInput(f"offset must be at most {MAX_OFFSET} (got {value})")
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


def _primary_key(row: Any) -> int:
    return int(row.id)


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One forward page of a connection: its rows, each row's cursor, and its PageInfo."""

    rows: Sequence[Row]
    cursors: list[str]
    info: relay.PageInfo

    def edges(self, edge: Callable[..., Edge], node: Callable[[Row], Any]) -> list[Edge]:
        """`edge(cursor=…, node=node(row))` for each row, in order."""
        return [edge(cursor=cursor, node=node(row))
                for cursor, row in zip(self.cursors, self.rows, strict=True)]


@dataclass(frozen=True)
class PageRequest:
    """A connection's `first`/`after`, checked and decoded before the rows are read, so that
    every connection refuses a bad page size or a foreign cursor with the same words.

    Two kinds of source read it: keyset ones (newest first by primary key) read the rows
    below `position`, and their cursors are the rows' keys; offset ones (ranked or mixed
    lists) read from `start`, and their cursors are the rows' offsets."""

    kind: str
    first: int
    after: str | None
    #: What `after` points at: a primary key or an offset; None on the first page.
    position: int | None

    @classmethod
    def of(cls, kind: str, first: int, after: str | None, maximum: int) -> PageRequest:
        check_page_size("first", first, maximum)
        return cls(kind, first, after, decode_cursor(kind, after))

    @property
    def start(self) -> int:
        """The offset of the page's first row, for offset cursors. Only offset sources
        read it, so only they refuse a cursor past MAX_OFFSET (keyset cursors hold keys up
        to MAX_POSITION): no offset list returned one, and the SQL OFFSET would overflow."""
        if self.position is None:
            return 0
        if self.position >= MAX_OFFSET:
            raise BadUserInput(f"'{self.after:.40}' is not a cursor this {self.kind} list "
                               "returned; pass an endCursor from an earlier page")
        return self.position + 1

    def by_key(
        self, rows: Sequence[Row], has_next: bool, key: Callable[[Row], int] = _primary_key
    ) -> Page[Row]:
        """The page of keyset `rows` (read below `position`): each cursor holds `key(row)`."""
        return self._page(rows, [key(row) for row in rows], has_next)

    def by_offset(self, rows: Sequence[Row], has_next: bool) -> Page[Row]:
        """The page of `rows` read from `start`: each cursor holds its row's offset."""
        return self._page(rows, range(self.start, self.start + len(rows)), has_next)

    def _page(self, rows: Sequence[Row], positions: Sequence[int], has_next: bool) -> Page[Row]:
        cursors = [encode_cursor(self.kind, position) for position in positions]
        return Page(rows, cursors, page_info(cursors, has_next, self.after))

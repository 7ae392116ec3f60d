"""PageRequest: the one place connections check `first`, decode `after` and build PageInfo."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from arcos.graphql.pagination import (
    MAX_OFFSET,
    MAX_POSITION,
    PageRequest,
    check_offset,
    decode_cursor,
    encode_cursor,
)
from arcos.problems import BadUserInput


@dataclass
class Row:
    id: int


@dataclass
class Edge:
    cursor: str
    node: int


def test_offset_pages_continue_where_the_last_cursor_points() -> None:
    first = PageRequest.of("thing", 2, None, 10)
    page = first.by_offset(["a", "b"], has_next=True)
    assert [decode_cursor("thing", cursor) for cursor in page.cursors] == [0, 1]
    assert (page.info.has_next_page, page.info.has_previous_page) == (True, False)
    assert page.info.end_cursor == page.cursors[-1]
    second = PageRequest.of("thing", 2, page.info.end_cursor, 10)
    assert second.start == 2
    assert [decode_cursor("thing", c) for c in second.by_offset(["c"], False).cursors] == [2]


def test_keyset_cursors_hold_the_row_keys_and_edges_pair_them_in_order() -> None:
    after = encode_cursor("thing", 9)
    request = PageRequest.of("thing", 5, after, 10)
    assert request.position == 9
    page = request.by_key([Row(8), Row(3)], has_next=False)
    edges = page.edges(Edge, lambda row: row.id)
    assert [(decode_cursor("thing", e.cursor), e.node) for e in edges] == [(8, 8), (3, 3)]
    assert (page.info.has_previous_page, page.info.start_cursor) == (True, edges[0].cursor)


def test_an_empty_page_ends_where_it_began() -> None:
    after = encode_cursor("thing", 4)
    page = PageRequest.of("thing", 5, after, 10).by_key([], has_next=False)
    assert (page.info.start_cursor, page.info.end_cursor) == (None, after)


@pytest.mark.parametrize(("first", "after", "words"), [
    (0, None, "first must be between 1 and 10 (got 0)"),
    (11, None, "first must be between 1 and 10 (got 11)"),
    (5, encode_cursor("other", 1), "is not a thing cursor"),
])
def test_bad_pages_are_refused_before_any_row_is_read(first: int, after: str | None,
                                                      words: str) -> None:
    with pytest.raises(BadUserInput, match=words.replace("(", r"\(").replace(")", r"\)")):
        PageRequest.of("thing", first, after, 10)


@pytest.mark.parametrize("position", [MAX_OFFSET + 1, MAX_POSITION])
def test_an_offset_cursor_beyond_any_offset_list_is_refused(position: int) -> None:
    """Offset sources read from `position + 1`: past MAX_OFFSET no list of theirs returned
    the cursor, and 2**63 - 1 + 1 would overflow the SQL OFFSET into an internal error."""
    request = PageRequest.of("thing", 5, encode_cursor("thing", position), 10)
    with pytest.raises(BadUserInput, match="is not a cursor this thing list returned"):
        _ = request.start


def test_the_last_offset_cursor_and_the_largest_key_still_work() -> None:
    assert PageRequest.of("thing", 5, encode_cursor("thing", MAX_OFFSET - 1), 10).start \
        == MAX_OFFSET
    keyset = PageRequest.of("thing", 5, encode_cursor("thing", MAX_POSITION), 10)
    assert keyset.position == MAX_POSITION
    assert decode_cursor("thing", keyset.by_key([Row(MAX_POSITION - 1)], False).cursors[0]) \
        == MAX_POSITION - 1


@pytest.mark.parametrize(("value", "words"), [
    (-1, r"offset must not be negative \(got -1\)"),
    (MAX_OFFSET + 1, rf"offset must be at most {MAX_OFFSET} \(got {MAX_OFFSET + 1}\)"),
])
def test_offsets_outside_what_a_list_holds_are_refused(value: int, words: str) -> None:
    with pytest.raises(BadUserInput, match=words):
        check_offset(value)
    assert check_offset(MAX_OFFSET) == MAX_OFFSET

"""PageRequest: the one place connections check `first`, decode `after` and build PageInfo."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from arcos.graphql.pagination import PageRequest, decode_cursor, encode_cursor
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

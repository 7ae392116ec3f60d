"""Ranked full-text search over patterns and practices, in the store itself.

SQLite: an FTS5 table per kind, filled by triggers on the item table (so every write, by
any code path, updates it in the same transaction) and an `fts5vocab` view of it giving
each word's occurrences per row and column. PostgreSQL: a generated `tsvector` column
with a GIN index. Both are created on first use (`ensure_search`), since
`generate_schemas` only knows plain tables; creating them backfills rows stored before.

Matching: every word of the query must start a word of the title, keywords or
description (prefix match, case-insensitive). Ranking: a score computed from the row
alone — ts_rank over a weighted vector on PostgreSQL (in the query, which pages), the
weighted count of matching word occurrences on SQLite (one grouped pass over FTS5's word
list per query word; the reader's matching ids are then sorted by it) — never from corpus
statistics: FTS5's bm25 weighs words by how many rows hold them, so a private row would
shift the order others see. The reader's visibility filter is applied before counting
and paging.

Query words are letters and digits only (`WORD`), so they can be inlined into the SQL as
literals: Tortoise's RawSQL takes no parameters, and no quote or operator can reach it.
"""

from __future__ import annotations

import asyncio
import re
import weakref
from dataclasses import dataclass
from typing import TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import RawSQL
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from arcos.problems import BadUserInput

Item = TypeVar("Item", bound=Model)

#: What a query word is: a run of letters and digits (the FTS5 unicode61 tokenizer and the
#: normalised PostgreSQL text split on everything else, underscores and dots included).
WORD = re.compile(r"[^\W_]+")
#: At most this many words of a query are used.
MAX_WORDS = 8
#: Longest query accepted.
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class SearchIndex:
    """The indexed text of one item table: its title column, keywords and description,
    weighted A, B and C (title words count most)."""

    table: str
    title: str

    @property
    def fts(self) -> str:
        return f"{self.table}_fts"

    @property
    def terms(self) -> str:
        return f"{self.table}_terms"

    def columns(self) -> tuple[tuple[str, str, float], ...]:
        """(column, PostgreSQL weight, SQLite weight): ts_rank's default weights of A/B/C."""
        return ((self.title, "A", 1.0), ("keywords", "B", 0.4), ("description", "C", 0.2))


PATTERNS = SearchIndex("community_pattern", "name")
PRACTICES = SearchIndex("community_practice", "title")
INDEXES = (PATTERNS, PRACTICES)


def words(query: str) -> list[str]:
    """The words of a search query, lower case; refuses a query with none."""
    if len(query) > MAX_QUERY_LENGTH:
        raise BadUserInput(f"search must be at most {MAX_QUERY_LENGTH} characters")
    found = [word.lower() for word in WORD.findall(query)][:MAX_WORDS]
    if not found:
        raise BadUserInput("search has no words to look for: give letters or digits")
    return list(dict.fromkeys(found))


def _match(index: SearchIndex, terms: list[str], dialect: str) -> str:
    """A subquery of the ids of rows holding every term (as word prefixes)."""
    if dialect == "postgres":
        return f"(SELECT id FROM {index.table} WHERE search_vector @@ {_tsquery(terms)})"  # noqa: S608
    match = " ".join(f'"{term}"*' for term in terms)
    return f"(SELECT rowid FROM {index.fts} WHERE {index.fts} MATCH '{match}')"  # noqa: S608


def _tsquery(terms: list[str]) -> str:
    return "to_tsquery('simple', '" + " & ".join(f"{term}:*" for term in terms) + "')"


async def _sqlite_scores(index: SearchIndex, terms: list[str]) -> dict[int, float]:
    """Each row's weighted count of word occurrences starting with a term, in one pass
    over the index's word list per term (a correlated subquery per row would scan the
    term's occurrences once for every candidate)."""
    weights = " ".join(f"WHEN '{column}' THEN {weight}" for column, _, weight in index.columns())
    query = (f"SELECT doc, SUM(CASE col {weights} ELSE 0 END) AS score "  # noqa: S608
             f"FROM {index.terms} WHERE term >= ? AND term < ? GROUP BY doc")
    connection = connections.get("default")
    scores: dict[int, float] = {}
    # One query per word: fts5vocab answers an OR of term ranges wrongly (it applies one).
    for term in terms:
        for row in await connection.execute_query_dict(query, [term, term + "\U0010ffff"]):
            scores[row["doc"]] = scores.get(row["doc"], 0.0) + float(row["score"])
    return scores


async def search_page(
    queryset: QuerySet[Item], index: SearchIndex, terms: list[str], first: int, offset: int
) -> tuple[list[Item], bool, int]:
    """One page of the rows of `queryset` (already narrowed to what the reader may see)
    holding every term, best first: (rows, whether more follow, how many match)."""
    dialect = await ensure_search()
    matching = queryset.filter(id__in=RawSQL(_match(index, terms, dialect)))
    if dialect == "postgres":
        score = RawSQL(f"ts_rank({index.table}.search_vector, {_tsquery(terms)})")
        total = await matching.count()
        rows = list(await matching.annotate(score=score).order_by("-score", "-id")
                    .offset(offset).limit(first + 1))
        return rows[:first], len(rows) > first, total
    ids = list(await matching.values_list("id", flat=True))
    scores = await _sqlite_scores(index, terms)
    ids.sort(key=lambda row_id: (-scores.get(row_id, 0.0), -row_id))
    chosen = ids[offset:offset + first + 1]
    found = {row.id: row for row in await queryset.filter(id__in=chosen)}
    rows = [found[row_id] for row_id in chosen if row_id in found]
    return rows[:first], len(rows) > first, len(ids)


def _sqlite_ddl(index: SearchIndex) -> list[str]:
    names = ", ".join(column for column, _, _ in index.columns())
    new = ", ".join(f"new.{column}" for column, _, _ in index.columns())
    # Names come from the SearchIndex constants above, never from input.
    insert = f"INSERT INTO {index.fts}(rowid, {names}) VALUES (new.id, {new});"  # noqa: S608
    delete = f"DELETE FROM {index.fts} WHERE rowid = old.id;"  # noqa: S608
    return [
        f"CREATE VIRTUAL TABLE {index.fts} USING fts5({names}, "
        "tokenize = 'unicode61 remove_diacritics 0')",
        f"CREATE VIRTUAL TABLE {index.terms} USING fts5vocab({index.fts}, instance)",
        f"CREATE TRIGGER {index.fts}_insert AFTER INSERT ON {index.table} BEGIN {insert} END",
        f"CREATE TRIGGER {index.fts}_update AFTER UPDATE OF {names} ON {index.table} "
        f"BEGIN {delete} {insert} END",
        f"CREATE TRIGGER {index.fts}_delete AFTER DELETE ON {index.table} BEGIN {delete} END",
        f"INSERT INTO {index.fts}(rowid, {names}) SELECT id, {names} "  # noqa: S608
        f"FROM {index.table}",
    ]


def _postgres_vector(index: SearchIndex) -> str:
    """The weighted vector, over text with every non-alphanumeric run made a space (so
    PostgreSQL's parser splits words where FTS5 does: `coverage.line_rate` is three)."""
    parts = [
        f"setweight(to_tsvector('simple'::regconfig, regexp_replace(coalesce({column}, ''), "
        f"'[^[:alnum:]]+', ' ', 'g')), '{weight}')"
        for column, weight, _ in index.columns()
    ]
    return " || ".join(parts)


async def _prepare_sqlite(connection: BaseDBAsyncClient, index: SearchIndex) -> None:
    if await _sqlite_has(connection, index):
        return
    async with in_transaction() as transaction:
        # Another process on the same file may be creating them right now. A write that
        # touches no row takes the store's write lock first (waiting for that process to
        # commit), and only then is the schema read again, so exactly one creates them.
        await transaction.execute_query(f"DELETE FROM {index.table} WHERE 0")  # noqa: S608
        if await _sqlite_has(transaction, index):
            return
        for statement in _sqlite_ddl(index):
            await transaction.execute_script(statement)


async def _sqlite_has(connection: BaseDBAsyncClient, index: SearchIndex) -> bool:
    return bool(await connection.execute_query_dict(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", [index.fts]))


async def _prepare_postgres(connection: BaseDBAsyncClient, index: SearchIndex) -> None:
    async with in_transaction() as transaction:
        # Two servers starting at once would race on the catalogue without it.
        await transaction.execute_query(
            "SELECT pg_advisory_xact_lock(hashtext('arcos.community'), hashtext($1))",
            [index.table])
        await transaction.execute_script(
            f"ALTER TABLE {index.table} ADD COLUMN IF NOT EXISTS search_vector tsvector "
            f"GENERATED ALWAYS AS ({_postgres_vector(index)}) STORED")
        await transaction.execute_script(
            f"CREATE INDEX IF NOT EXISTS {index.table}_search ON {index.table} "
            "USING GIN (search_vector)")


#: Stores whose search structures are known to exist (by their connection client).
_READY: weakref.WeakSet[BaseDBAsyncClient] = weakref.WeakSet()
#: One lock per store, so concurrent first requests create the structures once (a lock
#: per store rather than one for the module: each store lives in its own event loop).
_LOCKS: weakref.WeakKeyDictionary[BaseDBAsyncClient, asyncio.Lock] = (
    weakref.WeakKeyDictionary())


async def ensure_search() -> str:
    """Create the search structures of every index if this store lacks them; returns the
    dialect. Cheap after the first call on a store."""
    connection = connections.get("default")
    dialect = connection.capabilities.dialect
    if connection in _READY:
        return dialect
    async with _LOCKS.setdefault(connection, asyncio.Lock()):
        if connection not in _READY:
            for index in INDEXES:
                if dialect == "postgres":
                    await _prepare_postgres(connection, index)
                else:
                    await _prepare_sqlite(connection, index)
            _READY.add(connection)
    return dialect

"""The SQL of repeated read-only `values_list` queries, built once per distinct query.

Tortoise builds a query's SQL anew on every await: it clones the queryset for each filter,
resolves the fields, orderings and filters, and renders the SQL with pypika. A listing read
again and again with the same arguments (a dashboard polling `evidenceList`) spent more
Python time there than anywhere else on the direct path (arcos/graphql/direct_plan.py).
`SelectCache.rows(key, build)` builds the query once per key and the connection's kind,
remembers its SQL, parameters and column converters, and on later calls only runs the SQL
and converts the values as Tortoise's `values_list` does.

`key` must determine the query completely: `build` may depend on nothing else.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from tortoise.queryset import ValuesListQuery
from tortoise.router import router

#: Distinct queries remembered, least recently used dropped first.
MAX_QUERIES = 256


@dataclass(frozen=True)
class _Built:
    model: type[Any]
    sql: str
    parameters: tuple[Any, ...]
    #: (result column key, converter to the Python value) in select order.
    columns: tuple[tuple[str, Callable[[Any], Any]], ...]


class SelectCache:
    """Built `values_list` queries by key, per kind of database client."""

    def __init__(self, max_queries: int = MAX_QUERIES) -> None:
        self.max_queries = max_queries
        self._built: OrderedDict[tuple[Hashable, type], _Built] = OrderedDict()

    async def rows(
        self, key: Hashable, model: type[Any], build: Callable[[], ValuesListQuery[Any]]
    ) -> list[tuple[Any, ...]]:
        """The rows of the query `build` makes (a `values_list` on `model`, not flat)."""
        db = router.db_for_read(model) or model._meta.db
        slot = (key, type(db))
        built = self._built.get(slot)
        if built is None:
            built = self._build(model, build, db)
            self._built[slot] = built
            if len(self._built) > self.max_queries:
                self._built.popitem(last=False)
        else:
            self._built.move_to_end(slot)
        _, result = await db.execute_query(built.sql, list(built.parameters))
        columns = built.columns
        return [tuple(convert(entry[name]) for name, convert in columns) for entry in result]

    @staticmethod
    def _build(model: type[Any], build: Callable[[], ValuesListQuery[Any]], db: Any) -> _Built:
        query = build()
        query._db = db
        query._make_query()
        sql, parameters = query.query.get_parameterized_sql()
        columns = tuple(
            (name, query.resolve_to_python_value(model, field))
            for name, field in query.fields.items()
        )
        return _Built(model, sql, tuple(parameters), columns)

"""Bring an evidence table made by an ARCOS from before migrations up to the baseline.

Those releases created missing tables (`generate_schemas(safe=True)`) but never added
columns to existing ones. This now runs only when such a store is adopted
(arcos/store/adoption.py), inside the migration's transaction; later changes are
migrations (arcos/migrations/). The size columns (`data_size`, `metadata_size`) are added
here and filled in SQL from the stored JSON text, without reading any value into this
process. For those older rows the size is the stored text's length: canonical JSON for
ASCII content on SQLite, and a slight overestimate elsewhere (PostgreSQL's jsonb text has
spaces), which only makes the response bound stricter for them.
"""

from __future__ import annotations

from tortoise import connections
from tortoise.transactions import in_transaction

from arcos.store.catalogue import column_names

#: Size column -> the JSON column it measures.
SIZE_COLUMNS = {"data_size": "data", "metadata_size": "metadata"}
#: Byte length of a stored JSON column, per dialect.
STORED_LENGTH = {
    "sqlite": "length(CAST({column} AS BLOB))",
    "postgres": "octet_length({column}::text)",
}


async def add_size_columns() -> None:
    """Add and fill any size column the evidence table lacks; a no-op on current stores."""
    connection = connections.get("default")
    # From the catalogue: a failing probe would abort the transaction on PostgreSQL.
    present = (await column_names(connection)).get("evidence", set())
    for size_column, json_column in SIZE_COLUMNS.items():
        if size_column in present:
            continue
        # Names come from the constants above, never from input.
        length = STORED_LENGTH[connection.capabilities.dialect].format(column=json_column)
        add = f"ALTER TABLE evidence ADD COLUMN {size_column} BIGINT"
        fill = f"UPDATE evidence SET {size_column} = {length}"  # noqa: S608
        # Statement by statement: SQLite's executescript would commit the enclosing one.
        async with in_transaction() as transaction:  # both dialects roll DDL back
            await transaction.execute_query(add)
            await transaction.execute_query(fill)

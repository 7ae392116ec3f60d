"""Bring a store written by an older ARCOS up to the current evidence table.

`generate_schemas(safe=True)` creates missing tables but never adds columns to existing
ones. The size columns (`data_size`, `metadata_size`) are added here and filled in SQL
from the stored JSON text, without reading any value into this process. For those older
rows the size is the stored text's length: canonical JSON for ASCII content on SQLite,
and a slight overestimate elsewhere (PostgreSQL's jsonb text has spaces), which only makes
the response bound stricter for them.
"""

from __future__ import annotations

from tortoise import connections
from tortoise.exceptions import BaseORMException
from tortoise.transactions import in_transaction

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
    for size_column, json_column in SIZE_COLUMNS.items():
        try:
            # Names come from the constants above, never from input.
            await connection.execute_query(f"SELECT {size_column} FROM evidence LIMIT 0")  # noqa: S608
            continue
        except BaseORMException:
            pass  # the column is missing: an older store
        length = STORED_LENGTH[connection.capabilities.dialect].format(column=json_column)
        add = f"ALTER TABLE evidence ADD COLUMN {size_column} BIGINT"
        fill = f"UPDATE evidence SET {size_column} = {length}"  # noqa: S608
        async with in_transaction() as transaction:  # both dialects roll DDL back
            await transaction.execute_script(add)
            await transaction.execute_script(fill)

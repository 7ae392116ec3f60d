"""Stored `data` and `metadata` read as the JSON text the store holds.

Read through the ORM, each value was decoded (`json.loads`) and the response then encoded
it again, both on the event loop: a reader repeating a listing of six 5 MB items held every
other client for about 2.5 s a time. The text is valid JSON already (the canonical form a
write made, or an older row's ORM encoding; on PostgreSQL the `jsonb` output form), so a
response splices it in as it is (`PreEncodedJSON`) and nothing is decoded or encoded.
"""

from __future__ import annotations

from collections.abc import Sequence

from arcos.evidence.models import LARGE_VALUES, Evidence

#: The column as text, per dialect: SQLite stores the text; PostgreSQL's `jsonb` prints it.
AS_TEXT = {"sqlite": "{column}", "postgres": "{column}::text"}


async def stored_json_texts(column: str, seqs: Sequence[int]) -> dict[int, str]:
    """`column`'s stored text by seq, for the rows of `seqs` that exist."""
    if column not in LARGE_VALUES:
        raise ValueError(f"{column} is not a stored JSON column")
    if not seqs:
        return {}
    connection = Evidence._meta.db  # the transaction's connection inside one
    selected = AS_TEXT[connection.capabilities.dialect].format(column=column)
    # Integers from the DataLoader (cast again here): inlined, so no dialect's placeholder
    # style or parameter limit matters.
    wanted = ",".join(str(int(seq)) for seq in seqs)
    _, rows = await connection.execute_query(
        f"SELECT seq, {selected} FROM evidence WHERE seq IN ({wanted})"  # noqa: S608
    )
    return {int(row[0]): _text(row[1]) for row in rows}


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value

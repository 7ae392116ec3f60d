"""JSON encoded once and spliced into many messages.

A new evidence item goes to every matching subscriber. Encoding its `data` per subscriber
made one large write cost O(subscribers) serialisations on the event loop; instead the
canonical JSON text computed at write time travels with the event, resolvers return it
wrapped in `PreEncodedJSON`, and `dumps` encodes only the small envelope around it and
splices the text in: per subscriber, one string copy.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any


class PreEncodedJSON:
    """A JSON value already encoded as text; `dumps` inserts the text as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def value(self) -> Any:
        """The decoded value, for callers that need Python objects rather than text."""
        return json.loads(self.text)


def dumps(value: Any) -> str:
    """Compact JSON for `value`, with every `PreEncodedJSON` inside it spliced in.

    Each pre-encoded value is first encoded as a placeholder string carrying a random
    nonce (so no client-supplied string can imitate one), then one pass replaces the
    placeholders; the spliced texts are never scanned again.
    """
    spliced: list[str] = []
    nonce = ""

    def placeholder(item: Any) -> str:
        nonlocal nonce
        if not isinstance(item, PreEncodedJSON):
            raise TypeError(f"{type(item).__name__} is not JSON serializable")
        nonce = nonce or secrets.token_hex(16)
        spliced.append(item.text)
        return f"{nonce}:{len(spliced) - 1}"

    text = json.dumps(value, separators=(",", ":"), default=placeholder)
    if not spliced:
        return text
    pattern = re.compile(f'"{nonce}:([0-9]+)"')
    return pattern.sub(lambda match: spliced[int(match.group(1))], text)

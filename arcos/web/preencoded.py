"""JSON encoded once and spliced into many messages.

A new evidence item goes to every matching subscriber. Encoding its `data` per subscriber
made one large write cost O(subscribers) serialisations on the event loop; instead the
canonical JSON text computed at write time travels with the event, resolvers return it
wrapped in `PreEncodedJSON`, and `dumps` encodes only the small envelope around it and
splices the text in: per subscriber, one string copy.
"""

from __future__ import annotations

import json
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


class Encoded:
    """A value's compact JSON, not yet spliced: the envelope text with placeholders, and
    the pre-encoded texts that replace them. `size` is known before any large text is
    copied, so a sender can decide how to send the message before building it."""

    __slots__ = ("envelope", "nonce", "spliced")

    def __init__(self, envelope: str, nonce: str, spliced: list[str]) -> None:
        self.envelope = envelope
        self.nonce = nonce
        self.spliced = spliced

    @property
    def size(self) -> int:
        """Characters of the final text, near enough (each placeholder is counted too)."""
        return len(self.envelope) + sum(len(text) for text in self.spliced)

    def text(self) -> str:
        """The final JSON text: one copy of each spliced text."""
        if not self.spliced:
            return self.envelope
        # Split at each placeholder's opening `"nonce:` rather than compiling a pattern with
        # the nonce in it: a new nonce per message missed re's cache, 0.3 ms per response.
        pieces = self.envelope.split(f'"{self.nonce}:')
        parts = [pieces[0]]
        for piece in pieces[1:]:
            index, _, rest = piece.partition('"')
            parts += (self.spliced[int(index)], rest)
        return "".join(parts)


def encode(value: Any) -> Encoded:
    """Compact JSON for `value`, with every `PreEncodedJSON` inside it left to splice.

    Each pre-encoded value is encoded as a placeholder string carrying a random nonce (so
    no client-supplied string can imitate one); `Encoded.text()` replaces the placeholders
    in one pass and never scans the spliced texts.
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

    return Encoded(json.dumps(value, separators=(",", ":"), default=placeholder), nonce, spliced)


def dumps(value: Any) -> str:
    """Compact JSON for `value`, with every `PreEncodedJSON` inside it spliced in."""
    return encode(value).text()

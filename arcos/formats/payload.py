"""Turn an uploaded body into artifact bytes: gunzip it if needed, never past a size cap, so a
gzip bomb is refused after inflating at most `max_bytes` plus one chunk."""

from __future__ import annotations

import zlib

from arcos.formats.errors import BAD_REQUEST, PAYLOAD_TOO_LARGE, UNPROCESSABLE, ArtifactRefused

GZIP_MAGIC = b"\x1f\x8b"
CHUNK_BYTES = 64 * 1024
#: How much compressed input is handed to zlib at once (bounds its copies of the rest).
INPUT_WINDOW = 16 * 1024
#: Most gzip input `peek` inflates.
PEEK_INPUT_BYTES = 1024 * 1024
#: Concatenated gzip members accepted by default (ARCOS_MAX_GZIP_MEMBERS); real reports
#: have one, `cat a.gz b.gz` a few.
DEFAULT_MAX_MEMBERS = 64
_GZIP_WBITS = 16 + zlib.MAX_WBITS


def is_gzip(raw: bytes) -> bool:
    """True when the bytes start with the gzip magic number."""
    return raw[:2] == GZIP_MAGIC


def decode(
    raw: bytes, *, gzip: bool | None = None, max_bytes: int,
    max_members: int = DEFAULT_MAX_MEMBERS,
) -> bytes:
    """Return the artifact bytes, gunzipped when `gzip` is true (or, when None, when the gzip
    magic is present), refusing anything whose decoded size exceeds `max_bytes` (413), more
    than `max_members` concatenated gzip members (413), truncated or corrupt gzip (422) and an
    empty body (400)."""
    if max_bytes <= 0 or max_members <= 0:
        raise ValueError("max_bytes and max_members must be positive")
    if not raw:
        raise ArtifactRefused(BAD_REQUEST, "the artifact is empty; upload the report file itself")
    compressed = is_gzip(raw) if gzip is None else gzip
    if not compressed:
        if len(raw) > max_bytes:
            raise ArtifactRefused(PAYLOAD_TOO_LARGE, _too_large(max_bytes))
        return bytes(raw)
    if not is_gzip(raw):
        raise ArtifactRefused(
            UNPROCESSABLE,
            "the artifact was declared gzip but does not start with the gzip magic bytes 1f 8b; "
            "send it uncompressed or gzip it properly",
        )
    return _gunzip(memoryview(raw), max_bytes, max_members)


def peek(raw: bytes, limit: int) -> tuple[bytes, bool]:
    """At most the first `limit` decoded bytes of `raw` (a body or a prefix of one), and
    whether they are all of it, for sniffing a format cheaply: at most
    PEEK_INPUT_BYTES of gzip input is inflated, whatever follows. Corrupt gzip peeks as
    empty; the parser says what is wrong with it."""
    if not is_gzip(raw):
        return bytes(raw[:limit]), len(raw) <= limit
    inflater = zlib.decompressobj(_GZIP_WBITS)
    window = raw[:PEEK_INPUT_BYTES]
    try:
        head = inflater.decompress(window, limit)
    except zlib.error:
        return b"", False
    whole = inflater.eof and len(raw) <= PEEK_INPUT_BYTES and not inflater.unused_data
    return head, whole


def _too_large(max_bytes: int) -> str:
    return (
        f"the artifact is larger than {max_bytes:,} bytes once decompressed; split it "
        "(e.g. one report per module or per run) or raise the server's artifact size limit"
    )


def _gunzip(raw: memoryview, max_bytes: int, max_members: int) -> bytes:
    """Inflate every gzip member in `raw`, counting output as it is produced.

    Linear in the input: members are located by offset into one memoryview and fed in
    bounded windows, so no member ever copies the rest of the body (many tiny members
    used to make this quadratic)."""
    output = bytearray()
    position = 0
    members = 0
    while True:
        members += 1
        if members > max_members:
            raise ArtifactRefused(
                PAYLOAD_TOO_LARGE,
                f"the gzip data has more than {max_members:,} concatenated members "
                "(ARCOS_MAX_GZIP_MEMBERS); compress the report as one gzip stream",
            )
        try:
            position = _inflate_member(raw, position, output, max_bytes)
        except zlib.error as error:
            raise ArtifactRefused(
                UNPROCESSABLE, f"the gzip data is corrupt ({error}); re-create the archive"
            ) from None
        if position >= len(raw):
            return bytes(output)
        if raw[position:position + 2] != GZIP_MAGIC:
            # Trailing NUL padding is tolerated like gzip(1); checked once, at the end.
            if not bytes(raw[position:]).strip(b"\x00"):
                return bytes(output)
            raise ArtifactRefused(
                UNPROCESSABLE, "unexpected bytes after the end of the gzip data; re-create it"
            )


def _inflate_member(raw: memoryview, position: int, output: bytearray, max_bytes: int) -> int:
    """Inflate the member starting at `position` into `output`; return where the next one
    starts. Input goes in windows of INPUT_WINDOW bytes, so what zlib copies back
    (`unconsumed_tail`, `unused_data`) is bounded by one window, not the body."""
    inflater = zlib.decompressobj(_GZIP_WBITS)
    pending: bytes | memoryview = b""
    while not inflater.eof:
        if not pending:
            if position >= len(raw):
                raise ArtifactRefused(
                    UNPROCESSABLE,
                    "the gzip data is truncated (it ends before the end of the compressed "
                    "stream); upload the complete file",
                )
            pending = raw[position:position + INPUT_WINDOW]
            position += len(pending)
        chunk = inflater.decompress(pending, CHUNK_BYTES)
        output += chunk
        if len(output) > max_bytes:
            raise ArtifactRefused(PAYLOAD_TOO_LARGE, _too_large(max_bytes))
        pending = inflater.unconsumed_tail
    return position - len(inflater.unused_data)

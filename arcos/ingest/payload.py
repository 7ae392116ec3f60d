"""Turn an uploaded body into artifact bytes: gunzip it if needed, never past a size cap, so a
gzip bomb is refused after inflating at most `max_bytes` plus one chunk."""

from __future__ import annotations

import zlib

from arcos.ingest.errors import BAD_REQUEST, PAYLOAD_TOO_LARGE, UNPROCESSABLE, ArtifactRefused

GZIP_MAGIC = b"\x1f\x8b"
CHUNK_BYTES = 64 * 1024
_GZIP_WBITS = 16 + zlib.MAX_WBITS


def is_gzip(raw: bytes) -> bool:
    """True when the bytes start with the gzip magic number."""
    return raw[:2] == GZIP_MAGIC


def decode(raw: bytes, *, gzip: bool | None = None, max_bytes: int) -> bytes:
    """Return the artifact bytes, gunzipped when `gzip` is true (or, when None, when the gzip
    magic is present), refusing anything whose decoded size exceeds `max_bytes` (413),
    truncated or corrupt gzip (422) and an empty body (400)."""
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
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
    return _gunzip(raw, max_bytes)


def _too_large(max_bytes: int) -> str:
    return (
        f"the artifact is larger than {max_bytes:,} bytes once decompressed; split it "
        "(e.g. one report per module or per run) or raise the server's artifact size limit"
    )


def _gunzip(raw: bytes, max_bytes: int) -> bytes:
    """Inflate every gzip member in `raw`, counting output as it is produced."""
    output = bytearray()
    pending = raw
    while True:
        inflater = zlib.decompressobj(_GZIP_WBITS)
        try:
            pending = _inflate_member(inflater, pending, output, max_bytes)
        except zlib.error as error:
            raise ArtifactRefused(
                UNPROCESSABLE, f"the gzip data is corrupt ({error}); re-create the archive"
            ) from None
        # Concatenated members are valid gzip; trailing NUL padding is tolerated like gzip(1).
        if not pending.strip(b"\x00"):
            return bytes(output)
        if not is_gzip(pending):
            raise ArtifactRefused(
                UNPROCESSABLE, "unexpected bytes after the end of the gzip data; re-create it"
            )


def _inflate_member(
    inflater: zlib._Decompress, data: bytes, output: bytearray, max_bytes: int
) -> bytes:
    """Inflate one member into `output`; return the bytes that follow it."""
    while not inflater.eof:
        chunk = inflater.decompress(data, CHUNK_BYTES)
        output += chunk
        if len(output) > max_bytes:
            raise ArtifactRefused(PAYLOAD_TOO_LARGE, _too_large(max_bytes))
        data = inflater.unconsumed_tail
        if not chunk and not data:
            raise ArtifactRefused(
                UNPROCESSABLE,
                "the gzip data is truncated (it ends before the end of the compressed stream); "
                "upload the complete file",
            )
    return inflater.unused_data

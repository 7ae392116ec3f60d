"""A request body streamed into a temporary file, so an upload costs the server a small,
fixed amount of memory however large it is, and a worker process can read it by path."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from starlette.requests import Request

#: Bodies up to this size stay in memory; larger ones go to a temporary file.
MEMORY_THRESHOLD = 1024 * 1024


class BodySpool:
    """A body in memory up to `threshold` bytes, on disk (a private temporary file, removed
    by `close()`) beyond. Also what a GraphQL `Upload` argument expects: `await read()`."""

    def __init__(self, threshold: int = MEMORY_THRESHOLD) -> None:
        self.threshold = threshold
        self.size = 0
        self.path: Path | None = None
        self._file: io.BufferedRandom | io.BytesIO = io.BytesIO()

    @classmethod
    async def of(cls, request: Request, threshold: int = MEMORY_THRESHOLD) -> BodySpool:
        """The whole body of `request`, read as it streams (the size limit is enforced by
        BodySizeLimit while it is read)."""
        spool = cls(threshold)
        try:
            async for chunk in request.stream():
                spool.write(chunk)
        except BaseException:
            spool.close()
            raise
        return spool

    def write(self, chunk: bytes) -> None:
        if self.path is None and self.size + len(chunk) > self.threshold:
            self._roll_over()
        self._file.write(chunk)
        self.size += len(chunk)

    def _roll_over(self) -> None:
        handle, name = tempfile.mkstemp(prefix="arcos-upload-")
        in_memory = self._file
        assert isinstance(in_memory, io.BytesIO)
        # Owned from here on, so `close()` removes the file even when this write fails
        # (a full disk).
        self._file, self.path = os.fdopen(handle, "w+b"), Path(name)
        self._file.write(in_memory.getbuffer())

    @classmethod
    def of_chunks(cls, chunks: Iterable[bytes], threshold: int = MEMORY_THRESHOLD) -> BodySpool:
        """A spool of `chunks`, written as they come, so a large artifact held as text is not
        also held whole as bytes."""
        spool = cls(threshold)
        try:
            for chunk in chunks:
                spool.write(chunk)
        except BaseException:
            spool.close()
            raise
        return spool

    def head(self, size: int) -> bytes:
        """The first `size` bytes."""
        self._file.flush()
        self._file.seek(0)
        return self._file.read(size)

    async def read(self) -> bytes:
        """The whole body (a GraphQL resolver's view of an Upload)."""
        return self.head(self.size)

    def source(self) -> bytes | Path:
        """What a worker process is handed: the bytes when small, else the file's path."""
        if self.path is None:
            return self.head(self.size)
        self._file.flush()
        return self.path

    def close(self) -> None:
        self._file.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None

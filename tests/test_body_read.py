"""`arcos.web.body_limit.read_body`: a request body in one buffer, presized from
Content-Length, whatever the chunks or the header say."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from arcos.web.body_limit import read_body


def request(chunks: list[bytes], declared: int | None) -> Request:
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    messages.append({"type": "http.request", "body": b"", "more_body": False})
    headers = [] if declared is None else [(b"content-length", str(declared).encode())]

    async def receive() -> dict:
        return messages.pop(0)

    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


@pytest.mark.parametrize("declared", [None, 10, 4, 100])
async def test_the_body_arrives_whole_whatever_content_length_says(declared: int | None):
    body = await read_body(request([b"abc", b"defg", b"", b"hij"], declared), limit=50)
    assert isinstance(body, bytearray) and body == b"abcdefghij"


async def test_the_buffer_is_presized_from_content_length_but_never_past_the_limit():
    body = await read_body(request([b"x" * 10], 10), limit=50)
    assert body == b"x" * 10
    # Larger than the limit it is never presized (BodySizeLimit refuses what arrives).
    assert await read_body(request([b"y" * 3], 10**12), limit=50) == b"yyy"

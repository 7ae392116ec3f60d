"""Decoding uploads: gzip detection, size caps counted while inflating, broken gzip."""

import gzip
import time
import tracemalloc
import zlib

import pytest

from arcos.formats.errors import ArtifactRefused
from arcos.formats.parse import Limits, parse
from arcos.formats.payload import decode

pytest_plugins = ["format_artifacts"]

BOMB_BYTES = 200 * 1024 * 1024


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """200 MB of zeros, gzipped (~200 KB), built without ever holding the 200 MB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    parts = [compressor.compress(zeros) for _ in range(BOMB_BYTES // len(zeros))]
    parts.append(compressor.flush())
    return b"".join(parts)


def test_plain_bytes_pass_through():
    assert decode(b"<testsuite/>", max_bytes=100) == b"<testsuite/>"


def test_gzip_is_detected_by_magic_and_inflated():
    assert decode(gzip.compress(b"hello " * 1000), max_bytes=10_000) == b"hello " * 1000


def test_concatenated_gzip_members_and_trailing_padding_are_accepted():
    body = gzip.compress(b"first,") + gzip.compress(b"second") + b"\x00" * 16
    assert decode(body, max_bytes=100) == b"first,second"


def test_gzip_declared_but_absent_is_refused():
    with pytest.raises(ArtifactRefused) as refused:
        decode(b"not gzip", gzip=True, max_bytes=100)
    assert refused.value.status == 422
    assert "1f 8b" in refused.value.message


def test_gzip_false_keeps_the_bytes_compressed():
    body = gzip.compress(b"x")
    assert decode(body, gzip=False, max_bytes=100) == body


def test_plain_body_over_the_cap_is_refused_with_413():
    with pytest.raises(ArtifactRefused) as refused:
        decode(b"x" * 101, max_bytes=100)
    assert refused.value.status == 413
    assert "100 bytes" in refused.value.message


def test_empty_body_is_a_bad_request():
    with pytest.raises(ArtifactRefused) as refused:
        decode(b"", max_bytes=100)
    assert refused.value.status == 400


def test_gzip_bomb_is_refused_without_inflating_it(gzip_bomb):
    assert len(gzip_bomb) < 1024 * 1024
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ArtifactRefused) as refused:
            decode(gzip_bomb, max_bytes=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.status == 413
    # at most the cap plus one chunk (and bytearray slack) was ever held, not 200 MB
    assert peak < 4 * 1024 * 1024
    assert time.perf_counter() - started < 2


def test_gzip_bomb_through_parse_is_a_413(gzip_bomb):
    with pytest.raises(ArtifactRefused) as refused:
        parse(gzip_bomb, limits=Limits(max_decompressed_bytes=5 * 1024 * 1024))
    assert refused.value.status == 413


def test_truncated_gzip_is_refused_with_422():
    body = gzip.compress(b"<testsuite/>" * 1000)
    with pytest.raises(ArtifactRefused) as refused:
        decode(body[: len(body) // 2], max_bytes=1_000_000)
    assert refused.value.status == 422
    assert "truncated" in refused.value.message


def test_gzip_with_a_wrong_checksum_is_refused_with_422():
    body = bytearray(gzip.compress(b"<testsuite/>" * 10))
    body[-6] ^= 0xFF  # inside the CRC32 trailer
    with pytest.raises(ArtifactRefused) as refused:
        decode(bytes(body), max_bytes=1_000_000)
    assert refused.value.status == 422
    assert "corrupt" in refused.value.message


def test_garbage_after_the_gzip_stream_is_refused():
    with pytest.raises(ArtifactRefused) as refused:
        decode(gzip.compress(b"x") + b"junk", max_bytes=100)
    assert refused.value.status == 422


def test_gzipped_genuine_report_parses_like_the_plain_one(genuine, ingest_limits):
    plain = genuine.read("junit-xunit2")
    assert parse(gzip.compress(plain), limits=ingest_limits) == parse(plain, limits=ingest_limits)
    assert parse(gzip.compress(plain), content_type="application/gzip", limits=ingest_limits).total == 7

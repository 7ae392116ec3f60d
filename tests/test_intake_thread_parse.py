"""A small plain upload is parsed in a thread instead of a worker process (the process round
trip cost more than such a parse), under the same admission limit as the workers; large or
gzip uploads still go to a worker, so a long parse never holds the server's GIL."""

import gzip
import os

import pytest

from arcos.intake.service import THREAD_PARSE_BYTES, parsed_in_thread
from arcos.web.parse_pool import ParsePool, ParsePoolBusy

SMALL = b"<testsuite><testcase name='t'/></testsuite>"


def test_small_plain_uploads_are_parsed_in_a_thread(tmp_path):
    spooled = tmp_path / "small.xml"
    spooled.write_bytes(SMALL)
    assert parsed_in_thread(SMALL)
    assert parsed_in_thread(spooled)


def test_large_or_gzip_uploads_go_to_a_worker(tmp_path):
    large = b" " * (THREAD_PARSE_BYTES + 1)
    packed = gzip.compress(SMALL)  # small, but its inflated size is unknown until inflated
    assert not parsed_in_thread(large)
    assert not parsed_in_thread(packed)
    for name, content in (("large", large), ("packed", packed)):
        (tmp_path / name).write_bytes(content)
        assert not parsed_in_thread(tmp_path / name)
    assert not parsed_in_thread(tmp_path / "gone")


async def test_a_thread_parse_starts_no_worker_and_runs_in_this_process():
    pool = ParsePool(workers=1, queue=0)
    assert await pool.run(os.getpid, in_thread=True) == os.getpid()
    assert pool._executor is None
    assert pool.admitted == 0


async def test_a_thread_parse_is_admitted_like_a_worker_parse():
    pool = ParsePool(workers=1, queue=0)
    pool.admitted = pool.capacity  # every worker busy, no room to wait
    with pytest.raises(ParsePoolBusy):
        await pool.run(os.getpid, in_thread=True)

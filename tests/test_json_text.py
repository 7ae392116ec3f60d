"""`arcos.web.json_text.parse_json` decodes what `json.loads` decodes, and lets other threads
run while it decodes a large body (a plain `json.loads` holds the GIL for all of it)."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable
from types import FrameType

import pytest

from arcos.web.json_text import STEPPED_FROM, UnreadableJson, parse_json, parse_json_buffer

#: 20,000 small objects, as a test report's results are: ~1.7 MB.
LARGE = json.dumps({"results": [
    {"name": f"test_{index}", "outcome": "passed", "seconds": index / 1000, "tags": ["unit"]}
    for index in range(20_000)
]})


@pytest.mark.parametrize("text", [
    '{"a": 1, "a": 2}',  # the last duplicate wins, as in json.loads
    '{"nested": {"list": [1, 2.5, "x", null, true, {"k": {}}]}, "empty": []}',
    '"just a string"',
])
def test_decodes_what_json_loads_decodes(text: str):
    assert parse_json(text) == json.loads(text)


def test_keeps_the_key_order_of_the_text():
    assert list(parse_json('{"b": 1, "a": 2, "c": {"z": 0, "y": 1}}')) == ["b", "a", "c"]


@pytest.mark.parametrize(("text", "reason"), [
    ("[" * 100_000, "nested too deeply"),
    ('{"a": }', "not valid JSON"),
    (b'{"a": "\xff"}', "not valid UTF-8"),
    ("1" * 5_000, "too many digits"),
])
def test_unreadable_text_says_why(text: str | bytes, reason: str):
    with pytest.raises(UnreadableJson, match=reason):
        parse_json(text)


def python_calls_during(decode: Callable[[str], object], text: str = LARGE) -> int:
    """How many Python functions ran while `decode(text)` ran (with the collector off:
    finalizers of other tests' garbage would run in between and be counted)."""
    calls = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    gc.collect()
    gc.disable()
    sys.setprofile(profile)
    try:
        decode(text)
    finally:
        sys.setprofile(None)
        gc.enable()
    return calls


def test_a_large_body_is_decoded_in_steps_other_threads_can_run_between():
    """The interpreter hands the GIL to a waiting thread when a Python function starts, never
    inside one C call: decoding must run Python code for every object it builds, or the
    event loop waits for the whole body (tests/benchmarks/bench_gil_hold.py measures the
    waits themselves; a wall-clock bound has no place in the suite)."""
    objects = 20_000 + 1
    assert python_calls_during(parse_json) >= objects
    assert python_calls_during(json.loads) < objects // 10


def test_a_small_body_is_decoded_in_one_step():
    """Below STEPPED_FROM the decode is one C call (as short as a GIL hand-over allows)."""
    small = json.dumps([{"n": index} for index in range(200)])
    assert len(small) < STEPPED_FROM
    assert python_calls_during(parse_json, small) < 20
    assert parse_json(small) == json.loads(small)


@pytest.mark.parametrize("body", [
    b'{"query": "{ a }", "variables": {"c": "caf\xc3\xa9 \\"quoted\\""}}',
    '{"x": "\u00e9"}'.encode("utf-16"),  # json.loads detects UTF-16/32 too
    b'\xef\xbb\xbf{"bom": true}',  # and skips a UTF-8 BOM
])
def test_a_buffer_decodes_as_json_loads_decodes_its_bytes_and_is_emptied(body: bytes):
    buffer = bytearray(body)
    assert parse_json_buffer(buffer) == json.loads(body)
    assert buffer == b""


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"a": "\xff"}', "not valid UTF-8"), (b'{"a": }', "not valid JSON"),
])
def test_an_unreadable_buffer_says_why_and_is_emptied(body: bytes, reason: str):
    buffer = bytearray(body)
    with pytest.raises(UnreadableJson, match=reason):
        parse_json_buffer(buffer)
    assert buffer == b""

"""The static check of plugin source: the examples pass, every escape case is refused on
the right line, each rule reports where and what to change, and hostile source never
crashes the check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from escape_corpus import CORPUS, ENTRY_POINT, EscapeCase

from arcos.plugins.code_check import MAX_PROBLEMS, SourceProblem, check_job, check_source
from arcos.plugins.manifest import parse_manifest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plugins"
EXAMPLE_NAMES = ("coverage_gate", "sbom_collector", "ssdf_check", "test_trend_panel")


def problems_of(source: str, entry_point: str = "run") -> list[tuple[int, int, str]]:
    return [(p.line, p.column, p.message) for p in check_source(source, entry_point)]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_the_example_plugins_pass(name: str) -> None:
    manifest = parse_manifest(json.loads((EXAMPLES / f"{name}.manifest.json").read_text()))
    assert check_source((EXAMPLES / f"{name}.py").read_text(), manifest.entry_point) == []


def test_ordinary_plugin_code_passes() -> None:
    source = '''
import json
import re
from collections import Counter
from datetime import datetime, timedelta
from itertools import groupby
from math import sqrt as root
import statistics

LIMIT = 10

def helper(rows, *extra, scale=1, **options):
    return [row for row in rows if row]

def run(data=None):
    rows = (data or {}).get("rows", [])
    counts = Counter(r["kind"] for r in rows)
    total = 0
    for index, (kind, count) in enumerate(sorted(counts.items(), key=lambda kv: -kv[1])):
        total += count
    first, *rest = [1, 2, 3]
    pattern = re.compile(r"^v(\\d+)$")
    match = pattern.match("v12")
    when = datetime(2026, 1, 1) + timedelta(days=1)
    groups = {k: len(list(g)) for k, g in groupby("aab")}
    try:
        value = json.loads("[1]")
    except ValueError as error:
        value = str(error)
    if (n := len(rows)) > LIMIT:
        raise ValueError(f"too many rows: {n!r:>5}")
    del rest[0]
    assert total >= 0, "negative"
    _ = 1
    return {"total": total, "counts": dict(counts), "mean": statistics.fmean([1, 2]),
            "root": root(4), "m": match.group(1), "when": when.isoformat(), "g": groups,
            "v": value, "rest": rest, "h": helper(rows), "ok": not False and 1 in {1}}
'''
    assert check_source(source, "run") == []


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case.name)
def test_every_escape_case_is_refused_on_its_line(case: EscapeCase) -> None:
    problems = check_source(case.source, ENTRY_POINT)
    assert problems, case.name
    assert case.line in {p.line for p in problems}, problems
    for problem in problems:
        assert problem.message.strip()
        assert problem.line >= 0 and problem.column >= 0


@pytest.mark.parametrize(("source", "line", "column", "says"), [
    ("def run():\n    return x.__class__\n", 2, 14, "starts with '_'"),
    ("def run():\n    é = 1; return é.__class__\n", 2, 21, "starts with '_'"),
    ("def run(_a):\n    return 1\n", 1, 9, "parameter '_a'"),
    ("def run():\n    return dict(_k=1)\n", 2, 17, "keyword argument '_k'"),
    ("def _helper():\n    pass\ndef run():\n    pass\n", 1, 1, "function name '_helper'"),
    ("def run():\n    global total\n", 2, 5, "global is not allowed"),
    ("def run():\n    def f():\n        nonlocal total\n", 3, 9, "nonlocal"),
    ("async def helper():\n    pass\ndef run():\n    pass\n", 1, 1, "async code"),
    ("def run():\n    try:\n        pass\n    except* ValueError:\n        pass\n", 2, 5,
     "except*"),
    ("def run():\n    with helper() as h:\n        pass\n", 2, 5, "with statements"),
    ("def run():\n    match 1:\n        case 1:\n            pass\n", 2, 5, "match"),
    ("class Gate:\n    pass\ndef run():\n    pass\n", 1, 1, "class statements"),
    ("def run():\n    x: int = 1\n", 2, 5, "annotated"),
    ("import os\ndef run():\n    pass\n", 1, 1, "importing 'os'"),
    ("import json.decoder\ndef run():\n    pass\n", 1, 1, "not submodules"),
    ("from . import json\ndef run():\n    pass\n", 1, 1, "relative imports"),
    ("from json import *\ndef run():\n    pass\n", 1, 1, "import *"),
    ("from json import codecs\ndef run():\n    pass\n", 1, 1, "no 'codecs'"),
    ("from collections import abc\ndef run():\n    pass\n", 1, 1, "submodules"),
    ("from math import tau_squared\ndef run():\n    pass\n", 1, 1, "check the name"),
    ("import json as _j\ndef run():\n    pass\n", 1, 1, "import alias '_j'"),
    ("def run():\n    return open('x')\n", 2, 12, "'open' is not available"),
    ("def run():\n    return type(1)\n", 2, 12, "isinstance"),
    ("def run():\n    print(1)\n", 2, 5, "return the data"),
    ("def run():\n    return getattr(1, 'real')\n", 2, 12, "obj.name"),
    ("def run():\n    return '{0}'.format(1)\n", 2, 18, "f-string"),
    ("import statistics\ndef run():\n    return statistics.sys\n", 3, 23, "sys module"),
    ("def run(g):\n    return g.gi_frame\n", 2, 14, "frames or code"),
    ("import json\ndef run():\n    json.dumps = len\n", 3, 5, "read-only"),
    ("def run():\n    return max(*[1, 2])\n", 2, 12, "f(*sequence)"),
    ("def run():\n    return dict(**{'a': 1})\n", 2, 17, "f(**mapping)"),
    ("def run():\n    d = {}\n    d['k'] += 1\n", 3, 5, "d[k] = d[k] + 1"),
    ("def run():\n    return undefined_thing\n", 2, 12, "'undefined_thing' is not defined"),
    ("# coding: latin-1\ndef run():\n    pass\n", 1, 1, "encoding declaration"),
    ("#!/usr/bin/env python\n# -*- coding: utf_7 -*-\ndef run():\n    pass\n", 2, 1,
     "encoding declaration"),
    ("def run():\n    x__roles__ = 1\n", 2, 5, "restricted compiler refuses"),
    ("def run(:\n    pass\n", 1, 9, "syntax error"),
    ("def run():\n    pass\x00\n", 2, 1, "NUL"),
])
def test_each_rule_reports_where_and_what_to_change(
    source: str, line: int, column: int, says: str
) -> None:
    problems = problems_of(source)
    assert any(p[0] == line and p[1] == column and says in p[2] for p in problems), problems


def test_a_coding_comment_after_line_two_is_only_a_comment() -> None:
    assert check_source("def run():\n    pass\n# coding: utf_7\n", "run") == []


def test_names_the_code_binds_are_not_reported_as_undefined() -> None:
    source = ("def run(data):\n    return [total for total in data] + helper()\n"
              "def helper():\n    return [len]\n")
    assert check_source(source, "run") == []


@pytest.mark.parametrize(("source", "says"), [
    ("def other():\n    pass\n", "there is no top-level function 'run'"),
    ("if True:\n    def run():\n        pass\n", "there is no top-level function 'run'"),
    ("run = lambda: 1\n", "there is no top-level function 'run'"),
    ("def run(a, b):\n    pass\n", "at most one parameter"),
    ("def run(*rows):\n    pass\n", "at most one parameter"),
    ("def run(data, *, flag=1):\n    pass\n", "keyword-only"),
    ("def run(**options):\n    pass\n", "keyword-only"),
    ("def deco(f):\n    return f\n@deco\ndef run():\n    pass\n", "must not be decorated"),
    ("def run():\n    pass\nrun = 3\n", "reassigned"),
    ("def run():\n    pass\ndef run(data):\n    pass\n", "defined more than once"),
])
def test_entry_point_rules(source: str, says: str) -> None:
    assert any(says in p[2] for p in problems_of(source)), problems_of(source)


def test_the_entry_point_may_take_one_parameter_with_or_without_a_default() -> None:
    for signature in ("", "data", "data=None", "data, /"):
        assert check_source(f"def run({signature}):\n    return 1\n", "run") == []


def test_problems_already_reported_are_not_repeated_by_the_restricted_compiler() -> None:
    problems = problems_of("def run():\n    return ().__class__\n")
    assert len(problems) == 1 and "starts with '_'" in problems[0][2]


def test_problems_are_capped_and_the_rest_counted() -> None:
    source = "def run():\n" + "".join(f"    _x{i} = 1\n" for i in range(300))
    problems = check_source(source, "run")
    assert len(problems) == MAX_PROBLEMS
    assert problems[-1] == SourceProblem(0, 0, "and 201 more problems like these")


@pytest.mark.parametrize("source", [
    "-" * 60_000 + "1",
    "x = " + "+".join(["1"] * 20_000),
    "x = a" + ".b" * 30_000,
    "(" * 60_000,
    "[" * 30_000 + "]" * 30_000,
    "x = " + "not " * 15_000 + "y",
    "def run():\n" + "".join("    " * i + "if x:\n" for i in range(1, 200)),
    "x = f" + "()" * 30_000,
    "x = {" * 20_000,
    "\ufeffdef run():\n    pass\n",
    "def run():\n\treturn 1\n        return 2\n",
    "'''",
    "\\",
])
def test_hostile_source_becomes_problems_not_a_crash(source: str) -> None:
    problems = check_source(source, "run")
    assert problems
    assert all(isinstance(p, SourceProblem) and p.message for p in problems)


def test_whole_source_problems_have_no_position() -> None:
    assert check_source("#" * 70_000, "run") == [SourceProblem(
        0, 0, "code is 70,000 bytes or more; the limit is 65,536 bytes (64 KiB)")]


def test_check_job_is_the_worker_side_of_the_check() -> None:
    assert check_job({"code": "def run():\n    return 1\n", "entry_point": "run"}) == {
        "problems": []}
    report = check_job({"code": "import os\ndef run():\n    pass\n", "entry_point": "run"})
    assert report["problems"][0]["line"] == 1 and report["problems"][0]["column"] == 1
    assert set(report["problems"][0]) == {"line", "column", "message"}
    json.dumps(report)
    with pytest.raises(TypeError):
        check_job({"code": 1, "entry_point": "run"})

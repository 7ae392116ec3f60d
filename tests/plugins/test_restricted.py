"""Running plugins with RestrictedPython in-process: the examples work, the calling
convention holds, results are plain JSON, errors are one clean line, and every escape case
forced past the static check still fails to reach the host.

In-process runs test only the first filter; the sandbox's tests run the same corpus (and
E15, a full escape) in the real worker.
"""

from __future__ import annotations

import builtins
import collections
import datetime
import importlib
import itertools
import json
import math
import os
import re
import statistics
from pathlib import Path
from typing import Any

import pytest
from escape_corpus import (
    CLEAN_RESULT,
    CLEAN_SOURCE,
    CORPUS,
    ENTRY_POINT,
    ESCAPE_ENV,
    HOST_OBJECT_MARKERS,
    EscapeCase,
)

from arcos.plugins.handlers import PLUGIN_HANDLERS
from arcos.plugins.restricted import (
    ALLOWED_MODULES,
    MAX_RESULT_DEPTH,
    ModuleFacade,
    PluginError,
    execute_job,
    plugin_globals,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plugins"
SECRET = "correct horse battery staple 4471"
LIVE_MODULES = (collections, datetime, itertools, json, math, re, statistics)


def run(code: str, data: Any = None, entry_point: str = "run") -> Any:
    return execute_job({"code": code, "entry_point": entry_point, "input": data})


def example(name: str) -> tuple[str, str]:
    manifest = json.loads((EXAMPLES / f"{name}.manifest.json").read_text())
    return (EXAMPLES / f"{name}.py").read_text(), manifest["entry_point"]


def public_state() -> dict[str, dict[str, int]]:
    """Identity of every public attribute of the allowed modules, and of builtins."""
    return {module.__name__: {k: id(v) for k, v in vars(module).items() if not k.startswith("_")}
            for module in (*LIVE_MODULES, builtins, json.JSONEncoder)}


def test_coverage_gate_example() -> None:
    code, entry = example("coverage_gate")
    evidence = [{"type": "coverage_report", "data": {"line_rate": 0.7}},
                {"type": "test_report", "data": {"passed": 3}},
                {"type": "coverage", "data": {"percent": 84.5}}]
    assert run(code, {"evidence": evidence, "threshold": 80}, entry) == [
        {"name": "coverage.reports", "value": 2},
        {"name": "coverage.line_percent", "value": 84.5},
        {"name": "coverage.mean_percent", "value": 77.25},
        {"name": "coverage.gate_passed", "value": 1},
    ]
    assert run(code, {"evidence": evidence, "threshold": 90}, entry)[-1]["value"] == 0


def test_sbom_collector_example_returns_evidence_drafts() -> None:
    code, entry = example("sbom_collector")
    sbom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
        {"type": "library", "name": "left-pad", "version": "1.3.0",
         "purl": "pkg:npm/left-pad@1.3.0", "licenses": [{"license": {"id": "MIT"}}]},
        {"type": "library", "name": "db-driver", "version": "2.0.0",
         "licenses": [{"license": {"id": "AGPL-3.0-only"}}]},
        {"type": "framework", "name": "web", "licenses": [{"expression": "Apache-2.0"}]},
    ]}
    drafts = run(code, {"sbom": sbom, "project": "github.com/acme/app"}, entry)
    assert drafts == [
        {"type": "sbom_summary", "project": "github.com/acme/app",
         "data": {"format": "CycloneDX", "specVersion": "1.5", "components": 3,
                  "componentsByType": {"library": 2, "framework": 1},
                  "licenses": ["AGPL-3.0-only", "Apache-2.0", "MIT"]}},
        {"type": "license_finding", "project": "github.com/acme/app",
         "data": {"component": "db-driver", "version": "2.0.0", "purl": None,
                  "license": "AGPL-3.0-only"}},
    ]


def test_ssdf_check_example_returns_per_control_results() -> None:
    code, entry = example("ssdf_check")
    evidence = [{"id": "ev1", "type": "sbom", "data": {}},
                {"id": "ev2", "type": "test_report", "data": {}},
                {"id": "ev3", "type": "vulnerability_report",
                 "data": {"severities": {"critical": 1}}}]
    results = {r["control"]: r for r in run(code, {"evidence": evidence}, entry)}
    assert {c: r["status"] for c, r in results.items()} == {
        "PS.3.2": "pass", "PW.7.2": "fail", "PW.8.2": "pass", "RV.1.1": "fail"}
    assert results["PS.3.2"]["evidence_ids"] == ["ev1"]
    assert "critical" in results["RV.1.1"]["note"]
    assert set(results["PW.7.2"]) == {"control", "status", "evidence_ids", "note"}


def test_test_trend_panel_example_returns_a_declarative_panel() -> None:
    code, entry = example("test_trend_panel")
    evidence = [
        {"type": "test_report", "createdAt": "2026-11-30T10:00:00Z",
         "data": {"passed": 8, "failed": 2, "skipped": 0}},
        {"type": "test_report", "createdAt": "2026-11-29T10:00:00Z",
         "data": {"passed": 5, "failed": 0, "skipped": 0}},
    ]
    result = run(code, {"evidence": evidence, "title": "Nightly"}, entry)
    assert result["kind"] == "combo" and result["title"] == "Nightly"
    assert result["labels"] == ["2026-11-29", "2026-11-30"]
    assert result["series"][0] == {"name": "passed", "kind": "bar", "stack": "outcomes",
                                   "values": [5, 8]}
    assert result["series"][-1]["values"] == [100.0, 80.0]


@pytest.mark.parametrize("name", ["coverage_gate", "sbom_collector", "ssdf_check",
                                  "test_trend_panel"])
@pytest.mark.parametrize("data", [None, {}])
def test_examples_run_without_input(name: str, data: Any) -> None:
    code, entry = example(name)
    json.dumps(run(code, data, entry), allow_nan=False)
    json.dumps(execute_job({"code": code, "entry_point": entry}), allow_nan=False)


def test_an_entry_point_without_parameters_is_called_without_the_input() -> None:
    assert run("def run():\n    return 'no input'\n", {"ignored": True}) == "no input"


def test_an_entry_point_with_a_parameter_gets_the_input() -> None:
    assert run("def run(data):\n    return data\n", {"a": [1, 2]}) == {"a": [1, 2]}
    assert run("def run(data=7):\n    return data\n") is None
    assert run("def run(*rows):\n    return rows\n", {"a": 1}) == [{"a": 1}]


def test_results_are_copied_as_plain_json() -> None:
    code = """
import collections
import re
def run():
    return {"t": (1, 2.5), "c": collections.Counter("aab"), "f": re.IGNORECASE,
            "o": collections.OrderedDict(z=None), "b": [True, False]}
"""
    result = run(code)
    assert result == {"t": [1, 2.5], "c": {"a": 2, "b": 1}, "f": 2, "o": {"z": None},
                      "b": [True, False]}
    assert type(result["c"]) is dict and type(result["f"]) is int


@pytest.mark.parametrize(("body", "says"), [
    ("return float('nan')", "nan at result"),
    ("return [1, {'x': float('inf')}]", "inf at result[1]['x']"),
    ("return {1: 2}", "int key"),
    ("return {'s': {1, 2}}", "set at result['s']"),
    ("return run", "function at result"),
    ("return 2 ** 5000", "integer too large"),
    ("x = []\n    for i in range(300):\n        x = [x]\n    return x", "nests deeper"),
    ("x = []\n    x.append(x)\n    return x", "nests deeper"),
])
def test_results_that_are_not_json_are_refused_clearly(body: str, says: str) -> None:
    with pytest.raises(PluginError, match=re.escape(says)):
        run(f"def run():\n    {body}\n")
    assert MAX_RESULT_DEPTH == 200


def test_plugin_errors_are_one_line_with_the_plugin_line_and_no_host_paths() -> None:
    with pytest.raises(PluginError) as caught:
        run("import json\ndef run():\n    x = 1\n    return json.loads('not json')\n")
    message = str(caught.value)
    assert message.startswith("JSONDecodeError: Expecting value")
    assert message.endswith("(plugin line 4)")
    assert "/" not in message and "\n" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("raised", ["SystemExit(3)", "KeyboardInterrupt", "GeneratorExit",
                                    "RecursionError('deep')"])
def test_any_exception_a_plugin_raises_becomes_a_plugin_error(raised: str) -> None:
    with pytest.raises(PluginError, match=r"\(plugin line 2\)$"):
        run(f"def run():\n    raise {raised}\n")


def test_runaway_recursion_is_a_plugin_error() -> None:
    with pytest.raises(PluginError, match="RecursionError"):
        run("def run(data):\n    return run(data)\n")


def test_memory_error_is_left_to_the_sandbox_to_classify() -> None:
    with pytest.raises(MemoryError):
        run("def run():\n    raise MemoryError\n")


def test_code_that_does_not_compile_or_has_no_entry_point_is_refused() -> None:
    with pytest.raises(PluginError, match="restricted compiler"):
        run("def run():\n    return x.__class__\n")
    with pytest.raises(PluginError, match="no function 'run'"):
        run("run = 3\n")
    with pytest.raises(PluginError, match="code and entry_point"):
        execute_job({"code": None, "entry_point": "run"})


def test_print_and_star_calls_fail_without_their_guards() -> None:
    with pytest.raises(PluginError, match="_print_"):
        run("def run():\n    print('hello')\n")
    with pytest.raises(PluginError, match="_apply_"):
        run("def run():\n    return max(*[1, 2])\n")


def test_imports_outside_the_allow_list_fail() -> None:
    with pytest.raises(PluginError, match="only collections, datetime"):
        run("def run():\n    import os\n")


def test_facades_hold_copies_of_public_non_module_names() -> None:
    for module in LIVE_MODULES:
        facade = ModuleFacade(module)
        names = vars(facade)
        assert not any(isinstance(v, type(os)) for v in names.values()), module
        assert not any(name.startswith("_") and name != "_facade_of" for name in names)
        assert names["_facade_of"] == module.__name__
    assert "sys" not in vars(ModuleFacade(statistics))
    assert "codecs" not in vars(ModuleFacade(json))
    assert ModuleFacade(json).dumps is json.dumps
    with pytest.raises(AttributeError, match="read-only"):
        ModuleFacade(json).dumps = len
    assert repr(ModuleFacade(math)) == "<plugin module math>"
    assert {m.__name__ for m in LIVE_MODULES} == set(ALLOWED_MODULES)


def test_each_call_gets_its_own_facades() -> None:
    """Even a write that got past the guards would land on one call's facade only."""
    first, second = plugin_globals(), plugin_globals()
    json_a = first["__builtins__"]["__import__"]("json")
    assert first["__builtins__"]["__import__"]("json") is json_a
    vars(json_a)["dumps"] = lambda *args, **kwargs: "poisoned"
    json_b = second["__builtins__"]["__import__"]("json")
    assert json_b is not json_a and json_b.dumps is json.dumps
    assert json.dumps({"a": 1}) == '{"a": 1}'
    assert first["__builtins__"] is not second["__builtins__"]


def test_module_level_state_does_not_survive_a_call() -> None:
    code = "seen = []\ndef run():\n    seen.append(1)\n    return len(seen)\n"
    assert [run(code), run(code)] == [1, 1]


def attempt(case: EscapeCase, tmp_path: Path) -> str:
    sentinel, marker = tmp_path / "secret.txt", tmp_path / "marker"
    sentinel.write_text(SECRET)
    try:
        result = execute_job({"code": case.source, "entry_point": ENTRY_POINT,
                              "input": {"sentinel": str(sentinel), "marker": str(marker)}})
    except PluginError as error:
        return "error: " + str(error)
    text = json.dumps(result)
    for host_object in HOST_OBJECT_MARKERS:
        assert host_object not in text, (case.name, text)
    return text


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case.name)
def test_escape_forced_past_the_check_does_not_reach_the_host(
    case: EscapeCase, tmp_path: Path
) -> None:
    before = public_state()
    for _ in range(2):
        outcome = attempt(case, tmp_path)
        assert SECRET not in outcome
        assert not (tmp_path / "marker").exists()
        assert ESCAPE_ENV not in os.environ
        assert not hasattr(builtins, ESCAPE_ENV)
        assert public_state() == before
        assert run(CLEAN_SOURCE) == CLEAN_RESULT


def test_the_handlers_name_the_job_functions() -> None:
    assert set(PLUGIN_HANDLERS) == {"check", "execute"}
    for target in PLUGIN_HANDLERS.values():
        module, function = target.split(":")
        assert callable(getattr(importlib.import_module(module), function))
    assert PLUGIN_HANDLERS["execute"] == "arcos.plugins.restricted:execute_job"
    assert PLUGIN_HANDLERS["check"] == "arcos.plugins.code_check:check_job"


def test_datetime_methods_that_import_from_c_work() -> None:
    """`strptime` and `strftime` import `_strptime` / `time` through the plugin frame's
    `__import__`; they get the live module, the plugin never does."""
    code = """
from datetime import date, datetime
def run():
    parsed = datetime.strptime("2026-12-01 13:05", "%Y-%m-%d %H:%M")
    return [parsed.isoformat(), parsed.strftime("%d %B %Y"), date(2026, 1, 2).strftime("%j"),
            list(parsed.timetuple())[:3], date.today().year > 2000]
"""
    assert run(code) == ["2026-12-01T13:05:00", "01 December 2026", "002", [2026, 12, 1],
                         True]


@pytest.mark.parametrize("statement", ["import time", "from time import sleep",
                                       "import _strptime"])
def test_the_modules_c_code_imports_stay_out_of_plugin_reach(statement: str) -> None:
    with pytest.raises(PluginError, match=r"not available to plugins|restricted compiler"):
        run(f"def run():\n    {statement}\n    return 1\n")


@pytest.mark.parametrize("expression", ["not " * 10_000 + "1", "-" * 20_000 + "1",
                                        "1+" * 3_000 + "1"])
def test_code_nested_too_deeply_to_compile_is_a_plugin_error(expression: str) -> None:
    """The parser reports deep nesting as MemoryError or RecursionError; that is the
    code's fault, not the call running out of memory."""
    with pytest.raises(PluginError, match="nests too deeply"):
        run(f"x = {expression}\ndef run():\n    return x\n")

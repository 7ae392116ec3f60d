"""The manifest rules: original shape, normalisation, every problem at once, semver order,
and the host-side size limit of plugin source."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from arcos.plugins.manifest import (
    FIELDS,
    MAX_CODE_BYTES,
    MAX_CODE_LINES,
    Manifest,
    Permission,
    PluginKind,
    Trigger,
    check_code_size,
    parse_manifest,
    semver_key,
)
from arcos.problems import ProblemCode, Refused

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plugins"

ORIGINAL = {
    "plugin_id": "acme.coverage_gate",
    "name": "Coverage gate",
    "version": "1.0.0",
    "type": "metric",
    "permissions": ["metrics.write", "evidence.read"],
    "entry_point": "gate",
}


def refused_fields(raw: object) -> dict[str | None, str]:
    with pytest.raises(Refused) as caught:
        parse_manifest(raw)
    return {problem.field: problem.message for problem in caught.value.problems}


def test_the_original_shape_keeps_working_with_defaults() -> None:
    manifest = parse_manifest(ORIGINAL)
    assert manifest == Manifest(
        id="acme.coverage_gate", name="Coverage gate", version="1.0.0",
        kind=PluginKind.METRIC, description="", author="",
        permissions=(Permission.EVIDENCE_READ, Permission.METRICS_WRITE),
        entry_point="gate", triggers=(), tags=(), homepage=None,
    )


def test_to_json_uses_the_issue_field_names_and_sorted_lists() -> None:
    manifest = parse_manifest({
        **{k: v for k, v in ORIGINAL.items() if k != "plugin_id"},
        "id": "acme.coverage_gate", "description": "Gate.\nSecond line.",
        "author": "ACME", "tags": ["quality", "coverage"],
        "triggers": [{"type": "coverage_report", "project": "GitHub.com/Acme/App"}, {}],
        "homepage": "https://example.com/gate",
    })
    assert manifest.to_json() == {
        "id": "acme.coverage_gate", "name": "Coverage gate", "version": "1.0.0",
        "type": "metric", "description": "Gate.\nSecond line.", "author": "ACME",
        "permissions": ["evidence.read", "metrics.write"], "entry_point": "gate",
        "triggers": [
            {"event": "evidence.added", "type": "coverage_report",
             "project": "github.com/acme/app"},
            {"event": "evidence.added"},
        ],
        "tags": ["coverage", "quality"], "homepage": "https://example.com/gate",
    }
    assert manifest.triggers[1] == Trigger()
    assert list(manifest.to_json()) == list(FIELDS)


def test_canonical_bytes_do_not_depend_on_input_order() -> None:
    reordered = dict(reversed(list(ORIGINAL.items())))
    reordered["permissions"] = list(reversed(ORIGINAL["permissions"]))
    first, second = parse_manifest(ORIGINAL), parse_manifest(reordered)
    assert first.canonical() == second.canonical()
    assert json.loads(first.canonical()) == first.to_json()
    assert first.canonical() != parse_manifest({**ORIGINAL, "version": "1.0.1"}).canonical()


def test_every_problem_is_reported_at_once_with_its_field() -> None:
    problems = refused_fields({
        "id": "Acme.Gate", "name": "", "version": "1.0", "type": "widget",
        "permissions": ["evidence.read", "root", "evidence.read"], "entry_point": "_run",
        "triggers": [{"event": "evidence.deleted", "type": "Bad Type", "extra": 1}],
        "tags": ["OK", "ok", "ok"], "homepage": "javascript:alert(1)", "colour": "red",
    })
    assert set(problems) == {
        "manifest.id", "manifest.name", "manifest.version", "manifest.type",
        "manifest.permissions.1", "manifest.permissions.2", "manifest.entry_point",
        "manifest.triggers.0", "manifest.triggers.0.event", "manifest.triggers.0.type",
        "manifest.tags.0", "manifest.tags.2", "manifest.homepage", "manifest.colour",
    }
    assert "collector | metric | compliance | visualization" in problems["manifest.type"]
    assert "evidence.read, evidence.write, metrics.write" in problems["manifest.permissions.1"]
    assert "listed twice" in problems["manifest.permissions.2"]
    assert "semantic version" in problems["manifest.version"]
    assert "id, name, version, type" in problems["manifest.colour"]


def test_missing_required_fields_are_named() -> None:
    with pytest.raises(Refused) as caught:
        parse_manifest({})
    required = {p.field for p in caught.value.problems if p.code is ProblemCode.REQUIRED}
    assert required == {"manifest.id", "manifest.name", "manifest.version", "manifest.type",
                        "manifest.entry_point"}


@pytest.mark.parametrize("raw", [None, [], "manifest", 3])
def test_a_manifest_must_be_an_object(raw: object) -> None:
    assert refused_fields(raw) == {"manifest": "manifest must be a JSON object"}


def test_id_and_plugin_id_may_not_disagree() -> None:
    assert parse_manifest({**ORIGINAL, "id": ORIGINAL["plugin_id"]}).id == "acme.coverage_gate"
    assert "manifest.plugin_id" in refused_fields({**ORIGINAL, "id": "acme.other"})


@pytest.mark.parametrize("plugin_id", ["gate", "acme.coverage_gate", "com.example.ci.sbom2",
                                       "a" * 100])
def test_valid_ids(plugin_id: str) -> None:
    assert parse_manifest({**ORIGINAL, "plugin_id": plugin_id}).id == plugin_id


@pytest.mark.parametrize("plugin_id", ["Acme.gate", "acme..gate", ".gate", "gate.", "1gate",
                                       "acme.1gate", "acme-gate", "acme/gate", "_gate",
                                       "gate\n", "a" * 101, "", 7, "acme. gate"])
def test_invalid_ids(plugin_id: object) -> None:
    assert "manifest.id" in refused_fields({**ORIGINAL, "plugin_id": plugin_id})


VALID_VERSIONS = ["0.0.0", "1.0.0", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1",
                  "1.0.0-0.3.7", "1.0.0-x.7.z.92", "1.0.0-x-y-z.--", "1.0.0+20130313144700",
                  "1.0.0-beta+exp.sha.5114f85", "1.0.0+21AF26D3----117B344092BD"]
INVALID_VERSIONS = ["1", "1.0", "1.0.0.0", "01.0.0", "1.02.0", "1.0.0-01", "v1.0.0",
                    "1.0.0-", "1.0.0+", "1.0.0-alpha..1", "1.0.0-alpha_1", " 1.0.0",
                    "1.0.0\n", "1.0.0-é", "-1.0.0", "1.0.0+a+b", "1." + "0" * 70 + ".0"]


@pytest.mark.parametrize("version", VALID_VERSIONS)
def test_valid_semantic_versions(version: str) -> None:
    assert parse_manifest({**ORIGINAL, "version": version}).version == version
    semver_key(version)


@pytest.mark.parametrize("version", INVALID_VERSIONS)
def test_invalid_semantic_versions(version: str) -> None:
    assert "manifest.version" in refused_fields({**ORIGINAL, "version": version})
    with pytest.raises(ValueError, match="not a semantic version"):
        semver_key(version)


def test_semver_key_orders_as_the_specification_does() -> None:
    ordered = ["0.9.9", "1.0.0-0", "1.0.0-2", "1.0.0-11", "1.0.0-alpha", "1.0.0-alpha.1",
               "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
               "1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0", "2.0.0"]
    shuffled = ordered[:]
    random.Random(11).shuffle(shuffled)
    assert sorted(shuffled, key=semver_key) == ordered
    assert semver_key("1.0.0+build.1") == semver_key("1.0.0+build.2") == semver_key("1.0.0")


@pytest.mark.parametrize(("entry_point", "ok"), [
    ("gate", True), ("Run2", True), ("run_plugin", True), ("_run", False), ("2run", False),
    ("run-it", False), ("class", False), ("ärger", False), ("run\n", False), ("", False),
    ("r" * 65, False), (["run"], False),
])
def test_entry_point_rules(entry_point: object, ok: bool) -> None:
    raw = {**ORIGINAL, "entry_point": entry_point}
    if ok:
        assert parse_manifest(raw).entry_point == entry_point
    else:
        assert "manifest.entry_point" in refused_fields(raw)


def test_triggers_rules() -> None:
    assert "manifest.triggers" in refused_fields({**ORIGINAL, "triggers": {"event": "x"}})
    assert "manifest.triggers" in refused_fields({**ORIGINAL, "triggers": [{}] * 11})
    assert "manifest.triggers.0" in refused_fields({**ORIGINAL, "triggers": ["evidence"]})
    assert "manifest.triggers.1.project" in refused_fields(
        {**ORIGINAL, "triggers": [{}, {"project": "no spaces/allowed here"}]})


def test_tags_rules() -> None:
    assert parse_manifest({**ORIGINAL, "tags": ["b", "a-1", "c.d"]}).tags == ("a-1", "b", "c.d")
    assert "manifest.tags" in refused_fields({**ORIGINAL, "tags": [f"t{i}" for i in range(21)]})
    assert "manifest.tags.0" in refused_fields({**ORIGINAL, "tags": ["x" * 33]})
    assert "manifest.tags" in refused_fields({**ORIGINAL, "tags": "coverage"})


@pytest.mark.parametrize(("homepage", "ok"), [
    ("https://example.com", True), ("http://example.com/a?b=c#d", True), (None, True),
    ("", True), ("ftp://example.com", False), ("javascript:alert(1)", False),
    ("https://", False), ("https://exa mple.com", False), ("example.com", False),
    ("https://example.com/\x00", False), ("https://[::1", False),
    ("https://example.com/" + "a" * 2100, False), (42, False),
])
def test_homepage_rules(homepage: object, ok: bool) -> None:
    raw = {**ORIGINAL, "homepage": homepage}
    if ok:
        assert parse_manifest(raw).homepage == (homepage or None)
    else:
        assert "manifest.homepage" in refused_fields(raw)


def test_text_fields_are_bounded_and_free_of_control_characters() -> None:
    problems = refused_fields({**ORIGINAL, "name": "x" * 101, "description": "a\x07b",
                               "author": "Bad\nAuthor"})
    assert set(problems) == {"manifest.name", "manifest.description", "manifest.author"}
    assert "limit is 100" in problems["manifest.name"]


@pytest.mark.parametrize("name", ["coverage_gate", "sbom_collector", "ssdf_check",
                                  "test_trend_panel"])
def test_example_manifests_parse(name: str) -> None:
    manifest = parse_manifest(json.loads((EXAMPLES / f"{name}.manifest.json").read_text()))
    assert manifest.entry_point


def test_code_size_limits() -> None:
    assert check_code_size("x = 1\n" * MAX_CODE_LINES) == []
    assert check_code_size("#" * MAX_CODE_BYTES) == []
    too_long = check_code_size("x = 1\n" * (MAX_CODE_LINES + 1))
    assert [(p.field, p.code) for p in too_long] == [("code", ProblemCode.TOO_LARGE)]
    assert "2,001 lines" in too_long[0].message
    assert check_code_size("\r".join(["x = 1"] * (MAX_CODE_LINES + 1)))[0].code is (
        ProblemCode.TOO_LARGE)
    too_big = check_code_size("# " + "é" * (MAX_CODE_BYTES // 2))
    assert too_big[0].code is ProblemCode.TOO_LARGE and "65,536 bytes" in too_big[0].message
    assert check_code_size("#" * 10_000_000)[0].code is ProblemCode.TOO_LARGE
    assert check_code_size("   \n")[0].code is ProblemCode.REQUIRED
    assert check_code_size(b"x = 1")[0].code is ProblemCode.INVALID
    assert "surrogate" in check_code_size("x = '\ud800'")[0].message


@pytest.mark.parametrize("name", ["coverage_gate", "sbom_collector", "ssdf_check",
                                  "test_trend_panel"])
def test_a_normalised_manifest_parses_back_to_itself(name: str) -> None:
    """What is stored (to_json) is read back unchanged, so the signature still verifies."""
    manifest = parse_manifest(json.loads((EXAMPLES / f"{name}.manifest.json").read_text()))
    again = parse_manifest(json.loads(manifest.canonical()))
    assert again == manifest and again.canonical() == manifest.canonical()

"""Hostile and damaged input: every parser either returns a result or raises ArtifactRefused,
never anything else. Genuine artifacts are mutated (keys deleted, values retyped, truncated,
bytes flipped) with a fixed seed so failures reproduce."""

import json
import random
import xml.etree.ElementTree as ET

import pytest

from arcos.formats.errors import ArtifactRefused
from arcos.formats.parse import Limits, parse

pytest_plugins = ["format_artifacts"]

SEED = 20261125
JSON_ARTIFACTS = {
    "coverage-json": "coverage-json", "ruff": "sarif", "bandit": "sarif",
    "cyclonedx-1.4": "cyclonedx", "cyclonedx-1.6": "cyclonedx", "npm-cyclonedx": "cyclonedx",
    "pip-audit-cyclonedx": "cyclonedx", "npm-spdx": "spdx", "npm-audit": "npm-audit",
    "pip-audit": "pip-audit",
}
CRAFTED_JSON = {
    "sarif_semgrep_like.sarif": "sarif", "cyclonedx_vex.json": "cyclonedx",
    "osv_records.json": "osv", "build_deploy.json": "build",
}
XML_ARTIFACTS = {"junit-xunit1": "junit", "surefire": "junit", "cobertura": "cobertura"}
CRAFTED_XML = {"junit_reruns.xml": "junit", "cobertura_java.xml": "cobertura"}
REPLACEMENTS = [None, "x", 7, -1, 1e308, True, [], {}, [None], {"k": None}, "9" * 5000]
DELETE = object()
LIMITS = Limits(max_decompressed_bytes=5 * 1024 * 1024)


def _outcome(content, format_name, kind=None):
    """None when the parser behaved (result or ArtifactRefused); else the unexpected error."""
    try:
        parse(content, format=format_name, kind=kind, limits=LIMITS)
        parse(content, limits=LIMITS)  # auto-detection must be just as robust
    except ArtifactRefused:
        pass
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def _paths(document, limit=3000):
    """Paths (tuples of keys / indices) to every node, breadth first."""
    found, queue = [], [((), document)]
    while queue and len(found) < limit:
        path, node = queue.pop(0)
        children = node.items() if isinstance(node, dict) else (
            enumerate(node) if isinstance(node, list) else ()
        )
        for key, child in children:
            found.append((*path, key))
            queue.append(((*path, key), child))
    return found


def _mutate(document, path, replacement):
    """Apply a mutation in place; return a function that undoes it."""
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    key, old = path[-1], parent[path[-1]]
    if replacement is DELETE:
        if isinstance(parent, dict):
            del parent[key]
            return lambda: parent.__setitem__(key, old)
        parent.pop(key)
        return lambda: parent.insert(key, old)
    parent[key] = replacement
    return lambda: parent.__setitem__(key, old)


def _json_sources(genuine, crafted):
    sources = [(name, fmt, genuine.read(name)) for name, fmt in JSON_ARTIFACTS.items()
               if name not in genuine.missing]
    sources += [(name, fmt, (crafted / name).read_bytes()) for name, fmt in CRAFTED_JSON.items()]
    return sources


def test_mutated_json_artifacts_never_raise_anything_but_refusals(genuine, crafted):
    rng = random.Random(SEED)
    failures = []
    for name, format_name, content in _json_sources(genuine, crafted):
        document = json.loads(content)
        paths = _paths(document)
        # every structural node near the root, plus a sample of the deeper leaves
        shallow = [path for path in paths if len(path) <= 3]
        deep = [path for path in paths if len(path) > 3]
        chosen = rng.sample(shallow, min(40, len(shallow))) + rng.sample(deep, min(25, len(deep)))
        for path in chosen:
            for replacement in [DELETE, *rng.sample(REPLACEMENTS, 4)]:
                undo = _mutate(document, path, replacement)
                mutated = json.dumps(document).encode()
                undo()
                kinds = [None, "sbom", "vulnerability_report"] if format_name == "cyclonedx" else [
                    None
                ]
                for kind in kinds:
                    problem = _outcome(mutated, format_name, kind)
                    if problem:
                        failures.append((name, path, repr(replacement)[:20], kind, problem))
    assert failures == []


def test_mutated_xml_artifacts_never_raise_anything_but_refusals(genuine, crafted):
    rng = random.Random(SEED)
    sources = [(genuine.read(name), fmt) for name, fmt in XML_ARTIFACTS.items()
               if name not in genuine.missing]
    sources += [((crafted / name).read_bytes(), fmt) for name, fmt in CRAFTED_XML.items()]
    failures = []
    for content, format_name in sources:
        for _ in range(60):
            root = ET.fromstring(content.replace(b"<!DOCTYPE", b"<!--DT").replace(
                b'coverage-04.dtd">', b'coverage-04.dtd-->'))
            elements = list(root.iter())
            element = rng.choice(elements)
            action = rng.choice(["attr", "attr", "drop", "text", "dup"])
            if action == "attr" and element.attrib:
                attribute = rng.choice(sorted(element.attrib))
                value = rng.choice(["", "x", "-1", "nan", "inf", "1e999", "9" * 5000, "0,5"])
                element.set(attribute, value)
            elif action == "drop" and len(element):
                element.remove(rng.choice(list(element)))
            elif action == "text":
                element.text = rng.choice(["", "garbage", "\u2603" * 10])
            elif action == "dup" and len(element):
                element.append(rng.choice(list(element)))
            problem = _outcome(ET.tostring(root), format_name)
            if problem:
                failures.append((format_name, action, problem))
    assert failures == []


def test_truncated_and_bit_flipped_artifacts(genuine, crafted):
    rng = random.Random(SEED)
    sources = [(genuine.read(name), None) for name in genuine.available()]
    sources += [(path.read_bytes(), None) for path in sorted(crafted.iterdir())
                if path.suffix != ".md"]
    failures = []
    for content, _ in sources:
        for _ in range(8):
            cut = rng.randrange(1, len(content))
            problem = _outcome(content[:cut], None)
            if problem:
                failures.append(("truncated", cut, problem))
            flipped = bytearray(content)
            position = rng.randrange(len(flipped))
            flipped[position] = rng.randrange(256)
            problem = _outcome(bytes(flipped), None)
            if problem:
                failures.append(("flipped", position, problem))
    assert failures == []


def test_mutated_lcov_never_raises_anything_but_refusals(genuine):
    rng = random.Random(SEED)
    lines = genuine.read("lcov").decode().splitlines()
    garbage = ["DA:", "DA:x,y", "DA:1,-5", "BRDA:1", "BRDA:1,0,0,", "FN:", "FN:x,f", "FNDA:",
               "LF:-1", "LH:1e999", "SF:", "end_of_record", "DA:1,99999999999999999999999"]
    failures = []
    for _ in range(200):
        mutated = list(lines)
        mutated[rng.randrange(len(mutated))] = rng.choice(garbage)
        problem = _outcome("\n".join(mutated).encode(), "lcov")
        if problem:
            failures.append(problem)
    assert failures == []


@pytest.mark.parametrize(
    "content",
    [b"[" * 200_000, b'{"a":' * 200_000, b'{"runs": ' + b"[" * 100_000],
)
def test_hostile_nesting_is_a_422(content):
    with pytest.raises(ArtifactRefused) as refused:
        parse(content, format="sarif", limits=LIMITS)
    assert refused.value.status == 422


JSON_FORMATS = ["sarif", "cyclonedx", "spdx", "pip-audit", "npm-audit", "coverage-json", "build",
                "osv"]
NON_OBJECT_ROOTS = [b"[]", b"1", b'"text"', b"null", b"true", b"[1, 2]"]


@pytest.mark.parametrize(
    ("format_name", "content"),
    [
        (format_name, content)
        for format_name in JSON_FORMATS
        for content in NON_OBJECT_ROOTS
        # a list of records is a valid OSV document
        if not (format_name == "osv" and content.startswith(b"["))
    ],
)
def test_non_object_roots_are_a_422(format_name, content):
    with pytest.raises(ArtifactRefused) as refused:
        parse(content, format=format_name, limits=LIMITS)
    assert refused.value.status == 422


@pytest.mark.parametrize(
    ("format_name", "document"),
    [
        ("sarif", {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                                  "results": "x"}]}),
        ("sarif", {"version": "2.1.0", "runs": [{"tool": "ruff", "results": []}]}),
        ("cyclonedx", {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": "x"}),
        ("spdx", {"spdxVersion": "SPDX-2.3", "packages": {"a": 1}}),
        ("pip-audit", {"dependencies": "x", "fixes": []}),
        ("npm-audit", {"auditReportVersion": 2, "vulnerabilities": []}),
        ("coverage-json", {"meta": {"format": 3}, "files": []}),
        ("osv", {"vulns": "x"}),
    ],
)
def test_wrong_structural_types_are_a_422(format_name, document):
    with pytest.raises(ArtifactRefused) as refused:
        parse(json.dumps(document).encode(), format=format_name, limits=LIMITS)
    assert refused.value.status == 422


@pytest.mark.parametrize(
    "content",
    [b'{"version": "2.1.0", "runs": [', b'{"bomFormat": "CycloneDX", "comp', b'{"a": NaN}',
     b"\xff\xfe\x00garbage", b'{"x": 1e999999}'],
)
def test_broken_json_is_a_422(content):
    with pytest.raises(ArtifactRefused) as refused:
        parse(content, format="cyclonedx", limits=LIMITS)
    assert refused.value.status == 422

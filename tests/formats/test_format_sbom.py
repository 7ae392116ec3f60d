"""SBOMs: genuine cyclonedx-py (1.4/1.5/1.6) and npm (SPDX 2.3, CycloneDX 1.5) documents."""

import importlib.metadata
import json

import pytest

from arcos.formats import cyclonedx, spdx
from arcos.formats.errors import ArtifactRefused

pytest_plugins = ["format_artifacts"]


@pytest.mark.parametrize("version", ["1.4", "1.5", "1.6"])
def test_cyclonedx_py_environment(genuine, version):
    content = genuine.read(f"cyclonedx-{version}")
    sbom = cyclonedx.parse_sbom(content)
    raw = json.loads(content)["components"]
    assert sbom.spec_version == version
    assert len(sbom.components) == len(raw) == 4
    by_name = {component.name: component for component in sbom.components}
    for name in ("defusedxml", "cvss", "packageurl-python"):
        installed = importlib.metadata.version(name)
        assert by_name[name].version == installed
        assert by_name[name].purl == f"pkg:pypi/{name}@{installed}"
        assert by_name[name].licenses, name
    # the hand-installed sample distribution declares no licence
    assert by_name["samplepkg"].licenses == ()
    assert sbom.licenses_unknown == sum(1 for item in raw if not item.get("licenses")) == 1
    assert sbom.tool is not None and sbom.tool.name == "cyclonedx-py"
    assert sbom.metrics() == {"sbom.components": 4, "sbom.licenses_unknown": 1}
    assert sbom.warnings == ()


def test_npm_spdx_and_cyclonedx_describe_the_same_packages(genuine):
    from_spdx = spdx.parse(genuine.read("npm-spdx"))
    from_cdx = cyclonedx.parse_sbom(genuine.read("npm-cyclonedx"))
    assert from_spdx.spec_version == "2.3"
    assert from_cdx.spec_version == "1.5"
    assert from_spdx.subject is not None and from_spdx.subject.name == "demo-app"
    # npm names the CycloneDX subject after the directory, but its purl is right
    assert from_cdx.subject is not None and from_cdx.subject.purl == "pkg:npm/demo-app@1.0.0"
    assert {(c.name, c.version, c.purl) for c in from_spdx.components} == {
        (c.name, c.version, c.purl) for c in from_cdx.components
    } == {
        ("dep-a", "1.0.0", "pkg:npm/dep-a@1.0.0"),
        ("left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0"),
        ("minimist", "1.2.5", "pkg:npm/minimist@1.2.5"),
    }
    licences = {c.name: c.licenses for c in from_spdx.components}
    assert licences == {"dep-a": (), "left-pad": ("WTFPL",), "minimist": ("MIT",)}
    assert from_spdx.licenses_unknown == from_cdx.licenses_unknown == 1
    assert from_spdx.tool is not None and from_spdx.tool.name == "npm/cli"
    assert from_cdx.tool is not None and from_cdx.tool.name == "npm/cli"


def test_crafted_cyclonedx_nested_components_expressions_and_noassertion(crafted):
    sbom = cyclonedx.parse_sbom((crafted / "cyclonedx_vex.json").read_bytes())
    by_name = {component.name: component for component in sbom.components}
    assert set(by_name) == {
        "com.fasterxml.jackson.core/jackson-databind", "lodash", "lodash.merge", "left-pad",
    }
    assert by_name["lodash"].licenses == ("MIT OR Apache-2.0",)
    assert by_name["left-pad"].licenses == ()  # NOASSERTION is no information
    assert sbom.licenses_unknown == 2
    assert sbom.subject is not None and sbom.subject.name == "shop"
    assert sbom.tool is not None and sbom.tool.name == "trivy"


def test_spdx_version_checks():
    with pytest.raises(ArtifactRefused, match="not supported"):
        spdx.from_document({"spdxVersion": "SPDX-3.0", "packages": []})
    sbom = spdx.from_document({"spdxVersion": "SPDX-2.1", "packages": [{"name": "x"}, {}]})
    assert [component.name for component in sbom.components] == ["x"]
    assert len(sbom.warnings) == 2


def test_spdx_describes_relationship_marks_the_subject():
    sbom = spdx.from_document({
        "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
        "packages": [
            {"SPDXID": "SPDXRef-app", "name": "app", "licenseConcluded": "NOASSERTION",
             "licenseDeclared": "Apache-2.0"},
            {"SPDXID": "SPDXRef-lib", "name": "lib", "licenseConcluded": "NONE"},
        ],
        "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                           "relatedSpdxElement": "SPDXRef-app"}],
    })
    assert sbom.subject is not None and sbom.subject.licenses == ("Apache-2.0",)
    assert [(c.name, c.licenses) for c in sbom.components] == [("lib", ("NONE",))]


def test_cyclonedx_other_versions_warn_and_non_cyclonedx_is_refused():
    sbom = cyclonedx.sbom_from_document({"bomFormat": "CycloneDX", "specVersion": "1.2"})
    assert sbom.components == ()
    assert "1.2" in sbom.warnings[0]
    with pytest.raises(ArtifactRefused):
        cyclonedx.sbom_from_document({"bomFormat": "SPDX"})

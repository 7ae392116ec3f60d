"""XML is parsed only through defusedxml: entity tricks are refused, broken XML says where."""

import pytest

from arcos.formats import cobertura, junit
from arcos.formats.errors import ArtifactRefused
from arcos.formats.parse import parse
from arcos.formats.xml import parse_xml

pytest_plugins = ["format_artifacts"]


@pytest.mark.parametrize("name", ["xxe.xml", "billion_laughs.xml", "parameter_entity.xml"])
def test_entity_attacks_are_refused_with_422(crafted, ingest_limits, name):
    content = (crafted / name).read_bytes()
    with pytest.raises(ArtifactRefused) as refused:
        parse(content, limits=ingest_limits)
    assert refused.value.status == 422
    assert "entities/DTDs are not allowed" in refused.value.message


def test_internal_entity_in_a_coverage_report_is_refused():
    content = b'<!DOCTYPE c [<!ENTITY v "1">]><coverage line-rate="&v;"/>'
    with pytest.raises(ArtifactRefused, match="entities/DTDs are not allowed"):
        cobertura.parse(content)


def test_a_bare_external_doctype_is_accepted_and_never_fetched(crafted):
    # Java Cobertura and gcovr write <!DOCTYPE coverage SYSTEM "http://…/coverage-04.dtd">
    report = cobertura.parse((crafted / "cobertura_java.xml").read_bytes())
    assert report.lines_valid == 4


@pytest.mark.parametrize(
    ("content", "position"),
    [
        (b"<testsuite><testcase></testsuite>", "line 1, column 23"),
        (b"<testsuites>\n  <testsuite name='x'>\n", "line 3, column 0"),
        (b"<testsuite>&undefined;</testsuite>", "line 1, column 11"),
    ],
)
def test_malformed_xml_reports_the_parser_position(content, position):
    with pytest.raises(ArtifactRefused) as refused:
        parse_xml(content)
    assert refused.value.status == 422
    assert position in refused.value.message


def test_truncated_genuine_junit_is_refused(genuine):
    content = genuine.read("junit-xunit2")
    with pytest.raises(ArtifactRefused) as refused:
        junit.parse(content[: len(content) // 2])
    assert refused.value.status == 422
    assert "malformed XML" in refused.value.message


def test_wrong_root_element_is_refused_by_each_xml_parser():
    with pytest.raises(ArtifactRefused, match="root element is <coverage>"):
        junit.parse(b"<coverage/>")
    with pytest.raises(ArtifactRefused, match="root element is <testsuite>"):
        cobertura.parse(b"<testsuite/>")

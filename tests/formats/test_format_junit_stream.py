"""The JUnit parser reads reports from expat's callbacks (junit_stream) and falls back to
defusedxml's element tree for anything unusual. The tree path is the reference: on genuine
pytest and Surefire reports and on crafted shapes, the callback reader must give the same
TestReport (cases, names, classnames, times, outcomes, messages, warnings, tool, duration),
and it must be the path that produced it."""

import pytest

from arcos.formats import junit, junit_stream
from arcos.formats.errors import ArtifactRefused

pytest_plugins = ["format_artifacts"]

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
CRAFTED = {
    "nested suites": b"""<testsuites name="all" time="3"><testsuite name="outer" time="1">
        <testsuite name="inner"><testcase classname="c" name="a" time="0.5"/></testsuite>
        <testsuite><testcase name="b"/></testsuite><testcase name="c" time="x"/>
        </testsuite><testsuite name="second" time="2"><testcase name="d"/></testsuite>
        </testsuites>""",
    "suite times when the root has none": b"""<testsuites><testsuite name="s" time="1,5">
        <testcase name="a" time="0,25"/></testsuite><testsuite time="bad"/>
        <testsuite time="-1"/><testsuite time="inf"/></testsuites>""",
    "case times only": b"""<testsuite name="pytest"><testcase name="a" time="1,234.5"/>
        <testcase name="b" time=" "/></testsuite>""",
    "verdict ranking and first of each name": b"""<testsuite name="s">
        <testcase name="t"><skipped message="later"/><error>second line
        of the error</error><failure message="first"/><failure message="second"/>
        </testcase><testcase name="u"><flakyFailure>f</flakyFailure><rerunError/></testcase>
        <testcase name="v"><system-out>out</system-out><properties><property name="p"
        value="1"/></properties></testcase></testsuite>""",
    "verdict text up to its first child, comments and CDATA inside": b"""<testsuite>
        <testcase name="t"><failure>  <!-- c -->first<?pi x?> part<![CDATA[ & <more>]]>
        &amp; line<detail>not this</detail>nor this</failure></testcase>
        <testcase name="u"><error><detail/>after a child</error></testcase>
        <testcase name="w"><skipped>   </skipped></testcase></testsuite>""",
    "reruns fold, unnamed cases warn": b"""<testsuite name="s"><testcase name="t"><failure
        message="boom"/></testcase><testcase name="t"/><testcase classname="k"/>
        <testcase name=""/><testcase name="t" file="f.py"/></testsuite>""",
    "testcases inside testcases, and inside other elements": b"""<testsuites>
        <testsuite name="s"><testcase name="outer"><testcase name="inner"><failure
        message="m"/></testcase><testsuite name="deep"><testcase name="d"/></testsuite>
        <failure message="outer failed"/></testcase>
        <properties><testcase name="not a case"/></properties></testsuite></testsuites>""",
    "namespaces": b"""<j:testsuites xmlns:j="urn:x" """ + XSI.encode() + b"""
        xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report.xsd">
        <j:testsuite name="s"><j:testcase name="t" j:name="other"><j:failure message="m"/>
        </j:testcase></j:testsuite></j:testsuites>""",
    "doctype with a system id and attribute defaults": b"""<?xml version="1.0"?>
        <!DOCTYPE testsuite SYSTEM "http://example.invalid/junit.dtd" [
        <!ATTLIST testcase classname CDATA "from.the.dtd">]>
        <testsuite name="s"><testcase name="t"/></testsuite>""",
    "empty report": b"<testsuites/>",
    "long message": b"<testsuite><testcase name='t'><failure message='"
    + b"x" * 5000 + b"'/></testcase></testsuite>",
    "utf-16": '<?xml version="1.0" encoding="utf-16"?><testsuite><testcase name="\u00e9"/>'
    "</testsuite>".encode("utf-16"),
    "latin-1": '<?xml version="1.0" encoding="iso-8859-1"?><testsuite><testcase name="\u00e9">'
    "<failure message='\u00e0'/></testcase></testsuite>".encode("latin-1"),
}


def _through_the_stream(content: bytes) -> junit.TestReport:
    junit_stream.read(content, ("failure",))  # raises Unusual if it would fall back
    return junit.parse(content)


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_shapes_read_as_the_element_tree_reads_them(name):
    content = CRAFTED[name]
    assert _through_the_stream(content) == junit.parse_tree(content)


@pytest.mark.parametrize("name", ["junit-xunit2", "junit-xunit1", "surefire"])
def test_genuine_reports_read_as_the_element_tree_reads_them(genuine, name):
    content = genuine.read(name)
    report = _through_the_stream(content)
    assert report == junit.parse_tree(content)
    assert report.total > 0


def test_crafted_reruns_read_as_the_element_tree_reads_them(crafted):
    content = (crafted / "junit_reruns.xml").read_bytes()
    assert _through_the_stream(content) == junit.parse_tree(content)


@pytest.mark.parametrize("content", [
    b"<testsuite><testcase name='t'></testsuite>",  # malformed
    b"<report><testcase name='t'/></report>",  # not a JUnit root
    b"",
    b'<!DOCTYPE t [<!ENTITY e "x">]><testsuite><testcase name="&e;"/></testsuite>',
    b'<!DOCTYPE t SYSTEM "x.dtd"><testsuite><testcase name="t">&undeclared;</testcase>'
    b"</testsuite>",
    b'<?xml version="1.0" encoding="no-such-encoding"?><testsuite/>',
])
def test_what_the_stream_does_not_take_fails_exactly_as_the_element_tree_does(content):
    with pytest.raises(junit_stream.Unusual):
        junit_stream.read(content, ("failure",))
    assert _failure(junit.parse, content) == _failure(junit.parse_tree, content)


def _failure(parse, content: bytes) -> tuple[type, str, int | None]:
    try:
        parse(content)
    except (ArtifactRefused, LookupError) as error:  # an unknown encoding: LookupError
        return type(error), str(getattr(error, "message", error)), getattr(error, "status", None)
    raise AssertionError("the document was accepted")

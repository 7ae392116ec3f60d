"""The intake's parse runs with the cyclic collector paused (a decoded document is a tree:
nothing in it is cyclic garbage, and the collector's passes were half of json.loads's time
on a 20,000-result log) and leaves the collector as it found it, whatever happens."""

import gc
import json

import pytest

from arcos.formats import sarif
from arcos.formats.errors import ArtifactRefused
from arcos.formats.parse import Limits
from arcos.intake.service import parse_artifact

LOG = json.dumps({"version": "2.1.0", "runs": [{
    "tool": {"driver": {"name": "t"}}, "results": [{"ruleId": "r", "message": {"text": "m"}}],
}]}).encode()


@pytest.fixture
def seen_while_parsing(monkeypatch):
    seen = []
    real = sarif.from_document

    def watching(document, **options):
        seen.append(gc.isenabled())
        return real(document, **options)

    monkeypatch.setattr(sarif, "from_document", watching)
    return seen


def _parse(content: bytes):
    return parse_artifact("sast_report", content, "sarif", None, Limits(), None)


def test_the_collector_is_paused_during_the_parse_and_back_after(seen_while_parsing):
    assert gc.isenabled()
    prepared = _parse(LOG)
    assert seen_while_parsing == [False]
    assert gc.isenabled()
    assert len(prepared.result.findings) == 1


def test_a_refused_artifact_leaves_the_collector_running():
    with pytest.raises(ArtifactRefused):
        _parse(b'{"version": "2.1.0", "runs": [')
    assert gc.isenabled()


def test_a_collector_paused_by_the_caller_stays_paused(seen_while_parsing):
    gc.disable()
    try:
        _parse(LOG)
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert seen_while_parsing == [False]

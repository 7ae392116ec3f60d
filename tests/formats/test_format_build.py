"""ARCOS's build/deploy JSON: validated, with every problem listed in one 422."""

import json
from datetime import UTC, datetime

import pytest

from arcos.formats import build
from arcos.formats.errors import ArtifactRefused
from arcos.formats.parse import parse

pytest_plugins = ["format_artifacts"]


def test_deployment_record(crafted, ingest_limits):
    record = parse((crafted / "build_deploy.json").read_bytes(), limits=ingest_limits)
    assert record.status == "success"
    assert record.is_deployment
    assert record.environment == "production"
    assert record.commit == "0123456789abcdef0123456789abcdef01234567"
    assert record.pipeline_id == "4711"
    assert record.started_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert record.duration_seconds == pytest.approx(312.5)  # from the timestamps
    assert record.warnings == ("ignored unknown field 'runner'",)
    assert record.metrics() == {"build.duration_seconds": 312.5, "build.succeeded": 1}


def test_minimal_running_build():
    record = build.from_document({"status": "running", "ref": "main"})
    assert not record.is_deployment
    assert record.duration_seconds is None
    assert record.metrics()["build.succeeded"] is None


def test_every_problem_is_reported_at_once():
    with pytest.raises(ArtifactRefused) as refused:
        build.from_document({
            "status": "green", "commit": "xyz", "duration_seconds": -3,
            "started_at": "yesterday", "ref": 7, "environment": "",
        })
    message = refused.value.message
    assert refused.value.status == 422
    for fragment in ("status 'green'", "commit", "duration_seconds", "started_at", "ref",
                     "environment"):
        assert fragment in message


def test_order_of_timestamps_and_naive_times():
    with pytest.raises(ArtifactRefused, match="before started_at"):
        build.from_document({"status": "failure", "started_at": "2026-01-02T00:00:00Z",
                             "finished_at": "2026-01-01T00:00:00Z"})
    record = build.from_document({"status": "failure", "started_at": "2026-01-01T00:00:00",
                                  "duration_seconds": 12})
    assert record.started_at.tzinfo is UTC
    assert "UTC was assumed" in record.warnings[0]
    with pytest.raises(ArtifactRefused, match="duration_seconds must be a non-negative number"):
        build.from_document({"status": "failure", "duration_seconds": "12"})


def test_status_is_required():
    with pytest.raises(ArtifactRefused, match="status is required"):
        build.parse(json.dumps({"commit": "abcdef1"}).encode())

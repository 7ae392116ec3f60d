"""Intake keeps an SBOM's components beside its evidence (for threat matching): written in
the upload's own unit of work, bounded, and never for a refused upload."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from conftest import RunningApp
from threats_kit import DISTRIBUTION, genuine_sbom

from arcos.intake import components, service
from arcos.intake.models import IngestionJob, SbomComponent
from arcos.store.write_context import WriteContext

PROJECT = "github.com/acme/sbom"


@pytest.fixture(scope="module")
def sbom(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return genuine_sbom(tmp_path_factory.mktemp("sbom")).encode()


def write(app: RunningApp) -> WriteContext:
    state = app.app.state
    return WriteContext("tester", state.settings, state.writer)


async def test_components_are_stored_with_their_evidence(app: RunningApp, sbom: bytes) -> None:
    done = await service.ingest_artifact(
        "sbom", sbom, content_type="application/vnd.cyclonedx+json",
        provenance=service.Provenance(PROJECT), write=write(app))
    rows = await SbomComponent.filter(evidence_uid=done.evidence.uid)
    assert [(r.name, r.version, r.package) for r in rows] == [
        (DISTRIBUTION, importlib.metadata.version(DISTRIBUTION), f"pypi/{DISTRIBUTION}")]
    assert rows[0].project_id == done.evidence.project_id
    assert rows[0].purl.startswith(f"pkg:pypi/{DISTRIBUTION}@")
    # without a project nothing can be matched, so nothing is kept
    bare = await service.ingest_artifact(
        "sbom", sbom, content_type="application/vnd.cyclonedx+json",
        provenance=service.Provenance(), write=write(app))
    assert not await SbomComponent.filter(evidence_uid=bare.evidence.uid).exists()


async def test_a_refused_upload_keeps_no_components(app: RunningApp, sbom: bytes) -> None:
    with pytest.raises(service.IntakeRefused):
        await service.ingest_artifact(
            "sbom", sbom, content_type="application/vnd.cyclonedx+json",
            provenance=service.Provenance("Not A Slug!"), write=write(app))
    assert await IngestionJob.filter(status="failed").count() == 1
    assert await SbomComponent.all().count() == 0


async def test_components_beyond_the_bound_are_counted_not_kept(
    app: RunningApp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(components, "MAX_SBOM_COMPONENTS", 2)
    document = (
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": ['
        + ",".join(f'{{"type": "library", "name": "p{i}", "version": "1.{i}", '
                   f'"purl": "pkg:pypi/p{i}@1.{i}"}}' for i in range(5))
        + "]}")
    done = await service.ingest_artifact(
        "sbom", document.encode(), content_type="application/vnd.cyclonedx+json",
        provenance=service.Provenance(PROJECT), write=write(app))
    assert await SbomComponent.filter(evidence_uid=done.evidence.uid).count() == 2
    assert any("first 2 of 5" in warning for warning in done.warnings)
    assert done.evidence.data["metrics"]["sbom.components"] == 5

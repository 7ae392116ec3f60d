"""The committed schema.graphql is exactly what the code exports."""

import subprocess
import sys

from conftest import REPO_ROOT


def test_committed_sdl_matches_the_code():
    exported = subprocess.run(
        [sys.executable, "-m", "arcos", "export-schema"], capture_output=True, text=True,
        check=True,
    ).stdout
    committed = (REPO_ROOT / "schema.graphql").read_text()
    assert exported == committed, (
        "schema.graphql is stale: run `arcos export-schema --output schema.graphql` and commit it"
    )


def test_sdl_keeps_the_original_operation_names():
    sdl = (REPO_ROOT / "schema.graphql").read_text()
    for signature in (
        "evidence(id: ID!): Evidence",
        "evidenceList(type: String = null, source: String = null, project: String = null, "
        "limit: Int! = 50, offset: Int! = 0): [Evidence!]!",
        "submitEvidence(input: SubmitEvidenceInput!): SubmitEvidencePayload!",
        "submitEvidenceBatch(input: SubmitEvidenceBatchInput!): SubmitEvidenceBatchPayload!",
        "linkEvidence(input: LinkEvidenceInput!): LinkEvidencePayload!",
        # `after` (resume from the outbox) was added by the core reshape; the original
        # arguments are unchanged.
        "evidenceAdded(type: String = null, project: String = null, after: String = null): "
        "Evidence!",
    ):
        assert signature in sdl, signature

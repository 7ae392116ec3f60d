"""The evidence kinds compliance people name (test results, coverage, static analysis, …)
and the ARCOS evidence types that carry them.

Most types come from intake (arcos/intake/service.py EVIDENCE_TYPES) and the webhooks
(commit, pull_request, code_review, deployment, release). Access-control reviews and
documents (a DPIA, a threat model, a root-cause analysis) have no producer in ARCOS:
they are submitted as evidence of the types named here with `submitEvidence`.
"""

from __future__ import annotations

from enum import StrEnum


class EvidenceCode(StrEnum):
    TR = "TR"      # test results
    COV = "COV"    # coverage
    SAST = "SAST"  # static-analysis findings
    SCA = "SCA"    # dependency / SBOM scan
    CR = "CR"      # code review
    DEP = "DEP"    # deployment and change records
    AC = "AC"      # access-control configuration and reviews
    DOC = "DOC"    # a document (DPIA, threat model, root-cause analysis)


#: The ARCOS evidence types each code is carried by.
EVIDENCE_TYPES: dict[EvidenceCode, tuple[str, ...]] = {
    EvidenceCode.TR: ("test_results",),
    EvidenceCode.COV: ("test_coverage",),
    EvidenceCode.SAST: ("security_scan",),
    EvidenceCode.SCA: ("vulnerability_report", "sbom"),
    EvidenceCode.CR: ("code_review", "pull_request"),
    EvidenceCode.DEP: ("deployment", "build", "release"),
    EvidenceCode.AC: ("access_review",),
    EvidenceCode.DOC: ("document",),
}

DESCRIPTIONS: dict[EvidenceCode, str] = {
    EvidenceCode.TR: "test results",
    EvidenceCode.COV: "coverage",
    EvidenceCode.SAST: "static-analysis findings",
    EvidenceCode.SCA: "dependency scan or SBOM",
    EvidenceCode.CR: "code review",
    EvidenceCode.DEP: "deployment or change record",
    EvidenceCode.AC: "access-control configuration or review",
    EvidenceCode.DOC: "document",
}


def evidence_types(*codes: EvidenceCode) -> tuple[str, ...]:
    """The ARCOS evidence types behind `codes`, in order, each once."""
    return tuple(dict.fromkeys(t for code in codes for t in EVIDENCE_TYPES[code]))

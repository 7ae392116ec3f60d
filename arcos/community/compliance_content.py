"""The eight built-in compliance frameworks: each control's identifier, a short title in
our own words, the evidence kinds it rests on, the checks over ARCOS data that satisfy it
and an audit checklist question.

Identifiers are the frameworks' own; titles are short titles or paraphrases (the AICPA,
PCI, ISO and CIS texts are copyrighted, so no normative text is reproduced). Thresholds
are ARCOS's defaults for a release pipeline, not the frameworks' wording.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from arcos.community.checks import Check, evidence, metric, sbom
from arcos.community.evidence_codes import EvidenceCode, evidence_types

TR, COV, SAST, SCA, CR, DEP, AC, DOC = (
    EvidenceCode.TR, EvidenceCode.COV, EvidenceCode.SAST, EvidenceCode.SCA, EvidenceCode.CR,
    EvidenceCode.DEP, EvidenceCode.AC, EvidenceCode.DOC,
)

#: The checks each evidence kind brings to a control unless the control says otherwise.
CODE_CHECKS: dict[EvidenceCode, tuple[Check, ...]] = {
    TR: (evidence("test_results", days=30), metric("tests.pass_rate >= 0.95", days=30)),
    COV: (metric("coverage.line_rate >= 0.8", days=30),),
    SAST: (evidence("security_scan", days=30), metric("findings.critical == 0", days=30),
           metric("findings.high == 0", days=30)),
    SCA: (sbom(days=90), metric("vulns.critical == 0", days=30)),
    CR: (evidence(*evidence_types(CR), days=90),),
    DEP: (evidence(*evidence_types(DEP), days=90),),
    AC: (evidence(*evidence_types(AC), days=90),),
}


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    codes: tuple[EvidenceCode, ...]
    checks: tuple[Check, ...]
    #: The auditor's question, answered by the checks' evidence.
    checklist: str


@dataclass(frozen=True)
class Framework:
    key: str
    name: str
    version: str
    description: str
    controls: tuple[Control, ...]


def control(
    id: str, title: str, codes: Sequence[EvidenceCode], checklist: str,
    checks: Sequence[Check] | None = None,
) -> Control:
    """A control whose checks are its evidence kinds' defaults, unless given."""
    chosen = tuple(checks) if checks is not None else tuple(
        dict.fromkeys(check for code in codes for check in CODE_CHECKS[code]))
    return Control(id, title, tuple(codes), chosen, checklist)


SOC2 = Framework(
    "soc2", "SOC 2", "Trust Services Criteria 2017 (points of focus revised 2022)",
    "AICPA Trust Services Criteria: the common criteria that software evidence supports.",
    (
        control("CC6.1", "Logical access security over protected assets", (AC,),
                "Is access to protected assets restricted and reviewed on a schedule?"),
        control("CC6.6", "Logical access security against threats from outside the boundary",
                (AC, DEP), "Are external entry points restricted, and their changes recorded?"),
        control("CC6.8", "Prevention or detection of unauthorized or malicious software",
                (SCA, SAST), "Are dependencies and code scanned for malicious or vulnerable "
                "software, with no critical results open?"),
        control("CC7.1", "Detection and monitoring of configuration changes and new "
                "vulnerabilities", (SCA, DEP),
                "Are new vulnerabilities and configuration changes detected and recorded?"),
        control("CC8.1", "Changes are authorized, designed, developed, tested, approved and "
                "implemented", (CR, TR, COV, DEP),
                "Is every change reviewed, tested and deployed through a recorded process?"),
        control("CC9.2", "Vendor and business-partner risk is assessed and managed", (SCA,),
                "Are third-party components inventoried and their vulnerabilities tracked?"),
    ),
)

PCI_DSS = Framework(
    "pci-dss", "PCI DSS", "v4.0.1 (June 2024)",
    "Payment Card Industry Data Security Standard: requirements 6 (secure software) and 11 "
    "(testing) as software evidence shows them.",
    (
        control("6.2.1", "Bespoke and custom software is developed securely", (CR, SAST),
                "Is bespoke software developed under a secure process with review and static "
                "analysis?"),
        control("6.2.3", "Code is reviewed before release", (CR,),
                "Is code reviewed before it is released to production?"),
        control("6.2.3.1", "Manual code review by someone other than the author", (CR,),
                "Are manual reviews done by someone other than the code's author?",
                (evidence("code_review", days=90),)),
        control("6.2.4", "Engineering techniques prevent common software attacks", (SAST, TR),
                "Do tests and static analysis cover injection, XSS, CSRF and access-control "
                "flaws?"),
        control("6.3.1", "Security vulnerabilities are identified and risk-ranked", (SCA, SAST),
                "Are vulnerabilities found, ranked by severity and the critical ones fixed?"),
        control("6.3.2", "Inventory of bespoke software and third-party components", (SCA,),
                "Is there a current inventory (SBOM) of the software's components?",
                (sbom(days=90),)),
        control("6.3.3", "Known vulnerabilities are patched (critical within one month)",
                (SCA, DEP), "Are critical vulnerabilities patched within a month?",
                (metric("vulns.critical == 0", days=30), evidence(*evidence_types(DEP),
                                                                  days=30))),
        control("6.4.3", "Payment-page scripts are authorized, integrity-checked and "
                "inventoried", (DEP,),
                "Is every payment-page script authorized, inventoried and integrity-checked?"),
        control("6.5.1", "Changes to production follow a change procedure", (DEP, CR),
                "Do production changes follow a documented, recorded procedure?"),
        control("6.5.3", "Pre-production environments are separated from production",
                (DEP, AC), "Are pre-production environments separated from production?"),
        control("6.5.4", "Production and pre-production roles are separated", (AC,),
                "Are the roles of production and pre-production separated?"),
        control("11.3.1", "Internal vulnerability scans at least every three months", (SCA,),
                "Were internal vulnerability scans run within the last three months?",
                (evidence("vulnerability_report", days=90), metric("vulns.critical == 0",
                                                                   days=90))),
        control("11.3.2", "External (ASV) scans at least every three months", (SCA,),
                "Were external scans by an approved vendor run within the last three months?",
                (evidence("asv_scan", days=90),)),
    ),
)

HIPAA = Framework(
    "hipaa", "HIPAA Security Rule", "45 CFR Part 164 Subpart C",
    "Administrative and technical safeguards for electronic protected health information.",
    (
        control("164.308(a)(1)(ii)(A)", "Risk analysis", (SAST, SCA),
                "Is there a current analysis of risks to ePHI, informed by code and "
                "dependency scans?"),
        control("164.308(a)(1)(ii)(B)", "Risk management", (SAST, SCA),
                "Are identified risks reduced, with critical findings resolved?"),
        control("164.308(a)(5)(ii)(B)", "Protection from malicious software", (SCA,),
                "Are components checked for malicious or vulnerable software?"),
        control("164.308(a)(8)", "Evaluation", (TR,),
                "Are the safeguards evaluated periodically through testing?"),
        control("164.312(a)(1)", "Access control", (AC,),
                "Is access to ePHI systems limited to authorized users and reviewed?"),
        control("164.312(b)", "Audit controls", (DEP,),
                "Is activity in systems with ePHI recorded and examinable?"),
        control("164.312(c)(1)", "Integrity", (TR, CR),
                "Is ePHI protected from improper change, with tested and reviewed code?"),
        control("164.312(d)", "Person or entity authentication", (AC, TR),
                "Is the identity of users verified, and is authentication tested?"),
        control("164.312(e)(1)", "Transmission security", (TR, SAST),
                "Is ePHI protected in transit, with tests and static analysis to show it?"),
    ),
)

ISO27001 = Framework(
    "iso27001", "ISO/IEC 27001 Annex A", "2022 (Annex A = ISO/IEC 27002:2022)",
    "The Annex A technological controls that software delivery evidence supports.",
    (
        control("A.8.8", "Management of technical vulnerabilities", (SCA, SAST),
                "Are technical vulnerabilities identified and remediated in time?"),
        control("A.8.9", "Configuration management", (DEP,),
                "Are configurations established, recorded and changed under control?"),
        control("A.8.25", "Secure development life cycle", (CR, SAST),
                "Does development follow secure-lifecycle rules with review and scanning?"),
        control("A.8.26", "Application security requirements", (TR,),
                "Are security requirements specified and verified by tests?"),
        control("A.8.28", "Secure coding", (SAST, CR),
                "Are secure-coding principles applied and checked by analysis and review?"),
        control("A.8.29", "Security testing in development and acceptance", (TR, COV),
                "Is security testing part of development and acceptance?"),
        control("A.8.31", "Separation of development, test and production environments",
                (AC, DEP), "Are development, test and production environments separated?"),
        control("A.8.32", "Change management", (DEP, CR),
                "Are changes subject to change-management procedures?"),
    ),
)

GDPR = Framework(
    "gdpr", "GDPR", "Regulation (EU) 2016/679",
    "The articles on security of processing and data protection by design.",
    (
        control("Art. 5(1)(f)", "Integrity and confidentiality", (AC,),
                "Is personal data protected against unauthorized access and loss?"),
        control("Art. 25", "Data protection by design and by default", (CR, TR),
                "Are data-protection measures built in, reviewed and tested?"),
        control("Art. 28", "Processor obligations", (SCA,),
                "Are sub-processors and third-party components known and assessed?"),
        control("Art. 32", "Security of processing, including regular testing", (TR, SAST, SCA,
                                                                                   AC),
                "Are security measures in place and tested, assessed and evaluated "
                "regularly?"),
        control("Art. 33", "Breach notification to the supervisory authority", (DEP,),
                "Is there an incident record with a timeline that supports notice within "
                "72 hours?", (evidence("incident_report", days=365),)),
        control("Art. 35", "Data protection impact assessment", (DOC,),
                "Is there a current DPIA for high-risk processing?",
                (evidence("dpia", days=365),)),
    ),
)

NIST = Framework(
    "nist-800-53", "NIST SP 800-53 with SSDF", "SP 800-53 Rev 5 (Release 5.2.0) and "
    "SP 800-218 SSDF v1.1",
    "Developer controls of SP 800-53 and the Secure Software Development Framework's "
    "practices.",
    (
        control("SA-11", "Developer Testing and Evaluation", (TR, COV, SAST),
                "Does the developer test and evaluate the software, with coverage and "
                "static analysis?"),
        control("SA-10", "Developer Configuration Management", (DEP,),
                "Does the developer manage configuration and record changes?"),
        control("SA-15", "Development Process, Standards, and Tools", (CR,),
                "Is there a defined development process with reviews?"),
        control("SI-2", "Flaw Remediation", (SCA, DEP),
                "Are flaws identified, reported and corrected, with the fixes deployed?"),
        control("RA-5", "Vulnerability Monitoring and Scanning", (SCA, SAST),
                "Are the system and its components scanned for vulnerabilities?"),
        control("CM-3", "Configuration Change Control", (DEP, CR),
                "Are configuration changes reviewed, approved and recorded?"),
        control("CM-8", "System Component Inventory", (SCA,),
                "Is there a current inventory (SBOM) of system components?",
                (sbom(days=90),)),
        control("SI-7", "Software, Firmware, and Information Integrity", (DEP,),
                "Is software integrity verified when it is released and deployed?"),
        control("PO.3", "Implement supporting toolchains", (DEP,),
                "Is the build and release toolchain in place and producing records?"),
        control("PS.1", "Protect all forms of code", (AC,),
                "Is code protected from unauthorized access and tampering?"),
        control("PS.2", "Provide a mechanism for verifying release integrity", (DEP, SCA),
                "Can recipients verify the integrity of each release?"),
        control("PS.3", "Archive and protect each release with its provenance", (DEP, SCA),
                "Are releases archived with their provenance and component data?"),
        control("PW.4", "Reuse existing, well-secured software", (SCA,),
                "Are reused components inventoried and free of critical vulnerabilities?"),
        control("PW.7", "Review and analyse human-readable code", (CR, SAST),
                "Is code reviewed and analysed for vulnerabilities?"),
        control("PW.8", "Test executable code", (TR, COV),
                "Is executable code tested, with coverage measured?"),
        control("RV.1", "Identify and confirm vulnerabilities on an ongoing basis", (SCA,),
                "Are vulnerabilities looked for continuously and confirmed?"),
        control("RV.2", "Assess, prioritize and remediate vulnerabilities", (SCA,),
                "Are vulnerabilities prioritized and the critical ones remediated?"),
        control("RV.3", "Analyse vulnerabilities to identify their root causes", (DOC,),
                "Are root causes of vulnerabilities analysed and recorded?",
                (evidence("root_cause_analysis", days=365),)),
    ),
)

CIS = Framework(
    "cis-controls", "CIS Controls", "v8.1 (June 2024)",
    "Control 16, Application Software Security, as software evidence shows it.",
    (
        control("16.1", "Establish and maintain a secure application development process",
                (CR,), "Is there a secure development process, followed through reviews?"),
        control("16.2", "Establish a process to accept and address software vulnerabilities",
                (SCA,), "Are reported vulnerabilities accepted, tracked and addressed?"),
        control("16.4", "Establish and manage an inventory of third-party software components",
                (SCA,), "Is there a current inventory (SBOM) of third-party components?",
                (sbom(days=90),)),
        control("16.6", "Establish a severity rating system for application vulnerabilities",
                (SAST, SCA), "Are vulnerabilities rated by severity and handled by rating?"),
        control("16.8", "Separate production and non-production systems", (AC, DEP),
                "Are production and non-production systems separated?"),
        control("16.12", "Implement code-level security checks", (SAST,),
                "Are code-level security checks (static analysis) run on the code?"),
        control("16.13", "Conduct application penetration testing", (TR,),
                "Has the application been penetration-tested?",
                (evidence("penetration_test", days=365),)),
        control("16.14", "Conduct threat modeling", (DOC,),
                "Is there a current threat model of the application?",
                (evidence("threat_model", days=365),)),
    ),
)

FEDRAMP = Framework(
    "fedramp", "FedRAMP", "Rev 5 baselines (Low and Moderate)",
    "SP 800-53 controls of the FedRAMP Low and Moderate baselines that software evidence "
    "supports; high vulnerabilities are expected fixed within 30 days.",
    (
        control("RA-5", "Vulnerability Monitoring and Scanning (Low, Moderate)", (SCA, SAST),
                "Are monthly vulnerability scans run, with high and critical findings "
                "remediated?",
                (evidence("vulnerability_report", days=30), metric("vulns.critical == 0",
                                                                   days=30),
                 metric("vulns.high == 0", days=30), evidence("security_scan", days=30),
                 metric("findings.critical == 0", days=30))),
        control("SI-2", "Flaw Remediation (Low, Moderate)", (SCA, DEP),
                "Are flaws remediated within the baseline's windows and the fixes deployed?"),
        control("CA-8", "Penetration Testing (Low, Moderate)", (TR,),
                "Has a penetration test been run within the last year?",
                (evidence("penetration_test", days=365),)),
        control("CM-8", "System Component Inventory (Low, Moderate)", (SCA,),
                "Is there a current component inventory (SBOM)?", (sbom(days=30),)),
        control("CM-3", "Configuration Change Control (Moderate)", (DEP, CR),
                "Are changes reviewed, approved and recorded?"),
        control("SA-10", "Developer Configuration Management (Moderate)", (DEP,),
                "Does the developer track changes under configuration management?"),
        control("SA-11", "Developer Testing and Evaluation (Moderate)", (TR, COV, SAST),
                "Does the developer test, measure coverage and run static analysis?"),
        control("SA-15", "Development Process, Standards, and Tools (Moderate)", (CR,),
                "Is the development process defined and followed, with reviews?"),
        control("SI-7", "Software, Firmware, and Information Integrity (Moderate)", (DEP,),
                "Is software integrity verified on release and deployment?"),
        control("SR-3", "Supply Chain Controls and Processes (Low, Moderate)", (SCA,),
                "Are supply-chain risks of components identified and managed?"),
        control("SR-11", "Component Authenticity (Low, Moderate)", (SCA,),
                "Are components checked for authenticity and known vulnerabilities?"),
    ),
)

FRAMEWORKS: tuple[Framework, ...] = (SOC2, PCI_DSS, HIPAA, ISO27001, GDPR, NIST, CIS, FEDRAMP)
BY_KEY: dict[str, Framework] = {framework.key: framework for framework in FRAMEWORKS}

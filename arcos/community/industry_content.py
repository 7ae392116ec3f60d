"""The eight built-in industry templates: the standards that govern software in each
industry, what they ask of it (in our own words), the evidence types they expect, and an
eight-node GSN argument skeleton.

Every skeleton has the same shape: the root goal G1 in the context of C1, argued by the
strategy S1 over two sub-goals; G2 is supported by the solutions Sn1 and Sn2, G3 by Sn3.
Each solution names the ARCOS evidence types that would be its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from arcos.community.evidence_codes import EvidenceCode, evidence_types
from arcos.community.gsn import Node, NodeType

TR, COV, SAST, SCA, CR, DEP, AC = (
    EvidenceCode.TR, EvidenceCode.COV, EvidenceCode.SAST, EvidenceCode.SCA, EvidenceCode.CR,
    EvidenceCode.DEP, EvidenceCode.AC,
)


@dataclass(frozen=True)
class Standard:
    name: str
    note: str


@dataclass(frozen=True)
class Industry:
    key: str
    name: str
    description: str
    standards: tuple[Standard, ...]
    requirements: tuple[str, ...]
    argument: tuple[Node, ...]
    #: Keys of the built-in compliance frameworks that apply.
    frameworks: tuple[str, ...] = ()

    @property
    def evidence_types(self) -> tuple[str, ...]:
        """Every evidence type the argument's solutions expect, in order."""
        return tuple(dict.fromkeys(t for node in self.argument for t in node.evidence_types))


Solution = tuple[str, tuple[EvidenceCode, ...]]


def skeleton(root: str, context: str, strategy: str, left: str, right: str,
             sn1: Solution, sn2: Solution, sn3: Solution) -> tuple[Node, ...]:
    """The eight-node argument every built-in industry uses."""

    def solution(node_id: str, part: Solution) -> Node:
        text, codes = part
        return Node(node_id, NodeType.SOLUTION, text, evidence_types=evidence_types(*codes))

    return (
        Node("G1", NodeType.GOAL, root, supported_by=("S1",), in_context_of=("C1",)),
        Node("C1", NodeType.CONTEXT, context),
        Node("S1", NodeType.STRATEGY, strategy, supported_by=("G2", "G3")),
        Node("G2", NodeType.GOAL, left, supported_by=("Sn1", "Sn2")),
        Node("G3", NodeType.GOAL, right, supported_by=("Sn3",)),
        solution("Sn1", sn1),
        solution("Sn2", sn2),
        solution("Sn3", sn3),
    )


HEALTHCARE = Industry(
    "healthcare", "Healthcare (medical device software)",
    "Software in or as a medical device, from development through post-market surveillance.",
    (
        Standard("IEC 62304:2006+A1:2015", "Software life cycle; safety classes A, B and C."),
        Standard("FDA premarket cybersecurity guidance (June 2025)",
                 "Section 524B cyber devices: SBOM, patch plan, coordinated disclosure."),
        Standard("ISO 14971", "Risk management for medical devices."),
        Standard("IEC 81001-5-1", "Security activities in the health software life cycle."),
    ),
    (
        "Classify the software by safety class and scale the process to it.",
        "Verify requirements and risk controls with recorded tests.",
        "Keep a software bill of materials, including SOUP, and monitor it for "
        "vulnerabilities.",
        "Have a plan to patch vulnerabilities before and after release.",
    ),
    skeleton(
        "Device software is acceptably safe and secure for its intended use.",
        "Intended use, IEC 62304 safety class and the ISO 14971 risk file.",
        "Argue over each identified hazard and threat.",
        "Requirements and risk controls are verified.",
        "SOUP vulnerabilities are managed before and after market.",
        ("Test results and coverage of the verified requirements.", (TR, COV)),
        ("Static analysis and code review records.", (SAST, CR)),
        ("SBOM, dependency scans and deployment (patch) records.", (SCA, DEP)),
    ),
    ("hipaa",),
)

FINANCE = Industry(
    "finance", "Finance",
    "Banking, payments and other financial services operating ICT systems.",
    (
        Standard("PCI DSS v4.0.1", "Secure software and testing requirements for card data."),
        Standard("SOX §404 IT general controls", "Change, access and operations controls."),
        Standard("DORA, Regulation (EU) 2022/2554",
                 "Digital operational resilience, applicable since 17 January 2025; Art. 25 "
                 "names source-code review, open-source analysis, scans and penetration tests."),
        Standard("RTS (EU) 2024/1774", "Art. 16 ICT acquisition and development; Art. 17 "
                 "change management."),
    ),
    (
        "Only authorized, reviewed and tested changes reach production.",
        "Access to production and source is restricted and reviewed.",
        "Source code and open-source components are analysed for vulnerabilities.",
        "Resilience is tested, including penetration tests.",
    ),
    skeleton(
        "ICT risk of the service is within tolerance.",
        "The critical or important functions the service supports.",
        "Argue over change, access and testing controls.",
        "Only authorized, tested changes reach production.",
        "Vulnerabilities are found and fixed.",
        ("Deployment records with their reviews and test results.", (DEP, CR, TR)),
        ("Access-control configuration and reviews.", (AC,)),
        ("Static analysis, dependency scans and penetration-test results.", (SAST, SCA, TR)),
    ),
    ("pci-dss", "soc2"),
)

AUTOMOTIVE = Industry(
    "automotive", "Automotive",
    "Vehicle software: functional safety and cybersecurity engineering through production "
    "and updates.",
    (
        Standard("ISO 26262:2018", "Functional safety; ASIL A to D."),
        Standard("ISO/SAE 21434:2021", "Cybersecurity engineering; TARA and CAL 1 to 4."),
        Standard("UNECE R155 / R156", "Cybersecurity and software-update management systems, "
                 "mandatory for new vehicles in the EU since July 2024."),
        Standard("ISO 24089", "Software update engineering."),
    ),
    (
        "Derive safety goals and cybersecurity goals from hazard analysis and TARA.",
        "Verify requirements, with structural coverage as the ASIL demands (MC/DC at ASIL D).",
        "Test for vulnerabilities, including penetration tests.",
        "Keep components and software updates secure after production.",
    ),
    skeleton(
        "The item has no unreasonable safety or cybersecurity risk.",
        "Item definition, ASIL and CAL, and the TARA.",
        "Argue over the safety goals and the cybersecurity goals.",
        "Requirements are verified.",
        "Components and updates stay secure after production.",
        ("Test results and structural coverage.", (TR, COV)),
        ("Static analysis and penetration-test results.", (SAST, TR)),
        ("Dependency scans and software-update (deployment) records.", (SCA, DEP)),
    ),
    ("iso27001",),
)

AEROSPACE = Industry(
    "aerospace", "Aerospace (airborne software)",
    "Airborne software certified under DO-178C and its airworthiness security process.",
    (
        Standard("DO-178C / ED-12C", "Software considerations in airborne systems; levels A "
                 "(71 objectives) to E; recognized through FAA AC 20-115."),
        Standard("DO-330", "Software tool qualification."),
        Standard("DO-326A / ED-202A", "Airworthiness security process (DO-356A for methods)."),
        Standard("ARP4754A / ARP4761", "System development and safety assessment."),
    ),
    (
        "Meet the objectives of the assigned software level (DAL).",
        "Trace requirements to tests and measure structural coverage.",
        "Review code against standards and keep it under configuration control.",
        "Qualify the tools whose output is not verified.",
    ),
    skeleton(
        "The software satisfies the objectives of its DAL.",
        "The system safety assessment (ARP4754A/ARP4761) and the assigned DAL.",
        "Argue over the DO-178C objective tables.",
        "Requirements are traced, verified and structurally covered.",
        "Code conforms to standards under configuration control.",
        ("Requirements-based test results.", (TR,)),
        ("Structural coverage analysis.", (COV,)),
        ("Code reviews, static analysis and configuration (deployment) records.",
         (CR, SAST, DEP)),
    ),
    ("nist-800-53",),
)

INDUSTRIAL_CONTROL = Industry(
    "industrial-control", "Industrial control systems",
    "Manufacturing and industrial automation components and systems.",
    (
        Standard("IEC 62443-4-1:2018", "Secure development life cycle in eight practices: SM, "
                 "SR, SD, SI, SVV, DM, SUM, SG."),
        Standard("IEC 62443-4-2", "Component requirements at security levels SL 1 to 4."),
        Standard("IEC 62443-3-3", "System security requirements."),
        Standard("EU Cyber Resilience Act, Regulation (EU) 2024/2847",
                 "Vulnerability reporting from 11 September 2026; full obligations from "
                 "11 December 2027."),
    ),
    (
        "Implement securely and verify it (practices SI and SVV).",
        "Manage reported defects and security updates (practices DM and SUM).",
        "Reach the target security level of each component.",
        "Report actively exploited vulnerabilities as the CRA requires.",
    ),
    skeleton(
        "The component meets its target security level.",
        "The zone and conduit model.",
        "Argue over the IEC 62443-4-1 practices.",
        "Implementation is secure and verified (SI, SVV).",
        "Defects and updates are managed (DM, SUM).",
        ("Static analysis and code review records.", (SAST, CR)),
        ("Test and penetration-test results.", (TR,)),
        ("Dependency scans and update (deployment) records.", (SCA, DEP)),
    ),
    ("iso27001", "cis-controls"),
)

RETAIL = Industry(
    "retail", "Retail and e-commerce",
    "Shops and payment pages that handle cardholder data.",
    (
        Standard("PCI DSS v4.0.1", "Requirements 6.4.3 and 11.6.1 on payment-page scripts "
                 "matter most for e-commerce."),
        Standard("PCI Secure Software Framework", "For vendors of payment software."),
    ),
    (
        "Develop payment software securely, with review and static analysis (6.2.x).",
        "Inventory, authorize and integrity-check payment-page scripts (6.4.3).",
        "Patch components and scan them at least quarterly (6.3.x, 11.3).",
    ),
    skeleton(
        "Cardholder data is protected in this release.",
        "The cardholder-data environment scope and data-flow diagram.",
        "Argue over the in-scope PCI DSS requirements.",
        "The code is secure (6.2.x).",
        "Components are patched and scanned (6.3.x, 11.3).",
        ("Code reviews and static analysis.", (CR, SAST)),
        ("The payment-page script inventory in deployment records (6.4.3).", (DEP,)),
        ("SBOM and dependency scans.", (SCA,)),
    ),
    ("pci-dss",),
)

EDUCATION = Industry(
    "education", "Education",
    "Software that holds student education records for schools and their vendors.",
    (
        Standard("FERPA, 20 U.S.C. §1232g and 34 CFR Part 99", "Vendors act as school "
                 "officials under §99.31(a)(1)(i)(B)."),
        Standard("COPPA Rule (amended April 2025)", "A written information-security programme; "
                 "compliance due 22 April 2026."),
        Standard("State student-privacy laws", "Additional disclosure and security duties."),
    ),
    (
        "Disclose education records only as FERPA allows.",
        "Restrict access by role and log it.",
        "Keep the application free of known data-exposure flaws.",
        "Retain and delete records as the data-sharing agreement says.",
    ),
    skeleton(
        "Education records are disclosed only as FERPA allows.",
        "The data-sharing agreement.",
        "Argue over access, disclosure and retention.",
        "Access is role-restricted and logged.",
        "The application has no known data-exposure flaws.",
        ("Access-control configuration and its tests.", (AC, TR)),
        ("Audit logs and deployment records.", (DEP,)),
        ("Static analysis and dependency scans.", (SAST, SCA)),
    ),
    ("gdpr",),
)

GOVERNMENT = Industry(
    "government", "Government",
    "Software sold to or built for public agencies.",
    (
        Standard("NIST SP 800-218 (SSDF)", "Secure software development practices PO, PS, PW "
                 "and RV."),
        Standard("FedRAMP Rev 5 / 20x", "Cloud authorization baselines over SP 800-53."),
        Standard("NIST SP 800-53 Rev 5", "Security and privacy controls."),
        Standard("CISA Secure Software Development Attestation Form (March 2024)",
                 "Agencies may collect it and SBOMs since OMB M-26-05 (January 2026)."),
    ),
    (
        "Protect code and releases, with provenance (PS.1-PS.3).",
        "Review and test code, and handle vulnerabilities (PW.7, PW.8, RV).",
        "Be able to attest to the SSDF and provide an SBOM on request.",
    ),
    skeleton(
        "The software was produced following the SSDF.",
        "The attestation form and the agency's risk assessment.",
        "Argue over the PO, PS, PW and RV practice groups.",
        "Code and releases are protected, with provenance (PS.1-PS.3).",
        "Code is reviewed, tested and its vulnerabilities handled (PW.7, PW.8, RV).",
        ("Access-control configuration protecting the code.", (AC,)),
        ("Release (deployment) records and SBOMs.", (DEP, SCA)),
        ("Code reviews, static analysis, test results and coverage.", (CR, SAST, TR, COV)),
    ),
    ("nist-800-53", "fedramp"),
)

INDUSTRIES: tuple[Industry, ...] = (
    HEALTHCARE, FINANCE, AUTOMOTIVE, AEROSPACE, INDUSTRIAL_CONTROL, RETAIL, EDUCATION, GOVERNMENT,
)
BY_KEY: dict[str, Industry] = {industry.key: industry for industry in INDUSTRIES}

"""NIST SSDF check (compliance plugin).

Input: {"evidence": [{"id": "...", "type": "sbom", "data": {...}}, ...]}
Returns one result per control: {"control", "status" ("pass" | "fail"), "evidence_ids",
"note"}. A control passes when the evidence it needs is present (and, for the
vulnerability control, no critical finding is open).
"""

CONTROLS = [
    ("PS.3.2", "sbom", "an SBOM is kept for the release"),
    ("PW.7.2", "sast_report", "the code is analysed by a static analyser"),
    ("PW.8.2", "test_report", "the software is tested before release"),
    ("RV.1.1", "vulnerability_report", "vulnerabilities are identified"),
]


def critical_open(rows: list) -> bool:
    for row in rows:
        body = row.get("data") or {}
        if (body.get("severities") or {}).get("critical", 0) > 0:
            return True
    return False


def check(data: dict | None) -> list:
    rows = (data or {}).get("evidence", [])
    results = []
    for control, needed, meaning in CONTROLS:
        matching = [row for row in rows if row.get("type") == needed]
        ids = [row["id"] for row in matching if row.get("id") is not None]
        if not matching:
            status, note = "fail", f"no {needed} evidence: {meaning}"
        elif control == "RV.1.1" and critical_open(matching):
            status, note = "fail", "a vulnerability report lists open critical findings"
        else:
            status, note = "pass", f"{len(matching)} {needed} evidence item(s)"
        results.append({"control": control, "status": status, "evidence_ids": ids,
                        "note": note})
    return results

"""Helpers of the threat-intelligence tests: STIX objects, bundles and principals."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from stix2validator import ValidationOptions, validate_instance

from arcos.community.threats_tlp import MARKING_IDS, Tlp

T0 = "2026-01-05T10:00:00.000Z"
#: Installed beside ARCOS, so its real dist-info is at hand for a genuine SBOM.
DISTRIBUTION = "defusedxml"


def sdo(kind: str, tlp: Tlp | None = None, **properties: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}",
                            "created": T0, "modified": T0, **properties}
    if tlp is not None:
        body["object_marking_refs"] = [MARKING_IDS[tlp]]
    return body


def relationship(source: dict[str, Any], verb: str, target: dict[str, Any],
                 tlp: Tlp | None = None) -> dict[str, Any]:
    return sdo("relationship", tlp, relationship_type=verb, source_ref=source["id"],
               target_ref=target["id"])


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}


def validator_errors(document: dict[str, Any]) -> list[str]:
    """What stix2-validator calls an error in `document` (warnings are allowed)."""
    result = validate_instance(document, ValidationOptions(version="2.1"))
    return [str(error) for error in result.errors] if not result.is_valid else []


IMPORT = """mutation($bundle: JSON!, $recipients: [String!]) {
  importStixBundle(bundle: $bundle, recipients: $recipients) {
    importId total imported known errors { field message code } } }"""
EXPORT = "{ stixBundle }"
SHARE = """mutation($input: ShareThreatInput!) { shareThreat(input: $input) {
  threat { id title tlp visibility stixId author { name } recipients
           affectedProjects { project package component version } }
  errors { field message code } } }"""


def genuine_sbom(root: Path) -> str:
    """cyclonedx-py's SBOM of a fresh environment holding the real defusedxml dist-info."""
    environment = root / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(environment)],
                   check=True, timeout=120)
    site_packages = next(environment.glob("lib/python*/site-packages"))
    metadata = importlib.metadata.distribution(DISTRIBUTION)
    info = next(Path(str(metadata.locate_file(entry))).parent for entry in metadata.files or []
                if entry.name == "METADATA" and entry.parent.name.endswith(".dist-info"))
    shutil.copytree(info, site_packages / info.name)
    out = root / "sbom.json"
    subprocess.run([sys.executable, "-m", "cyclonedx_py", "environment",
                    str(environment / "bin" / "python"), "--of", "JSON", "-o", str(out)],
                   check=True, timeout=120)
    return out.read_text()

"""What was signed, checked again before every execution.

A version's manifest and code are signed with the server's key when registered. Before a
call the host recomputes the code's hash and verifies the signature over the stored
manifest, so a row edited in the database (wider permissions, other code, another id) is
refused before any process is forked, however it was edited.
"""

from __future__ import annotations

import hashlib
import logging

from arcos.plugins.manifest import Manifest, parse_manifest
from arcos.plugins.models import PluginVersion
from arcos.plugins.signing import PluginSigner
from arcos.problems import Refused

logger = logging.getLogger("arcos.plugins")


class Tampered(Exception):
    """A stored version no longer matches what was signed; it must not run."""


def code_sha256(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def verified_manifest(row: PluginVersion, signer: PluginSigner) -> Manifest:
    """The manifest `row` was signed with, after checking the code hash and the signature.

    Raises Tampered (and logs it) when anything signed has changed since registration.
    """
    try:
        _verify(row, signer)
        manifest = parse_manifest(row.manifest)
    except Tampered as tampered:
        logger.error("plugin %s refused before execution: %s", row.label, tampered)
        raise
    return manifest


def _verify(row: PluginVersion, signer: PluginSigner) -> None:
    digest = code_sha256(row.code)
    if digest != row.code_sha256:
        raise Tampered("its code does not match the hash recorded at registration")
    if row.key_id != signer.key_id:
        raise Tampered(
            f"it was signed with key {row.key_id}, and this server's key is {signer.key_id}"
        )
    try:
        manifest = parse_manifest(row.manifest)
    except Refused:
        raise Tampered("its stored manifest is no longer a valid manifest") from None
    if (manifest.id, manifest.version) != (row.plugin_id, row.version):
        raise Tampered("its stored manifest names another plugin or version")
    if not signer.verify(manifest, digest, row.signature):
        raise Tampered("its signature does not match its manifest and code")

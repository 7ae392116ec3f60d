"""The plugin signing key: created once with mode 0600 (also by racing processes), refused
when others can read it or it is not an Ed25519 key, and signatures bound to exactly the
canonical manifest and the code hash."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from arcos.plugins.manifest import Manifest, parse_manifest
from arcos.plugins.signing import PluginSigner, SigningKeyError

REPO_ROOT = Path(__file__).resolve().parents[2]
CODE_SHA = hashlib.sha256(b"def run():\n    return 1\n").hexdigest()


def manifest(version: str = "1.0.0", permissions: tuple[str, ...] = ("evidence.read",)
             ) -> Manifest:
    return parse_manifest({"id": "acme.gate", "name": "Gate", "version": version,
                           "type": "metric", "permissions": list(permissions),
                           "entry_point": "run"})


def test_the_key_is_created_once_with_mode_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "plugin-signing.key"
    old_umask = os.umask(0)
    try:
        signer = PluginSigner.load_or_create(path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PluginSigner.load_or_create(path).key_id == signer.key_id
    assert sorted(p.name for p in path.parent.iterdir()) == ["plugin-signing.key"]
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_key_id_is_the_start_of_the_public_key_hash(tmp_path: Path) -> None:
    path = tmp_path / "k"
    signer = PluginSigner.load_or_create(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    assert signer.key_id == hashlib.sha256(raw).hexdigest()[:16]


def test_the_signature_covers_the_canonical_manifest_and_the_code_hash(tmp_path: Path) -> None:
    path = tmp_path / "k"
    signer = PluginSigner.load_or_create(path)
    signature = signer.sign(manifest(), CODE_SHA)
    assert signer.verify(manifest(), CODE_SHA, signature)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    key.public_key().verify(base64.b64decode(signature),
                            manifest().canonical() + b"\n" + CODE_SHA.encode())


def test_any_change_fails_verification(tmp_path: Path) -> None:
    signer = PluginSigner.load_or_create(tmp_path / "k")
    signature = signer.sign(manifest(), CODE_SHA)
    other_sha = hashlib.sha256(b"swapped").hexdigest()
    assert not signer.verify(manifest("1.0.1"), CODE_SHA, signature)
    assert not signer.verify(manifest(permissions=("evidence.read", "evidence.write")),
                             CODE_SHA, signature)
    assert not signer.verify(manifest(), other_sha, signature)
    assert not signer.verify(manifest(), CODE_SHA, "not base64!")
    assert not signer.verify(manifest(), CODE_SHA, base64.b64encode(b"x" * 64).decode())
    assert not signer.verify(manifest(), "ABC", signature)
    other = PluginSigner.load_or_create(tmp_path / "other")
    assert not other.verify(manifest(), CODE_SHA, signature)


def test_signing_needs_a_sha256_hex_digest(tmp_path: Path) -> None:
    signer = PluginSigner.load_or_create(tmp_path / "k")
    with pytest.raises(ValueError, match="64 lower-case hexadecimal"):
        signer.sign(manifest(), CODE_SHA.upper())


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "k"
    PluginSigner.load_or_create(path)
    path.chmod(mode)
    with pytest.raises(SigningKeyError, match=f"chmod 600 {path}"):
        PluginSigner.load_or_create(path)


@pytest.mark.parametrize("content", [
    b"",
    b"garbage",
    b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()),
    Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret")),
    b"x" * 100_000,
], ids=["empty", "garbage", "bad-pem", "rsa", "encrypted", "huge"])
def test_a_malformed_key_file_is_refused_and_left_alone(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "k"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM PKCS#8 Ed25519"):
        PluginSigner.load_or_create(path)
    assert path.read_bytes() == content


def test_a_symlinked_or_non_regular_key_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    PluginSigner.load_or_create(real)
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(SigningKeyError, match="not a link"):
        PluginSigner.load_or_create(link)
    directory = tmp_path / "dir"
    directory.mkdir(mode=0o700)
    with pytest.raises(SigningKeyError, match="not a regular file"):
        PluginSigner.load_or_create(directory)


def test_racing_processes_end_up_with_one_key(tmp_path: Path) -> None:
    path = tmp_path / "raced.key"
    script = ("import sys\nfrom arcos.plugins.signing import PluginSigner\n"
              "print(PluginSigner.load_or_create(sys.argv[1]).key_id)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    processes = [subprocess.Popen([sys.executable, "-c", script, str(path)], env=env,
                                  stdout=subprocess.PIPE, text=True) for _ in range(4)]
    key_ids = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert all(process.returncode == 0 for process in processes)
    assert key_ids == {PluginSigner.load_or_create(path).key_id}
    assert [p.name for p in tmp_path.iterdir()] == ["raced.key"]

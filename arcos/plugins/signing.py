"""The server's plugin signing key: Ed25519 over (canonical manifest, code hash), and over
other server records that must show a later edit (assurance-case snapshots: `sign_record`).

Each registered version is signed; before every execution the host verifies the stored
signature, so a row edited in the database or code swapped on disk is refused. The key
lives in a file outside the database (an attacker with only the database cannot re-sign),
created on first start with mode 0600.

Creation is atomic and never overwrites: the key is written to a temporary file created
with O_CREAT|O_EXCL and mode 0600, synced, then hard-linked to its final name. A link
(unlike a rename) fails if another server process created the key in the meantime; that
key is then loaded instead, so two processes never sign with different keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from arcos.plugins.manifest import Manifest

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
RECORD_PURPOSE = re.compile(r"^[a-z]+(-[a-z]+)*$")
MAX_KEY_FILE_BYTES = 16 * 1024


class SigningKeyError(Exception):
    """The key file cannot be used; the message says why and what to do."""


class PluginSigner:
    """Signs and verifies plugin versions with one Ed25519 key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self._public_key = private_key.public_key()
        raw = self._public_key.public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
        self._key_id = hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def load_or_create(cls, path: str | Path) -> PluginSigner:
        """The key at `path`, created (mode 0600) if there is none. Raises
        SigningKeyError for a key file others can read, or one that is not an
        unencrypted PEM PKCS#8 Ed25519 private key."""
        path = Path(path)
        try:
            return cls(_read_key(path))
        except FileNotFoundError:
            pass
        _create_key(path)
        return cls(_read_key(path))

    @property
    def key_id(self) -> str:
        """First 16 hex digits of the SHA-256 of the raw public key."""
        return self._key_id

    def sign(self, manifest: Manifest, code_sha256: str) -> str:
        """Base64 signature of `manifest.canonical() + b"\\n" + code_sha256`."""
        return base64.b64encode(self._private_key.sign(_message(manifest, code_sha256))
                                ).decode("ascii")

    def verify(self, manifest: Manifest, code_sha256: str, signature: str) -> bool:
        """Whether `signature` is this key's signature of the manifest and code hash."""
        try:
            raw = base64.b64decode(signature, validate=True)
            self._public_key.verify(raw, _message(manifest, code_sha256))
        except (InvalidSignature, ValueError, TypeError, binascii.Error):
            return False
        return True


    def sign_record(self, purpose: str, payload: bytes) -> str:
        """Base64 signature of another server record (an assurance-case snapshot): the
        message is `arcos:<purpose>` and a newline before `payload`, so it can never be
        read as a plugin version's (whose message starts with its manifest's `{`)."""
        return base64.b64encode(self._private_key.sign(_record(purpose, payload))
                                ).decode("ascii")

    def verify_record(self, purpose: str, payload: bytes, signature: str) -> bool:
        """Whether `signature` is this key's `sign_record(purpose, payload)`."""
        try:
            raw = base64.b64decode(signature, validate=True)
            self._public_key.verify(raw, _record(purpose, payload))
        except (InvalidSignature, ValueError, TypeError, binascii.Error):
            return False
        return True


def _record(purpose: str, payload: bytes) -> bytes:
    if not RECORD_PURPOSE.match(purpose):
        raise ValueError("a record's purpose is lower-case words joined by dashes")
    return b"arcos:" + purpose.encode("ascii") + b"\n" + payload


def _message(manifest: Manifest, code_sha256: str) -> bytes:
    if not isinstance(code_sha256, str) or not SHA256_HEX.match(code_sha256):
        raise ValueError("code_sha256 must be 64 lower-case hexadecimal digits")
    return manifest.canonical() + b"\n" + code_sha256.encode("ascii")


def _read_key(path: Path) -> Ed25519PrivateKey:
    """Reads through one descriptor, so the mode checked is the file's that is read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise SigningKeyError(f"cannot open the plugin signing key {path}: "
                              f"{exc.strerror} (it must be a regular file, not a link)") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SigningKeyError(f"the plugin signing key {path} is not a regular file")
        if info.st_mode & 0o077:
            raise SigningKeyError(
                f"the plugin signing key {path} can be read by other users (mode "
                f"{stat.S_IMODE(info.st_mode):04o}); run `chmod 600 {path}` and check "
                "that nobody copied it")
        data = os.read(fd, MAX_KEY_FILE_BYTES + 1)
    finally:
        os.close(fd)
    malformed = (f"the plugin signing key {path} is not an unencrypted PEM PKCS#8 Ed25519 "
                 "private key; restore the right file, or move it away to have a new key "
                 "made (plugins signed with the old key then fail verification)")
    if len(data) > MAX_KEY_FILE_BYTES:
        raise SigningKeyError(malformed)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(malformed) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(malformed)
    return key


def _create_key(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                 | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, pem)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
    finally:
        if fd >= 0:
            os.close(fd)
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

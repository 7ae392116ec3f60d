"""Repo-relative, '/'-separated paths from the URIs scanners write (ruff: absolute file:///…,
Semgrep: relative to %SRCROOT%, Bandit: relative), so fingerprints survive a new checkout dir."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote, urlsplit

_WINDOWS_DRIVE = re.compile(r"^/?([A-Za-z]:)(/|$)")


def uri_to_path(uri: str) -> str:
    """`file:///a/b%20c` → `/a/b c`; relative URIs are percent-decoded; '\\' becomes '/'."""
    uri = uri.strip().replace("\\", "/")
    if uri.lower().startswith("file:"):
        parts = urlsplit(uri)
        path = unquote(parts.path)
        if parts.netloc and parts.netloc.lower() != "localhost":
            path = f"//{parts.netloc}{path}"  # UNC share
        drive = _WINDOWS_DRIVE.match(path)
        if drive:
            path = drive.group(1) + path[drive.end(1):]
        return path
    return unquote(uri)


def is_absolute(path: str) -> bool:
    return path.startswith("/") or bool(_WINDOWS_DRIVE.match(path))


def relative_to_root(path: str, roots: list[str]) -> str:
    """Strip the first matching checkout root (a path without a trailing '/') and any leading
    './'; normalise '..' and '//'."""
    for root in roots:
        if root and (path == root or path.startswith(root + "/")):
            path = path[len(root) + 1:]
            break
    if not path:
        return path
    normalised = posixpath.normpath(path)
    if normalised.startswith("./"):
        normalised = normalised[2:]
    return "" if normalised == "." else normalised

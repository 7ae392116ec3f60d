"""Helpers shared by the webhook mappings: defensive reads of untrusted payloads and the
small normalisations (slugs, SHAs, refs, build results) every provider needs."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from arcos.evidence.drafts import (
    COMMIT_SHA,
    CONTROL_CHARS,
    IDENTIFIER,
    MAX_REF_LENGTH,
    MAX_SLUG_LENGTH,
    SLUG,
    EvidenceDraft,
)

JsonObject = dict[str, Any]
#: One event family: (event, payload) → drafts. Never raises on odd payloads.
Mapper = Callable[[str, JsonObject], list[EvidenceDraft]]

MAX_TEXT = 1000
MAX_URL = 2048
#: GitHub lists at most 2048 commits in a push; keep no more than that from anyone.
MAX_COMMITS = 2048
MAX_LIST = 1000
_INT_LIMIT = 2**63
_ZEROS = re.compile(r"^0+$")
_SLUG_PART_BAD = re.compile(r"[^a-z0-9._\-]+")
_IDENT_BAD = re.compile(r"[^a-z0-9_.\-]+")

#: Build status or conclusion (any provider's spelling, lower-cased) → normalized result.
RESULTS: dict[str, str] = {
    **dict.fromkeys(
        ("success", "successful", "succeeded", "passed", "pass", "ok", "stable", "fixed"),
        "success",
    ),
    **dict.fromkeys(
        (
            "failure",
            "failed",
            "fail",
            "error",
            "errored",
            "broken",
            "timed_out",
            "timeout",
            "startup_failure",
            "unstable",
            "still_failing",
        ),
        "failure",
    ),
    **dict.fromkeys(
        ("cancelled", "canceled", "aborted", "stopped", "interrupted", "stale"), "cancelled"
    ),
    **dict.fromkeys(("skipped", "not_built", "not_run"), "skipped"),
    **dict.fromkeys(("running", "in_progress", "inprogress", "started", "building"), "running"),
    **dict.fromkeys(
        (
            "pending",
            "queued",
            "requested",
            "waiting",
            "waiting_for_resource",
            "waiting_for_callback",
            "preparing",
            "created",
            "scheduled",
            "manual",
            "action_required",
            "expected",
        ),
        "pending",
    ),
    "neutral": "neutral",
}


# ── reading untrusted JSON ──────────────────────────────────────────────────────────


def dig(value: Any, *path: str | int) -> Any:
    """`value[path[0]][path[1]]…`, or None as soon as a step is missing or of the wrong type."""
    for key in path:
        if isinstance(key, int):
            if not isinstance(value, list) or not -len(value) <= key < len(value):
                return None
            value = value[key]
        elif isinstance(value, dict):
            value = value.get(key)
        else:
            return None
    return value


def obj(value: Any) -> JsonObject:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def objects(value: Any, limit: int = MAX_LIST) -> list[JsonObject]:
    """The JSON objects in `value` if it is an array (at most `limit`), else []."""
    if not isinstance(value, list):
        return []
    return [item for item in value[:limit] if isinstance(item, dict)]


def text(value: Any, limit: int = MAX_TEXT) -> str | None:
    """A non-empty string, cut to `limit` characters, else None."""
    if isinstance(value, str) and value:
        return value[:limit]
    return None


def url(value: Any) -> str | None:
    """An http(s) URL string, else None."""
    found = text(value, MAX_URL)
    if found is None or not found.lower().startswith(("http://", "https://")):
        return None
    return found


def texts(value: Any, limit: int = MAX_LIST) -> list[str]:
    """The non-empty strings in `value` if it is an array, else []."""
    if not isinstance(value, list):
        return []
    return [found for item in value[:limit] if (found := text(item)) is not None]


def first_line(value: Any) -> str | None:
    """The first line of a (commit) message."""
    found = text(value, MAX_TEXT * 64)
    if found is None:
        return None
    return text(found.strip().split("\n", 1)[0].rstrip("\r"))


def integer(value: Any) -> int | None:
    """An integer (or a string of digits) within 64 bits, else None; booleans are not numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and 0 < len(value) <= 19 and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and -_INT_LIMIT < value < _INT_LIMIT:
        return value
    return None


def number(value: Any) -> int | float | None:
    """A finite number, else None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return integer(value) if not isinstance(value, str) else None


def boolean(value: Any) -> bool | None:
    """A JSON boolean, else None."""
    return value if isinstance(value, bool) else None


def ident(value: Any) -> int | str | None:
    """An id that providers send as a number or a string."""
    found = integer(value)
    return found if found is not None else text(value, 255)


def first(*values: Any) -> Any:
    """The first value that is not None."""
    return next((value for value in values if value is not None), None)


# ── normalisations ──────────────────────────────────────────────────────────────────


def sha(value: Any) -> str | None:
    """A lower-case 7-64 hex commit SHA, else None (so is the all-zero 'no commit' SHA)."""
    found = text(value, 64)
    if found is None:
        return None
    found = found.lower()
    if not COMMIT_SHA.match(found) or _ZEROS.match(found):
        return None
    return found


def clean_ref(value: Any) -> str | None:
    """`value` if it is acceptable as a draft's ref, else None."""
    if not isinstance(value, str) or not value or len(value) > MAX_REF_LENGTH:
        return None
    return None if CONTROL_CHARS.search(value) else value


def branch_ref(value: Any) -> str | None:
    """`refs/heads/<branch>` for a branch name; a full ref (`refs/…`) is kept as it is."""
    return _full_ref(value, "refs/heads/")


def tag_ref(value: Any) -> str | None:
    """`refs/tags/<tag>` for a tag name; a full ref is kept as it is."""
    return _full_ref(value, "refs/tags/")


def _full_ref(value: Any, namespace: str) -> str | None:
    name = text(value, MAX_REF_LENGTH)
    if name is None:
        return None
    return clean_ref(name if name.startswith("refs/") else namespace + name)


def url_host(value: Any) -> str | None:
    """The lower-case host name (no port, no user) of an http(s) or ssh URL, else None."""
    parts = _url_parts(value)
    return (parts[0] or None) if parts is not None else None


def url_path(value: Any) -> str | None:
    """The path of a URL without surrounding slashes, else None."""
    parts = _url_parts(value)
    return (parts[1].strip("/") or None) if parts is not None else None


def _url_parts(value: Any) -> tuple[str | None, str] | None:
    """(host, path) of a URL; None when it is not text or does not parse."""
    found = text(value, MAX_URL)
    return None if found is None else _split_url(found)


@lru_cache(maxsize=4096)
def _split_url(found: str) -> tuple[str | None, str] | None:
    """`_url_parts` of a URL of at most MAX_URL characters, remembered: a sender's
    deliveries name the same few repository URLs over and over, each of them twice (the
    event is kept only when it names a project, which its draft then names)."""
    try:
        parts = urlsplit(found.strip())
        return parts.hostname, parts.path
    except ValueError:
        return None


def slug_part(value: Any) -> str | None:
    """One '/'-separated part of a project slug: lower case, other characters become '-'."""
    found = text(value, MAX_SLUG_LENGTH)
    if found is None:
        return None
    part = _SLUG_PART_BAD.sub("-", found.strip().lower())
    return part if part.strip("-._") else None


#: The longest text (all parts together) whose slug `make_slug` remembers.
MAX_REMEMBERED_SLUG_INPUT = 1024


def make_slug(*parts: Any) -> str | None:
    """Join parts (each may itself hold '/') into a project slug, or None if that is no slug.

    Remembered for short parts, like `_split_url`: the same repositories come back."""
    if not all(isinstance(part, str) for part in parts):
        return None
    if sum(map(len, parts)) > MAX_REMEMBERED_SLUG_INPUT:
        return _joined_slug(parts)
    return _remembered_slug(parts)


def _joined_slug(parts: tuple[str, ...]) -> str | None:
    pieces: list[str] = []
    for part in parts:
        for piece in part.split("/"):
            if not piece:
                continue
            cleaned = slug_part(piece)
            if cleaned is None:
                return None
            pieces.append(cleaned)
    slug = "/".join(pieces)
    if not slug or len(slug) > MAX_SLUG_LENGTH or not SLUG.match(slug):
        return None
    return slug


_remembered_slug = lru_cache(maxsize=4096)(_joined_slug)


def exact_slug(value: Any) -> str | None:
    """`value` lower-cased if it already is a project slug, else None (nothing is rewritten)."""
    found = text(value, MAX_SLUG_LENGTH)
    if found is None:
        return None
    found = found.strip().lower()
    return found if SLUG.match(found) else None


def slug_from_url(value: Any) -> str | None:
    """`host/path` of a repository or project URL, without a trailing `.git`.

    Accepts https URLs and the scp-like `git@host:owner/repo.git` form.
    """
    found = text(value, MAX_URL)
    if found is None:
        return None
    found = found.strip()
    scp = re.match(r"^[\w.\-]+@([\w.\-]+):(?!//)(.+)$", found)
    if scp:
        host: str | None = scp.group(1).lower()
        path: str | None = scp.group(2).strip("/")
    else:
        host, path = url_host(found), url_path(found)
    if not host or not path:
        return None
    if path.endswith(".git"):
        path = path[: -len(".git")]
    return make_slug(host, path)


def identifier(value: Any, default: str) -> str:
    """`value` turned into an evidence type/source identifier, else `default`."""
    found = text(value, 200)
    if found is None:
        return default
    candidate = _IDENT_BAD.sub("-", found.strip().lower()).strip("-")[:64]
    return candidate if IDENTIFIER.match(candidate) else default


def result(*raw: Any) -> str | None:
    """The first of `raw` (conclusion before status) normalized to success, failure,
    cancelled, skipped, running, pending or neutral; unknown values are neutral."""
    for value in raw:
        found = text(value, 100)
        if found is not None:
            return RESULTS.get(found.strip().lower().replace(" ", "_"), "neutral")
    return None


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 (or GitLab's `2016-08-12 15:23:28 UTC`) timestamp, else None."""
    found = text(value, 64)
    if found is None:
        return None
    found = found.strip()
    if found.endswith(" UTC"):
        found = found[: -len(" UTC")] + "+00:00"
    try:
        parsed = datetime.fromisoformat(found)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def seconds_between(start: Any, end: Any) -> float | None:
    """Seconds from `start` to `end` (timestamps), else None."""
    began, ended = parse_time(start), parse_time(end)
    if began is None or ended is None:
        return None
    return (ended - began).total_seconds()


def millis_to_iso(value: Any) -> str | None:
    """Milliseconds since the epoch as an ISO 8601 UTC timestamp, else None."""
    found = number(value)
    if found is None:
        return None
    try:
        return datetime.fromtimestamp(found / 1000, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


# ── building drafts ─────────────────────────────────────────────────────────────────


def metadata(event: str, action: Any, actor: Any) -> JsonObject:
    """The metadata every webhook draft carries."""
    return {"event": text(event, 255), "action": text(action, 255), "actor": text(actor, 255)}


def draft(
    *,
    type: str,
    source: str,
    project: str | None,
    data: JsonObject,
    meta: JsonObject,
    commit_sha: Any = None,
    ref: Any = None,
) -> EvidenceDraft:
    """An EvidenceDraft whose sha and ref are dropped when they would not pass check_draft."""
    return EvidenceDraft(
        type=type,
        source=source,
        data=data,
        project=project,
        commit_sha=sha(commit_sha),
        ref=clean_ref(ref),
        metadata=meta,
    )


@dataclass(frozen=True)
class DraftMaker:
    """How one provider's payloads name what every draft needs: the project they are
    about and who acted (GitHub and GitLab; Bitbucket's project depends on the family)."""

    source: str
    project: Callable[[JsonObject], str | None]
    actor: Callable[[JsonObject], Any]

    def one(
        self,
        kind: str,
        event: str,
        payload: JsonObject,
        data: JsonObject,
        action: Any = None,
        commit_sha: Any = None,
        ref: Any = None,
    ) -> list[EvidenceDraft]:
        """The single draft an event family makes of `payload`, as the list it returns."""
        return [
            draft(
                type=kind,
                source=self.source,
                project=self.project(payload),
                data=data,
                meta=metadata(event, action, self.actor(payload)),
                commit_sha=commit_sha,
                ref=ref,
            )
        ]


def pushed_commits(payload: JsonObject) -> list[JsonObject]:
    """The commits a push lists (GitHub's and GitLab's payloads share the shape), at most
    MAX_COMMITS of them."""
    return [
        commit_entry(
            commit.get("id"),
            commit.get("message"),
            dig(commit, "author", "name"),
            commit.get("timestamp"),
        )
        for commit in objects(payload.get("commits"), MAX_COMMITS)
    ]


def commit_entry(commit_id: Any, message: Any, author: Any, timestamp: Any) -> JsonObject:
    """One commit as listed in a push's data."""
    return {
        "id": text(commit_id, 64),
        "message": first_line(message),
        "author": text(author, 255),
        "timestamp": text(timestamp, 64),
    }

"""Bitbucket Cloud and Bitbucket Data Center webhook deliveries (X-Event-Key + payload) as
evidence drafts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from arcos.evidence.drafts import EvidenceDraft
from arcos.webhooks.mapping.common import (
    MAX_COMMITS,
    JsonObject,
    Mapper,
    boolean,
    branch_ref,
    clean_ref,
    commit_entry,
    dig,
    draft,
    first,
    integer,
    make_slug,
    metadata,
    millis_to_iso,
    obj,
    objects,
    result,
    sha,
    tag_ref,
    text,
    url,
    url_host,
    url_path,
)

SOURCE = "bitbucket"
CLOUD_HOST = "bitbucket.org"
#: The host part of a Data Center project slug when the payload links to no host.
SERVER_FALLBACK_HOST = "bitbucket-server"

_PULL = "pull_request: "
_REVIEW = "code_review: "
EVENTS: dict[str, str] = {
    # Bitbucket Cloud
    "repo:push": "commit: one draft per pushed ref (old/new, forced, commits listed)",
    "pullrequest:created": _PULL + "a pull request opened",
    "pullrequest:updated": _PULL + "a pull request's source or details changed",
    "pullrequest:fulfilled": _PULL + "a pull request merged",
    "pullrequest:rejected": _PULL + "a pull request declined",
    "pullrequest:approved": _REVIEW + "a pull request approved",
    "pullrequest:unapproved": _REVIEW + "an approval withdrawn",
    "pullrequest:changes_request_created": _REVIEW + "changes requested",
    "pullrequest:changes_request_removed": _REVIEW + "a change request withdrawn",
    "repo:commit_status_created": "build: a commit status (build) reported",
    "repo:commit_status_updated": "build: a commit status (build) changed state",
    # Bitbucket Data Center / Server
    "repo:refs_changed": "commit: one draft per changed ref (from/to hash, change type)",
    "pr:opened": _PULL + "a pull request opened",
    "pr:from_ref_updated": _PULL + "new commits on a pull request's source branch",
    "pr:modified": _PULL + "a pull request's title, description or target changed",
    "pr:merged": _PULL + "a pull request merged",
    "pr:declined": _PULL + "a pull request declined",
    "pr:deleted": _PULL + "a pull request deleted",
    "pr:reviewer:approved": _REVIEW + "a reviewer approved",
    "pr:reviewer:unapproved": _REVIEW + "a reviewer withdrew approval",
    "pr:reviewer:needs_work": _REVIEW + "a reviewer marked the pull request as needing work",
    "pr:reviewer:changes_requested": _REVIEW + "a reviewer requested changes",
}

PING_EVENTS: frozenset[str] = frozenset({"diagnostics:ping"})

#: Bitbucket Cloud review event → the review state recorded.
CLOUD_REVIEW_STATES: dict[str, str] = {
    "pullrequest:approved": "approved",
    "pullrequest:unapproved": "unapproved",
    "pullrequest:changes_request_created": "changes_requested",
    "pullrequest:changes_request_removed": "changes_request_removed",
}

#: Bitbucket Data Center participant status → the review state recorded.
SERVER_REVIEW_STATES: dict[str, str] = {
    "APPROVED": "approved",
    "UNAPPROVED": "unapproved",
    "NEEDS_WORK": "changes_requested",
    "CHANGES_REQUESTED": "changes_requested",
}

_EMAIL_TAIL = re.compile(r"\s*<[^>]*>\s*$")


def normalize(event: str, payload: dict[str, Any]) -> list[EvidenceDraft]:
    """The drafts for one Bitbucket delivery; [] for pings, unmapped events and payloads
    without a repository."""
    mapper = MAPPERS.get(event)
    if mapper is None or not isinstance(payload, dict):
        return []
    return mapper(event, payload)


def _action(event: str) -> str:
    return event.rsplit(":", 1)[-1]


# ── Bitbucket Cloud ─────────────────────────────────────────────────────────────────


def _cloud_project(payload: JsonObject) -> str | None:
    full_name = text(dig(payload, "repository", "full_name"), 255)
    if full_name is None or "/" not in full_name:
        return None
    return make_slug(CLOUD_HOST, full_name)


def _cloud_user(value: Any) -> str | None:
    user = obj(value)
    return first(
        text(user.get("nickname"), 255),
        text(user.get("username"), 255),
        text(user.get("display_name"), 255),
    )


def _cloud_author(value: Any) -> str | None:
    """A commit author: the linked user's name, else the raw `Name <email>` without email."""
    author = obj(value)
    raw = text(author.get("raw"), 255)
    return first(
        text(dig(author, "user", "display_name"), 255),
        text(author.get("display_name"), 255),
        _EMAIL_TAIL.sub("", raw) if raw else None,
    )


def _make(
    actor: Callable[[Any], str | None],
    kind: str,
    event: str,
    payload: JsonObject,
    project: str,
    data: JsonObject,
    action: str | None,
    commit_sha: Any = None,
    ref: Any = None,
) -> EvidenceDraft:
    """One draft; Cloud and Data Center differ only in how they name the actor."""
    return draft(
        type=kind,
        source=SOURCE,
        project=project,
        data=data,
        meta=metadata(event, action, actor(payload.get("actor"))),
        commit_sha=commit_sha,
        ref=ref,
    )


def _cloud_make(*args: Any, **kwargs: Any) -> EvidenceDraft:
    return _make(_cloud_user, *args, **kwargs)


def _cloud_pull_make(
    kind: str, event: str, payload: JsonObject, project: str, data: JsonObject,
    summary: JsonObject,
) -> EvidenceDraft:
    """A draft about a Cloud pull request, at its head commit and ref."""
    return _cloud_make(kind, event, payload, project, data, _action(event),
                       summary["head_sha"], summary["head_ref"])


def _cloud_ref(side: JsonObject) -> str | None:
    name = side.get("name")
    return tag_ref(name) if side.get("type") == "tag" else branch_ref(name)


def _cloud_push(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    project = _cloud_project(payload)
    if project is None:
        return []
    drafts = []
    for change in objects(dig(payload, "push", "changes")):
        new, old = obj(change.get("new")), obj(change.get("old"))
        ref = _cloud_ref(new or old)
        commits = [
            commit_entry(
                commit.get("hash"),
                commit.get("message"),
                _cloud_author(commit.get("author")),
                commit.get("date"),
            )
            for commit in objects(change.get("commits"), MAX_COMMITS)
        ]
        after = sha(dig(new, "target", "hash"))
        data = {
            "ref": ref,
            "before": sha(dig(old, "target", "hash")),
            "after": after,
            "forced": boolean(change.get("forced")),
            "created": boolean(change.get("created")),
            "deleted": boolean(change.get("closed")),
            "tag": (new or old).get("type") == "tag",
            "commit_count": len(commits),
            "commits_truncated": boolean(change.get("truncated")),
            "commits": commits,
            "pusher": _cloud_user(payload.get("actor")),
            "compare_url": url(dig(change, "links", "html", "href")),
        }
        drafts.append(_cloud_make("commit", event, payload, project, data, None, after, ref))
    return drafts


def _cloud_pull_summary(pull: JsonObject) -> JsonObject:
    return {
        "number": integer(pull.get("id")),
        "title": text(pull.get("title")),
        "state": text(pull.get("state"), 64),
        "url": url(dig(pull, "links", "html", "href")),
        "author": _cloud_user(pull.get("author")),
        "base_ref": branch_ref(dig(pull, "destination", "branch", "name")),
        "base_sha": sha(dig(pull, "destination", "commit", "hash")),
        "head_ref": branch_ref(dig(pull, "source", "branch", "name")),
        "head_sha": sha(dig(pull, "source", "commit", "hash")),
    }


def _cloud_pull_request(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    project = _cloud_project(payload)
    pull = obj(payload.get("pullrequest"))
    if project is None or not pull:
        return []
    summary = _cloud_pull_summary(pull)
    data = {
        **summary,
        "action": _action(event),
        "merged": summary["state"] == "MERGED" or event == "pullrequest:fulfilled",
        "draft": boolean(pull.get("draft")),
        "merge_commit_sha": sha(dig(pull, "merge_commit", "hash")),
        "closed_by": _cloud_user(pull.get("closed_by")),
        "reason": text(pull.get("reason")),
        "created_at": text(pull.get("created_on"), 64),
        "updated_at": text(pull.get("updated_on"), 64),
    }
    return [_cloud_pull_make("pull_request", event, payload, project, data, summary)]


def _cloud_review(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    project = _cloud_project(payload)
    pull = obj(payload.get("pullrequest"))
    if project is None or not pull:
        return []
    summary = _cloud_pull_summary(pull)
    review = obj(first(payload.get("approval"), payload.get("changes_request")))
    data = {
        "state": CLOUD_REVIEW_STATES.get(event),
        "reviewer": first(_cloud_user(review.get("user")), _cloud_user(payload.get("actor"))),
        "submitted_at": text(review.get("date"), 64),
        "commit_id": summary["head_sha"],
        "pull_request": summary,
    }
    return [_cloud_pull_make("code_review", event, payload, project, data, summary)]


def _cloud_commit_status(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    project = _cloud_project(payload)
    status = obj(payload.get("commit_status"))
    if project is None or not status:
        return []
    commit_link = (url_path(dig(status, "links", "commit", "href")) or "").rsplit("/", 1)[-1]
    data = {
        "kind": "commit_status",
        "name": first(text(status.get("name")), text(status.get("key"), 255)),
        "key": text(status.get("key"), 255),
        "status": text(status.get("state"), 64),
        "result": result(status.get("state")),
        "description": text(status.get("description")),
        "url": url(status.get("url")),
        "type": text(status.get("type"), 64),
        "started_at": text(status.get("created_on"), 64),
        "updated_at": text(status.get("updated_on"), 64),
    }
    commit_sha = first(sha(dig(status, "commit", "hash")), sha(commit_link))
    return [
        _cloud_make(
            "build",
            event,
            payload,
            project,
            data,
            _action(event),
            commit_sha,
            branch_ref(status.get("refname")),
        )
    ]


# ── Bitbucket Data Center / Server ──────────────────────────────────────────────────


def _server_project(repository: Any) -> str | None:
    repo = obj(repository)
    key, slug = text(dig(repo, "project", "key"), 128), text(repo.get("slug"), 128)
    if key is None or slug is None:
        return None
    host = url_host(dig(repo, "links", "self", 0, "href")) or SERVER_FALLBACK_HOST
    return make_slug(host, key, slug)


def _server_user(value: Any) -> str | None:
    user = obj(value)
    return first(text(user.get("slug"), 255), text(user.get("name"), 255))


def _server_make(*args: Any, **kwargs: Any) -> EvidenceDraft:
    return _make(_server_user, *args, **kwargs)


def _server_refs_changed(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    project = _server_project(payload.get("repository"))
    if project is None:
        return []
    drafts = []
    for change in objects(payload.get("changes")):
        ref = first(clean_ref(dig(change, "ref", "id")), clean_ref(change.get("refId")))
        change_type = text(change.get("type"), 64)
        after = sha(change.get("toHash"))
        data = {
            "ref": ref,
            "before": sha(change.get("fromHash")),
            "after": after,
            "change_type": change_type,
            "forced": None,
            "created": change_type == "ADD",
            "deleted": change_type == "DELETE",
            "tag": dig(change, "ref", "type") == "TAG",
            "commit_count": None,
            "commits": [],
            "pusher": _server_user(payload.get("actor")),
            "date": text(payload.get("date"), 64),
        }
        drafts.append(_server_make("commit", event, payload, project, data, None, after, ref))
    return drafts


def _server_pull_summary(pull: JsonObject) -> JsonObject:
    return {
        "number": integer(pull.get("id")),
        "title": text(pull.get("title")),
        "state": text(pull.get("state"), 64),
        "url": url(dig(pull, "links", "self", 0, "href")),
        "author": _server_user(dig(pull, "author", "user")),
        "base_ref": clean_ref(dig(pull, "toRef", "id")),
        "base_sha": sha(dig(pull, "toRef", "latestCommit")),
        "head_ref": clean_ref(dig(pull, "fromRef", "id")),
        "head_sha": sha(dig(pull, "fromRef", "latestCommit")),
    }


def _server_pull_project(payload: JsonObject, pull: JsonObject) -> str | None:
    return first(
        _server_project(dig(pull, "toRef", "repository")),
        _server_project(payload.get("repository")),
    )


def _server_pull_request(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    pull = obj(payload.get("pullRequest"))
    project = _server_pull_project(payload, pull)
    if project is None or not pull:
        return []
    summary = _server_pull_summary(pull)
    action = event.split(":", 1)[-1]
    data = {
        **summary,
        "action": action,
        "merged": summary["state"] == "MERGED" or event == "pr:merged",
        "draft": boolean(pull.get("draft")),
        "merge_commit_sha": sha(dig(pull, "properties", "mergeCommit", "id")),
        "reviewers": [
            {"reviewer": _server_user(reviewer.get("user")), "status": text(reviewer.get("status"))}
            for reviewer in objects(pull.get("reviewers"))
        ],
        "created_at": millis_to_iso(pull.get("createdDate")),
        "updated_at": millis_to_iso(pull.get("updatedDate")),
        "closed_at": millis_to_iso(pull.get("closedDate")),
    }
    return [
        _server_make(
            "pull_request",
            event,
            payload,
            project,
            data,
            action,
            summary["head_sha"],
            summary["head_ref"],
        )
    ]


def _server_review(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    pull = obj(payload.get("pullRequest"))
    project = _server_pull_project(payload, pull)
    if project is None or not pull:
        return []
    summary = _server_pull_summary(pull)
    participant = obj(payload.get("participant"))
    action = _action(event)
    raw_state = text(participant.get("status"), 64)
    data = {
        "state": SERVER_REVIEW_STATES.get(raw_state or action.upper(), action),
        "raw_state": raw_state,
        "previous_state": text(payload.get("previousStatus"), 64),
        "reviewer": first(
            _server_user(participant.get("user")), _server_user(payload.get("actor"))
        ),
        "role": text(participant.get("role"), 64),
        "submitted_at": text(payload.get("date"), 64),
        "commit_id": sha(participant.get("lastReviewedCommit")),
        "pull_request": summary,
    }
    commit_sha = first(data["commit_id"], summary["head_sha"])
    return [
        _server_make(
            "code_review", event, payload, project, data, action, commit_sha, summary["head_ref"]
        )
    ]


MAPPERS: dict[str, Mapper] = {
    "repo:push": _cloud_push,
    "pullrequest:created": _cloud_pull_request,
    "pullrequest:updated": _cloud_pull_request,
    "pullrequest:fulfilled": _cloud_pull_request,
    "pullrequest:rejected": _cloud_pull_request,
    **dict.fromkeys(CLOUD_REVIEW_STATES, _cloud_review),
    "repo:commit_status_created": _cloud_commit_status,
    "repo:commit_status_updated": _cloud_commit_status,
    "repo:refs_changed": _server_refs_changed,
    "pr:opened": _server_pull_request,
    "pr:from_ref_updated": _server_pull_request,
    "pr:modified": _server_pull_request,
    "pr:merged": _server_pull_request,
    "pr:declined": _server_pull_request,
    "pr:deleted": _server_pull_request,
    "pr:reviewer:approved": _server_review,
    "pr:reviewer:unapproved": _server_review,
    "pr:reviewer:needs_work": _server_review,
    "pr:reviewer:changes_requested": _server_review,
}

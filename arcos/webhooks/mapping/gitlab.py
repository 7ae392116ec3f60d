"""GitLab webhook deliveries (X-Gitlab-Event + payload, system hooks too) as evidence
drafts."""

from __future__ import annotations

from typing import Any

from arcos.evidence.drafts import EvidenceDraft
from arcos.webhooks.mapping.common import (
    DraftMaker,
    JsonObject,
    Mapper,
    boolean,
    branch_ref,
    clean_ref,
    dig,
    first,
    integer,
    make_slug,
    number,
    obj,
    objects,
    pushed_commits,
    result,
    sha,
    slug_from_url,
    tag_ref,
    text,
    texts,
    url,
    url_host,
    url_path,
)

SOURCE = "gitlab"

EVENTS: dict[str, str] = {
    "Push Hook": "commit: one draft per branch push (ref, before/after, commits listed)",
    "Tag Push Hook": "commit: one draft per tag push, ref refs/tags/<tag>",
    "Merge Request Hook": "pull_request: a merge request opened, updated, merged, closed or "
    "reopened; code_review: approved, approval, unapproved, unapproval",
    "Pipeline Hook": "build: a pipeline's status changed (with its jobs' statuses)",
    "Job Hook": "build: a job's status changed",
    "Deployment Hook": "deployment: a deployment started, succeeded, failed or was canceled",
    "Release Hook": "release: a release created, updated or deleted",
    "Vulnerability Hook": "security_alert: a vulnerability created or its state changed",
    "System Hook": "instance-wide hook: push, tag_push and merge_request are mapped as above",
}

#: GitLab's "Test" button sends an ordinary event, so there is no ping to answer.
PING_EVENTS: frozenset[str] = frozenset()

MR_PULL_ACTIONS: frozenset[str | None] = frozenset(
    {"open", "update", "merge", "close", "reopen", None}
)
MR_REVIEW_ACTIONS: frozenset[str] = frozenset({"approved", "approval", "unapproved", "unapproval"})
RELEASE_ACTIONS: frozenset[str | None] = frozenset({"create", "update", "delete", None})

#: A system hook's event_name / object_kind → the project hook whose mapping it shares.
SYSTEM_ROUTES: dict[str, str] = {
    "push": "Push Hook",
    "tag_push": "Tag Push Hook",
    "merge_request": "Merge Request Hook",
}


def normalize(event: str, payload: dict[str, Any]) -> list[EvidenceDraft]:
    """The drafts for one GitLab delivery; [] for unmapped events and actions and for
    payloads whose project cannot be told."""
    if not isinstance(payload, dict):
        return []
    family = event
    if event == "System Hook":
        kind = first(text(payload.get("event_name")), text(payload.get("object_kind")))
        family = SYSTEM_ROUTES.get(kind or "", "")
    mapper = MAPPERS.get(family)
    if mapper is None or _project(payload) is None:
        return []
    return mapper(event, payload)


# ── shared pieces ───────────────────────────────────────────────────────────────────


def _project(payload: JsonObject) -> str | None:
    project = obj(payload.get("project"))
    web_url = first(
        url(project.get("web_url")),
        url(project.get("homepage")),
        url(dig(payload, "repository", "homepage")),
    )
    path = text(project.get("path_with_namespace"), 255)
    host = url_host(web_url)
    if host and path:
        return make_slug(host, path)
    if web_url:
        return slug_from_url(web_url)
    # The vulnerability hook names its project only inside object URLs: <project>/-/…
    object_url = url(dig(payload, "object_attributes", "url"))
    if object_url and "/-/" in object_url:
        return slug_from_url(object_url.split("/-/", 1)[0])
    return None


def _web_url(payload: JsonObject) -> str | None:
    return first(
        url(dig(payload, "project", "web_url")), url(dig(payload, "repository", "homepage"))
    )


def _actor(payload: JsonObject) -> str | None:
    return first(text(payload.get("user_username")), text(dig(payload, "user", "username")))


_make = DraftMaker(SOURCE, _project, _actor).one


def _is_zero(value: Any) -> bool:
    found = text(value, 64)
    return found is not None and set(found) == {"0"}


def _ref(name: Any, tag: Any) -> str | None:
    return tag_ref(name) if tag is True else branch_ref(name)


def _sha_from_url(commit_url: Any, short: Any) -> str | None:
    """The full SHA at the end of a commit URL when it extends `short`, else `short`."""
    tail = (url_path(url(commit_url)) or "").rsplit("/", 1)[-1]
    full, prefix = sha(tail), sha(short)
    if full and (prefix is None or full.startswith(prefix)):
        return full
    return prefix


# ── one function per event family ───────────────────────────────────────────────────


def _push(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    commits = pushed_commits(payload)
    ref = text(payload.get("ref"), 255)
    deleted = _is_zero(payload.get("after"))
    data = {
        "ref": clean_ref(ref),
        "before": sha(payload.get("before")),
        "after": sha(payload.get("after")),
        "checkout_sha": sha(payload.get("checkout_sha")),
        "forced": None,
        "created": _is_zero(payload.get("before")),
        "deleted": deleted,
        "tag": ref.startswith("refs/tags/") if ref else None,
        "commit_count": first(integer(payload.get("total_commits_count")), len(commits)),
        "commits_listed": len(commits),
        "commits": commits,
        "pusher": first(_actor(payload), text(payload.get("user_name"), 255)),
    }
    head = None if deleted else first(data["checkout_sha"], data["after"])
    return _make("commit", event, payload, data, None, head, ref)


def _merge_request(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    attrs = obj(payload.get("object_attributes"))
    if not attrs:
        return []
    action = text(attrs.get("action"), 64)
    head_sha = sha(dig(attrs, "last_commit", "id"))
    summary = {
        "number": integer(attrs.get("iid")),
        "title": text(attrs.get("title")),
        "state": text(attrs.get("state"), 64),
        "url": url(attrs.get("url")),
        "base_ref": branch_ref(attrs.get("target_branch")),
        "head_ref": branch_ref(attrs.get("source_branch")),
        "head_sha": head_sha,
    }
    if action in MR_REVIEW_ACTIONS:
        data = {
            "state": "approved" if action in ("approved", "approval") else "unapproved",
            "action": action,
            "reviewer": _actor(payload),
            "submitted_at": text(attrs.get("updated_at"), 64),
            "commit_id": head_sha,
            "pull_request": summary,
        }
        return _make("code_review", event, payload, data, action, head_sha, summary["head_ref"])
    if action not in MR_PULL_ACTIONS:
        return []
    data = {
        **summary,
        "id": integer(attrs.get("id")),
        "action": action,
        "merged": summary["state"] == "merged" or action == "merge",
        "draft": first(boolean(attrs.get("draft")), boolean(attrs.get("work_in_progress"))),
        "author_id": integer(attrs.get("author_id")),
        "merge_commit_sha": sha(attrs.get("merge_commit_sha")),
        "merge_status": text(attrs.get("merge_status"), 64),
        "source_project": text(dig(attrs, "source", "path_with_namespace"), 255),
        "target_project": text(dig(attrs, "target", "path_with_namespace"), 255),
        "created_at": text(attrs.get("created_at"), 64),
        "updated_at": text(attrs.get("updated_at"), 64),
    }
    return _make("pull_request", event, payload, data, action, head_sha, summary["head_ref"])


def _pipeline(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    attrs = obj(payload.get("object_attributes"))
    if not attrs:
        return []
    pipeline_id = integer(attrs.get("id"))
    web_url = _web_url(payload)
    default_url = f"{web_url}/-/pipelines/{pipeline_id}" if web_url and pipeline_id else None
    jobs = [
        {
            "id": integer(job.get("id")),
            "name": text(job.get("name")),
            "stage": text(job.get("stage"), 255),
            "status": text(job.get("status"), 64),
            "result": result(job.get("status")),
            "allow_failure": boolean(job.get("allow_failure")),
            "failure_reason": text(job.get("failure_reason"), 255),
            "started_at": text(job.get("started_at"), 64),
            "finished_at": text(job.get("finished_at"), 64),
            "duration_seconds": number(job.get("duration")),
        }
        for job in objects(payload.get("builds"))
    ]
    merge_request = obj(payload.get("merge_request"))
    data = {
        "kind": "pipeline",
        "name": text(attrs.get("name")),
        "run_id": pipeline_id,
        "run_number": integer(attrs.get("iid")),
        "status": text(attrs.get("status"), 64),
        "detailed_status": text(attrs.get("detailed_status"), 64),
        "result": result(attrs.get("status")),
        "trigger": text(attrs.get("source"), 64),
        "url": first(url(attrs.get("url")), default_url),
        "tag": boolean(attrs.get("tag")),
        "before_sha": sha(attrs.get("before_sha")),
        "stages": texts(attrs.get("stages")),
        "created_at": text(attrs.get("created_at"), 64),
        "finished_at": text(attrs.get("finished_at"), 64),
        "duration_seconds": number(attrs.get("duration")),
        "queued_duration_seconds": number(attrs.get("queued_duration")),
        "merge_request": (
            {"number": integer(merge_request.get("iid")), "url": url(merge_request.get("url"))}
            if merge_request
            else None
        ),
        "jobs": jobs,
    }
    ref = _ref(attrs.get("ref"), attrs.get("tag"))
    return _make("build", event, payload, data, None, attrs.get("sha"), ref)


def _job(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    job_id = integer(payload.get("build_id"))
    if job_id is None and text(payload.get("build_status")) is None:
        return []
    web_url = _web_url(payload)
    retries = integer(payload.get("retries_count"))
    data = {
        "kind": "job",
        "name": text(payload.get("build_name")),
        "stage": text(payload.get("build_stage"), 255),
        "job_id": job_id,
        "run_id": integer(payload.get("pipeline_id")),
        "attempt": retries + 1 if retries is not None and retries >= 0 else None,
        "status": text(payload.get("build_status"), 64),
        "result": result(payload.get("build_status")),
        "failure_reason": text(payload.get("build_failure_reason"), 255),
        "allow_failure": boolean(payload.get("build_allow_failure")),
        "url": f"{web_url}/-/jobs/{job_id}" if web_url and job_id is not None else None,
        "tag": boolean(payload.get("tag")),
        "runner": text(dig(payload, "runner", "description"), 255),
        "environment": text(dig(payload, "environment", "name"), 255),
        "started_at": text(payload.get("build_started_at"), 64),
        "finished_at": text(payload.get("build_finished_at"), 64),
        "duration_seconds": number(payload.get("build_duration")),
        "queued_duration_seconds": number(payload.get("build_queued_duration")),
    }
    # In the Job Hook commit.id is the pipeline id; the commit is `sha`.
    ref = _ref(payload.get("ref"), payload.get("tag"))
    return _make("build", event, payload, data, None, payload.get("sha"), ref)


def _deployment(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    status = text(payload.get("status"), 64)
    if status is None:
        return []
    raw_ref = text(payload.get("ref"), 255)
    data = {
        "deployment_id": integer(payload.get("deployment_id")),
        "deployable_id": integer(payload.get("deployable_id")),
        "environment": text(payload.get("environment"), 255),
        "environment_tier": text(payload.get("environment_tier"), 64),
        "environment_url": url(payload.get("environment_external_url")),
        "state": status,
        "result": result(status),
        "status_changed_at": text(payload.get("status_changed_at"), 64),
        "ref": raw_ref,
        "short_sha": text(payload.get("short_sha"), 64),
        "commit_title": text(payload.get("commit_title")),
        "url": url(payload.get("deployable_url")),
    }
    commit_sha = _sha_from_url(payload.get("commit_url"), payload.get("short_sha"))
    # A deployment names a branch or a tag without saying which: only a full ref is kept.
    ref = raw_ref if raw_ref and raw_ref.startswith("refs/") else None
    return _make("deployment", event, payload, data, None, commit_sha, ref)


def _release(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    action = text(payload.get("action"), 64)
    tag = text(payload.get("tag"), 255)
    if action not in RELEASE_ACTIONS or tag is None:
        return []
    assets = obj(payload.get("assets"))
    data = {
        "release_id": integer(payload.get("id")),
        "tag": tag,
        "name": text(payload.get("name")),
        "action": action,
        "url": url(payload.get("url")),
        "created_at": text(payload.get("created_at"), 64),
        "released_at": text(payload.get("released_at"), 64),
        "asset_count": first(integer(assets.get("count")), len(objects(assets.get("links")))),
        "commit": sha(dig(payload, "commit", "id")),
    }
    return _make("release", event, payload, data, action, data["commit"], tag_ref(tag))


def _vulnerability(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    attrs = obj(payload.get("object_attributes"))
    if not attrs:
        return []
    identifiers = objects(attrs.get("identifiers"))
    names = texts([identifier.get("name") for identifier in identifiers])
    cves = [
        found
        for identifier in identifiers
        if text(identifier.get("external_type")) == "cve"
        and (found := text(identifier.get("external_id"), 255)) is not None
    ]
    data = {
        "kind": text(attrs.get("report_type"), 64),
        "alert_number": first(
            integer(attrs.get("id")), integer((url_path(attrs.get("url")) or "").rsplit("/", 1)[-1])
        ),
        "title": text(attrs.get("title")),
        "rule_id": first(cves[0] if cves else None, names[0] if names else None),
        "identifiers": names,
        "severity": text(attrs.get("severity"), 64),
        "state": text(attrs.get("state"), 64),
        "confidence": text(attrs.get("confidence"), 64),
        "tool": text(attrs.get("report_type"), 64),
        "location_path": text(
            first(dig(attrs, "location", "file"), dig(attrs, "location", "image"))
        ),
        "package": text(dig(attrs, "location", "dependency", "package", "name"), 255),
        "package_version": text(dig(attrs, "location", "dependency", "version"), 255),
        "resolved_on_default_branch": boolean(attrs.get("resolved_on_default_branch")),
        "url": url(attrs.get("url")),
        "created_at": text(attrs.get("created_at"), 64),
        "updated_at": text(attrs.get("updated_at"), 64),
        "dismissed_at": text(attrs.get("dismissed_at"), 64),
    }
    return _make("security_alert", event, payload, data)


MAPPERS: dict[str, Mapper] = {
    "Push Hook": _push,
    "Tag Push Hook": _push,
    "Merge Request Hook": _merge_request,
    "Pipeline Hook": _pipeline,
    "Job Hook": _job,
    "Deployment Hook": _deployment,
    "Release Hook": _release,
    "Vulnerability Hook": _vulnerability,
}

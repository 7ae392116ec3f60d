"""GitHub webhook deliveries (X-GitHub-Event + payload) as evidence drafts."""

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
    obj,
    objects,
    pushed_commits,
    result,
    seconds_between,
    sha,
    tag_ref,
    text,
    texts,
    url,
    url_host,
)

SOURCE = "github"

EVENTS: dict[str, str] = {
    "push": "commit: one draft per push (ref, before/after, forced, commits listed)",
    "pull_request": "pull_request: opened, synchronized, closed/merged, reopened, "
    "ready for review, converted to draft, edited",
    "pull_request_review": "code_review: a review submitted, edited or dismissed",
    "check_suite": "build: a check suite requested or completed, with its conclusion",
    "check_run": "build: a check run created, re-requested or completed",
    "workflow_run": "build: a GitHub Actions workflow run requested, in progress or completed",
    "workflow_job": "build: a GitHub Actions job queued, waiting, in progress or completed",
    "status": "build: a commit status (state and context) set on a commit",
    "deployment": "deployment: a deployment created for an environment",
    "deployment_status": "deployment: a deployment's state changed",
    "code_scanning_alert": "security_alert: a code scanning alert created, fixed, "
    "reopened or closed",
    "dependabot_alert": "security_alert: a Dependabot alert created, dismissed, fixed or reopened",
    "secret_scanning_alert": "security_alert: a secret scanning alert created, resolved, "
    "reopened, validated or publicly leaked",
    "release": "release: a release published, created, edited, released or deleted",
}

PING_EVENTS: frozenset[str] = frozenset({"ping"})

#: Event → the actions mapped; None stands for events that carry no action.
ACTIONS: dict[str, frozenset[str | None]] = {
    "push": frozenset({None}),
    "status": frozenset({None}),
    "pull_request": frozenset(
        {
            "opened",
            "synchronize",
            "closed",
            "reopened",
            "ready_for_review",
            "converted_to_draft",
            "edited",
        }
    ),
    "pull_request_review": frozenset({"submitted", "edited", "dismissed"}),
    "check_suite": frozenset({"requested", "rerequested", "completed"}),
    "check_run": frozenset({"created", "rerequested", "completed"}),
    "workflow_run": frozenset({"requested", "in_progress", "completed"}),
    "workflow_job": frozenset({"queued", "waiting", "in_progress", "completed"}),
    "deployment": frozenset({"created"}),
    "deployment_status": frozenset({"created"}),
    "code_scanning_alert": frozenset(
        {
            "created",
            "fixed",
            "reopened",
            "appeared_in_branch",
            "closed_by_user",
            "reopened_by_user",
        }
    ),
    "dependabot_alert": frozenset(
        {
            "created",
            "dismissed",
            "fixed",
            "reintroduced",
            "reopened",
            "auto_dismissed",
            "auto_reopened",
        }
    ),
    "secret_scanning_alert": frozenset(
        {"created", "resolved", "reopened", "validated", "publicly_leaked"}
    ),
    "release": frozenset(
        {"published", "created", "released", "prereleased", "edited", "unpublished", "deleted"}
    ),
}


def normalize(event: str, payload: dict[str, Any]) -> list[EvidenceDraft]:
    """The drafts for one GitHub delivery; [] for pings, unmapped events and actions, and
    payloads without a repository."""
    mapper = MAPPERS.get(event)
    if mapper is None or not isinstance(payload, dict):
        return []
    if text(payload.get("action")) not in ACTIONS.get(event, frozenset()):
        return []
    if _project(payload) is None:
        return []
    return mapper(event, payload)


# ── shared pieces ───────────────────────────────────────────────────────────────────


def _project(payload: JsonObject) -> str | None:
    repository = obj(payload.get("repository"))
    full_name = text(repository.get("full_name"), 255)
    if full_name is None or "/" not in full_name:
        return None
    host = url_host(repository.get("html_url")) or "github.com"
    return make_slug(host, full_name)


def _make(
    kind: str, event: str, payload: JsonObject, data: JsonObject, commit_sha: Any = None,
    ref: Any = None,
) -> list[EvidenceDraft]:
    """GitHub states the action in the payload."""
    return _DRAFTS.one(kind, event, payload, data, payload.get("action"), commit_sha, ref)


_DRAFTS = DraftMaker(SOURCE, _project, lambda payload: dig(payload, "sender", "login"))


def _login(value: Any) -> str | None:
    return text(dig(value, "login"), 255)


def _pull_summary(pull: JsonObject) -> JsonObject:
    return {
        "number": integer(pull.get("number")),
        "title": text(pull.get("title")),
        "state": text(pull.get("state"), 64),
        "url": url(pull.get("html_url")),
        "author": _login(pull.get("user")),
        "base_ref": branch_ref(dig(pull, "base", "ref")),
        "base_sha": sha(dig(pull, "base", "sha")),
        "head_ref": branch_ref(dig(pull, "head", "ref")),
        "head_sha": sha(dig(pull, "head", "sha")),
    }


def _pull_numbers(value: Any) -> list[int]:
    return [n for pull in objects(value) if (n := integer(pull.get("number"))) is not None]


# ── one function per event family ───────────────────────────────────────────────────


def _push(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    commits = pushed_commits(payload)
    head = obj(payload.get("head_commit"))
    ref = text(payload.get("ref"), 255)
    data = {
        "ref": clean_ref(ref),
        "before": sha(payload.get("before")),
        "after": sha(payload.get("after")),
        "forced": boolean(payload.get("forced")),
        "created": boolean(payload.get("created")),
        "deleted": boolean(payload.get("deleted")),
        "tag": ref.startswith("refs/tags/") if ref else None,
        "base_ref": clean_ref(payload.get("base_ref")),
        "commit_count": len(commits),
        "commits": commits,
        "head_commit": sha(head.get("id")),
        "pusher": text(dig(payload, "pusher", "name"), 255),
        "compare_url": url(payload.get("compare")),
    }
    head_sha = None if data["deleted"] else first(sha(head.get("id")), sha(payload.get("after")))
    return _make("commit", event, payload, data, head_sha, ref)


def _pull_request(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    pull = obj(payload.get("pull_request"))
    if not pull:
        return []
    data = {
        **_pull_summary(pull),
        "action": text(payload.get("action"), 64),
        "merged": boolean(pull.get("merged")),
        "draft": boolean(pull.get("draft")),
        "merge_commit_sha": sha(pull.get("merge_commit_sha")),
        "merged_by": _login(pull.get("merged_by")),
        "created_at": text(pull.get("created_at"), 64),
        "closed_at": text(pull.get("closed_at"), 64),
        "merged_at": text(pull.get("merged_at"), 64),
    }
    return _make("pull_request", event, payload, data, data["head_sha"], data["head_ref"])


def _review(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    review = obj(payload.get("review"))
    pull = obj(payload.get("pull_request"))
    if not review:
        return []
    summary = _pull_summary(pull)
    data = {
        "review_id": integer(review.get("id")),
        "state": text(review.get("state"), 64),
        "reviewer": _login(review.get("user")),
        "submitted_at": text(review.get("submitted_at"), 64),
        "commit_id": sha(review.get("commit_id")),
        "url": url(review.get("html_url")),
        "author_association": text(review.get("author_association"), 64),
        "pull_request": summary,
    }
    commit_sha = first(data["commit_id"], summary["head_sha"])
    return _make("code_review", event, payload, data, commit_sha, summary["head_ref"])


def _check(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    check = obj(payload.get(event))
    if not check:
        return []
    suite = obj(check.get("check_suite")) if event == "check_run" else check
    if event == "check_run":
        started, finished = check.get("started_at"), check.get("completed_at")
    else:
        started = check.get("created_at")
        finished = check.get("updated_at") if check.get("status") == "completed" else None
    data = {
        "kind": event,
        "name": first(text(check.get("name")), text(dig(check, "app", "name"))),
        "run_id": integer(check.get("id")),
        "suite_id": integer(suite.get("id")),
        "app": text(dig(check, "app", "slug"), 255),
        "status": text(check.get("status"), 64),
        "conclusion": text(check.get("conclusion"), 64),
        "result": result(check.get("conclusion"), check.get("status")),
        "url": first(url(check.get("html_url")), url(check.get("details_url"))),
        "external_id": text(check.get("external_id"), 255),
        "started_at": text(started, 64),
        "finished_at": text(finished, 64),
        "duration_seconds": seconds_between(started, finished),
        "pull_requests": _pull_numbers(check.get("pull_requests")),
    }
    return _make(
        "build",
        event,
        payload,
        data,
        check.get("head_sha"),
        branch_ref(suite.get("head_branch")),
    )


def _workflow_run(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    run = obj(payload.get("workflow_run"))
    if not run:
        return []
    started = first(run.get("run_started_at"), run.get("created_at"))
    finished = run.get("updated_at") if run.get("status") == "completed" else None
    data = {
        "kind": "workflow_run",
        "name": first(text(run.get("name")), text(dig(payload, "workflow", "name"))),
        "workflow_path": first(text(run.get("path")), text(dig(payload, "workflow", "path"))),
        "workflow_id": integer(run.get("workflow_id")),
        "run_id": integer(run.get("id")),
        "run_number": integer(run.get("run_number")),
        "attempt": integer(run.get("run_attempt")),
        "trigger": text(run.get("event"), 64),
        "status": text(run.get("status"), 64),
        "conclusion": text(run.get("conclusion"), 64),
        "result": result(run.get("conclusion"), run.get("status")),
        "url": url(run.get("html_url")),
        "check_suite_id": integer(run.get("check_suite_id")),
        "started_at": text(started, 64),
        "finished_at": text(finished, 64),
        "duration_seconds": seconds_between(started, finished),
        "actor": _login(run.get("actor")),
        "triggering_actor": _login(run.get("triggering_actor")),
        "pull_requests": _pull_numbers(run.get("pull_requests")),
    }
    return _make(
        "build", event, payload, data, run.get("head_sha"), branch_ref(run.get("head_branch"))
    )


def _workflow_job(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    job = obj(payload.get("workflow_job"))
    if not job:
        return []
    steps = [
        {
            "number": integer(step.get("number")),
            "name": text(step.get("name")),
            "status": text(step.get("status"), 64),
            "conclusion": text(step.get("conclusion"), 64),
        }
        for step in objects(job.get("steps"))
    ]
    data = {
        "kind": "workflow_job",
        "name": text(job.get("name")),
        "workflow_name": text(job.get("workflow_name")),
        "job_id": integer(job.get("id")),
        "run_id": integer(job.get("run_id")),
        "attempt": integer(job.get("run_attempt")),
        "status": text(job.get("status"), 64),
        "conclusion": text(job.get("conclusion"), 64),
        "result": result(job.get("conclusion"), job.get("status")),
        "url": url(job.get("html_url")),
        "labels": texts(job.get("labels")),
        "runner_name": text(job.get("runner_name"), 255),
        "runner_group_name": text(job.get("runner_group_name"), 255),
        "started_at": text(job.get("started_at"), 64),
        "finished_at": text(job.get("completed_at"), 64),
        "duration_seconds": seconds_between(job.get("started_at"), job.get("completed_at")),
        "steps": steps,
    }
    return _make(
        "build", event, payload, data, job.get("head_sha"), branch_ref(job.get("head_branch"))
    )


def _status(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    if text(payload.get("state")) is None:
        return []
    data = {
        "kind": "status",
        "name": text(payload.get("context")),
        "status_id": integer(payload.get("id")),
        "status": text(payload.get("state"), 64),
        "result": result(payload.get("state")),
        "description": text(payload.get("description")),
        "url": url(payload.get("target_url")),
        "created_at": text(payload.get("created_at"), 64),
        "updated_at": text(payload.get("updated_at"), 64),
        "branches": texts([branch.get("name") for branch in objects(payload.get("branches"))]),
    }
    return _make("build", event, payload, data, payload.get("sha"))


def _deployment(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    deployment = obj(payload.get("deployment"))
    status = obj(payload.get("deployment_status"))
    if not deployment:
        return []
    raw_ref = text(deployment.get("ref"), 255)
    data = {
        "deployment_id": integer(deployment.get("id")),
        "status_id": integer(status.get("id")),
        "environment": text(first(status.get("environment"), deployment.get("environment"))),
        "state": text(status.get("state"), 64) if status else "created",
        "task": text(deployment.get("task"), 255),
        "ref": raw_ref,
        "description": text(first(status.get("description"), deployment.get("description"))),
        "url": first(
            url(status.get("environment_url")),
            url(status.get("target_url")),
            url(status.get("log_url")),
            url(deployment.get("url")),
        ),
        "creator": _login(first(status.get("creator"), deployment.get("creator"))),
        "created_at": text(first(status.get("created_at"), deployment.get("created_at")), 64),
    }
    # A deployment's ref may be a branch, a tag or a SHA: only a full ref is passed on.
    ref = raw_ref if raw_ref and raw_ref.startswith("refs/") else None
    return _make("deployment", event, payload, data, deployment.get("sha"), ref)


def _code_scanning(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    alert = obj(payload.get("alert"))
    if not alert:
        return []
    instance = obj(first(alert.get("most_recent_instance"), dig(alert, "instances", 0)))
    rule = obj(alert.get("rule"))
    data = {
        "kind": "code_scanning",
        "alert_number": integer(alert.get("number")),
        "rule_id": text(rule.get("id"), 255),
        "rule_description": text(rule.get("description")),
        "severity": text(first(rule.get("security_severity_level"), rule.get("severity")), 64),
        "state": text(alert.get("state"), 64),
        "tool": text(dig(alert, "tool", "name"), 255),
        "tool_version": text(dig(alert, "tool", "version"), 255),
        "location_path": text(dig(instance, "location", "path")),
        "start_line": integer(dig(instance, "location", "start_line")),
        "url": url(alert.get("html_url")),
        "created_at": text(alert.get("created_at"), 64),
        "fixed_at": text(alert.get("fixed_at"), 64),
        "dismissed_reason": text(alert.get("dismissed_reason"), 255),
    }
    commit_sha = first(sha(payload.get("commit_oid")), sha(instance.get("commit_sha")))
    ref = first(clean_ref(payload.get("ref")), clean_ref(instance.get("ref")))
    return _make("security_alert", event, payload, data, commit_sha, ref)


def _dependabot(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    alert = obj(payload.get("alert"))
    if not alert:
        return []
    advisory = obj(alert.get("security_advisory"))
    vulnerability = obj(alert.get("security_vulnerability"))
    data = {
        "kind": "dependabot",
        "alert_number": integer(alert.get("number")),
        "rule_id": text(first(advisory.get("ghsa_id"), advisory.get("cve_id")), 255),
        "ghsa_id": text(advisory.get("ghsa_id"), 255),
        "cve_id": text(advisory.get("cve_id"), 255),
        "summary": text(advisory.get("summary")),
        "severity": text(first(vulnerability.get("severity"), advisory.get("severity")), 64),
        "state": text(alert.get("state"), 64),
        "tool": "dependabot",
        "package": text(dig(alert, "dependency", "package", "name"), 255),
        "ecosystem": text(dig(alert, "dependency", "package", "ecosystem"), 64),
        "vulnerable_version_range": text(vulnerability.get("vulnerable_version_range"), 255),
        "first_patched_version": text(
            dig(vulnerability, "first_patched_version", "identifier"), 255
        ),
        "location_path": text(dig(alert, "dependency", "manifest_path")),
        "url": url(alert.get("html_url")),
        "created_at": text(alert.get("created_at"), 64),
        "fixed_at": text(alert.get("fixed_at"), 64),
        "dismissed_reason": text(alert.get("dismissed_reason"), 255),
    }
    return _make("security_alert", event, payload, data)


def _secret_scanning(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    alert = obj(payload.get("alert"))
    if not alert:
        return []
    data = {
        "kind": "secret_scanning",
        "alert_number": integer(alert.get("number")),
        "rule_id": text(alert.get("secret_type"), 255),
        "secret_type_name": text(alert.get("secret_type_display_name"), 255),
        "severity": None,
        "publicly_leaked": boolean(alert.get("publicly_leaked")),
        "state": text(alert.get("state"), 64)
        or ("resolved" if text(alert.get("resolution")) else "open"),
        "resolution": text(alert.get("resolution"), 64),
        "validity": text(alert.get("validity"), 64),
        "tool": "secret_scanning",
        "location_path": text(dig(payload, "location", "details", "path")),
        "url": url(alert.get("html_url")),
        "created_at": text(alert.get("created_at"), 64),
        "resolved_at": text(alert.get("resolved_at"), 64),
        "resolved_by": _login(alert.get("resolved_by")),
    }
    return _make("security_alert", event, payload, data)


def _release(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    release = obj(payload.get("release"))
    tag = text(release.get("tag_name"), 255)
    if not release or tag is None:
        return []
    data = {
        "release_id": integer(release.get("id")),
        "tag": tag,
        "name": text(release.get("name")),
        "action": text(payload.get("action"), 64),
        "draft": boolean(release.get("draft")),
        "prerelease": boolean(release.get("prerelease")),
        "target_commitish": text(release.get("target_commitish"), 255),
        "author": _login(release.get("author")),
        "url": url(release.get("html_url")),
        "created_at": text(release.get("created_at"), 64),
        "published_at": text(release.get("published_at"), 64),
        "asset_count": len(objects(release.get("assets"))),
    }
    return _make("release", event, payload, data, release.get("target_commitish"), tag_ref(tag))


MAPPERS: dict[str, Mapper] = {
    "push": _push,
    "pull_request": _pull_request,
    "pull_request_review": _review,
    "check_suite": _check,
    "check_run": _check,
    "workflow_run": _workflow_run,
    "workflow_job": _workflow_job,
    "status": _status,
    "deployment": _deployment,
    "deployment_status": _deployment,
    "code_scanning_alert": _code_scanning,
    "dependabot_alert": _dependabot,
    "secret_scanning_alert": _secret_scanning,
    "release": _release,
}

"""CI/CD build notifications, generic JSON or the Jenkins Notification plugin's, as build
evidence."""

from __future__ import annotations

from typing import Any

from arcos.evidence.drafts import EvidenceDraft
from arcos.webhooks.mapping.common import (
    JsonObject,
    Mapper,
    branch_ref,
    clean_ref,
    dig,
    draft,
    exact_slug,
    first,
    ident,
    identifier,
    integer,
    make_slug,
    metadata,
    millis_to_iso,
    number,
    obj,
    result,
    slug_from_url,
    tag_ref,
    text,
    texts,
    url,
)

DEFAULT_SOURCE = "cicd"
JENKINS_SOURCE = "jenkins"

EVENTS: dict[str, str] = {
    "build": "build: a finished CI build (generic JSON, or the Jenkins Notification plugin's "
    "COMPLETED and FINALIZED phases), with status normalized",
}

PING_EVENTS: frozenset[str] = frozenset()

#: Jenkins Notification plugin phases that report a finished build.
FINAL_PHASES: frozenset[str] = frozenset({"COMPLETED", "FINALIZED"})
#: SCM hosts whose repository URLs name a project the other mappings also name.
SCM_HOST_WORDS: tuple[str, ...] = ("github", "gitlab", "bitbucket")


def normalize(event: str, payload: dict[str, Any]) -> list[EvidenceDraft]:
    """The build draft for one notification; [] for unfinished Jenkins phases, unmapped
    events and payloads that name no status."""
    mapper = MAPPERS.get(event)
    if mapper is None or not isinstance(payload, dict):
        return []
    return mapper(event, payload)


def dedupe_key(payload: Any) -> str | None:
    """A key that is the same for redeliveries of one notification, else None.

    Jenkins sends no delivery id: `name:number:queue_id:phase`. Generic JSON: its explicit
    `delivery_id` or `id`.
    """
    if not isinstance(payload, dict):
        return None
    build = payload.get("build")
    if isinstance(build, dict):
        name, build_number = text(payload.get("name"), 200), integer(build.get("number"))
        if name is None or build_number is None:
            return None
        queue_id = integer(build.get("queue_id"))
        phase = text(build.get("phase"), 32) or ""
        return ":".join((name, str(build_number), "" if queue_id is None else str(queue_id), phase))
    found = first(ident(payload.get("delivery_id")), ident(payload.get("id")))
    return None if found is None else str(found)


# ── projects and refs ───────────────────────────────────────────────────────────────


def scm_project(repository_url: Any) -> str | None:
    """The project slug of a GitHub, GitLab or Bitbucket repository URL (https, ssh or
    `git@host:path`), as the provider mappings spell it; None for other hosts."""
    slug = slug_from_url(repository_url)
    if slug is None:
        return None
    host, _, path = slug.partition("/")
    if not any(word in host for word in SCM_HOST_WORDS):
        return None
    if "bitbucket" in host and host != "bitbucket.org" and path.startswith("scm/"):
        # Bitbucket Data Center clone URLs: https://host/scm/<project key>/<repo slug>.git
        return make_slug(host, path[len("scm/") :])
    return slug


def explicit_project(value: Any) -> str | None:
    """A `project` field: a repository URL, or a slug such as `github.com/owner/repo`."""
    found = text(value, 2048)
    if found is None:
        return None
    if "://" in found or "@" in found:
        return slug_from_url(found)
    return exact_slug(found)


def jenkins_ref(value: Any) -> str | None:
    """A Jenkins SCM branch (`origin/main`, `refs/remotes/origin/main`, `main`) as a ref."""
    name = text(value, 255)
    if name is None:
        return None
    if name.startswith("refs/remotes/") and name.count("/") >= 3:
        return branch_ref(name.split("/", 3)[3])
    if name.startswith("origin/"):
        return branch_ref(name[len("origin/") :])
    return branch_ref(name)


def _commit(value: Any) -> Any:
    if isinstance(value, dict):
        return first(value.get("sha"), value.get("id"), value.get("hash"))
    return value


# ── the two shapes ──────────────────────────────────────────────────────────────────


def _build(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    if isinstance(payload.get("build"), dict):
        return _jenkins(event, payload)
    return _generic(event, payload)


def _jenkins(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    build = obj(payload.get("build"))
    phase = text(build.get("phase"), 32)
    if phase is not None and phase.upper() not in FINAL_PHASES:
        return []
    scm = obj(build.get("scm"))
    tests = obj(build.get("test_summary"))
    duration_ms = number(build.get("duration"))
    started_ms = number(build.get("timestamp"))
    finished_ms = (
        started_ms + duration_ms if started_ms is not None and duration_ms is not None else None
    )
    data = {
        "kind": "jenkins",
        "name": text(payload.get("name")),
        "display_name": text(payload.get("display_name")),
        "run_id": integer(build.get("number")),
        "run_number": integer(build.get("number")),
        "queue_id": integer(build.get("queue_id")),
        "phase": phase,
        "status": text(build.get("status"), 64),
        "result": result(build.get("status")),
        "url": first(url(build.get("full_url")), url(payload.get("url"))),
        "started_at": millis_to_iso(started_ms),
        "finished_at": millis_to_iso(finished_ms),
        "duration_seconds": duration_ms / 1000 if duration_ms is not None else None,
        "scm_url": text(scm.get("url"), 2048),
        "branch": text(scm.get("branch"), 255),
        "culprits": texts(scm.get("culprits")),
        "test_summary": (
            {
                "total": integer(tests.get("total")),
                "passed": integer(tests.get("passed")),
                "failed": integer(tests.get("failed")),
                "skipped": integer(tests.get("skipped")),
                "failed_tests": texts(tests.get("failed_tests")),
            }
            if tests
            else None
        ),
    }
    project = first(scm_project(scm.get("url")), explicit_project(payload.get("project")))
    return [
        draft(
            type="build",
            source=JENKINS_SOURCE,
            project=project,
            data=data,
            meta=metadata(event, phase, None),
            commit_sha=scm.get("commit"),
            ref=jenkins_ref(scm.get("branch")),
        )
    ]


def _generic(event: str, payload: JsonObject) -> list[EvidenceDraft]:
    status = text(first(payload.get("status"), payload.get("result")), 64)
    if status is None:
        return []
    phase = text(payload.get("phase"), 32)
    if phase is not None and phase.upper() not in FINAL_PHASES:
        return []
    environment = payload.get("environment")
    data = {
        "kind": "generic",
        "name": first(text(payload.get("name")), text(payload.get("job"))),
        "status": status,
        "result": result(status),
        "run_id": ident(first(payload.get("pipeline_id"), payload.get("build_number"))),
        "attempt": integer(payload.get("attempt")),
        "url": url(payload.get("url")),
        "environment": first(text(environment, 255), text(dig(environment, "name"), 255)),
        "started_at": text(payload.get("started_at"), 64),
        "finished_at": text(payload.get("finished_at"), 64),
        "duration_seconds": number(payload.get("duration")),
    }
    commit_sha = first(_commit(payload.get("commit")), payload.get("sha"))
    ref = first(
        branch_ref(payload.get("ref")),
        branch_ref(payload.get("branch")),
        tag_ref(payload.get("tag")),
    )
    source = identifier(
        first(payload.get("system"), payload.get("ci"), payload.get("provider")), DEFAULT_SOURCE
    )
    actor = first(text(payload.get("actor"), 255), text(payload.get("triggered_by"), 255))
    return [
        draft(
            type="build",
            source=source,
            project=explicit_project(payload.get("project")),
            data=data,
            meta=metadata(event, phase, actor),
            commit_sha=commit_sha,
            ref=clean_ref(ref),
        )
    ]


MAPPERS: dict[str, Mapper] = {"build": _build}

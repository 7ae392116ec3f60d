"""Webhook payloads become evidence drafts: each provider's mapping on the fixtures in
tests/webhook_payloads/ (origins in its README), and on damaged copies of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from arcos.evidence.canonical import canonical_json
from arcos.evidence.drafts import DraftLimits, EvidenceDraft, check_draft
from arcos.webhooks.mapping import bitbucket, cicd, common, github, gitlab
from arcos.webhooks.providers import PROVIDERS, evidence_mapping_for

#: Provider name → its mapping module, as production finds it.
MAPPINGS = {name: provider.mapping for name, provider in PROVIDERS.items()}

PAYLOADS = Path(__file__).parent / "webhook_payloads"
LIMITS = DraftLimits(max_json_depth=64, max_evidence_bytes=5 * 1024 * 1024)
EVIDENCE_TYPES = {
    "commit",
    "pull_request",
    "code_review",
    "build",
    "deployment",
    "security_alert",
    "release",
}
RESULTS = {"success", "failure", "cancelled", "skipped", "running", "pending", "neutral"}

# fixture file → (provider, event header, the draft types expected, in order)
FIXTURES: dict[str, tuple[str, str, list[str]]] = {
    # GitHub (genuine, @octokit/webhooks-examples)
    "github/push.branch.json": ("github", "push", ["commit"]),
    "github/push.tag_created.json": ("github", "push", ["commit"]),
    "github/push.tag_deleted.json": ("github", "push", ["commit"]),
    "github/pull_request.opened.json": ("github", "pull_request", ["pull_request"]),
    "github/pull_request.closed.json": ("github", "pull_request", ["pull_request"]),
    "github/pull_request.closed_merged.derived.json": ("github", "pull_request", ["pull_request"]),
    "github/pull_request.synchronize.json": ("github", "pull_request", ["pull_request"]),
    "github/pull_request.ready_for_review.json": ("github", "pull_request", ["pull_request"]),
    "github/pull_request.reopened.json": ("github", "pull_request", ["pull_request"]),
    "github/pull_request.labeled.json": ("github", "pull_request", []),
    "github/pull_request_review.submitted.json": ("github", "pull_request_review", ["code_review"]),
    "github/pull_request_review.dismissed.json": ("github", "pull_request_review", ["code_review"]),
    "github/check_run.completed.json": ("github", "check_run", ["build"]),
    "github/check_run.created.json": ("github", "check_run", ["build"]),
    "github/check_suite.completed.json": ("github", "check_suite", ["build"]),
    "github/workflow_run.completed.json": ("github", "workflow_run", ["build"]),
    "github/workflow_run.requested.json": ("github", "workflow_run", ["build"]),
    "github/workflow_job.completed.json": ("github", "workflow_job", ["build"]),
    "github/workflow_job.in_progress.json": ("github", "workflow_job", ["build"]),
    "github/status.json": ("github", "status", ["build"]),
    "github/deployment.created.json": ("github", "deployment", ["deployment"]),
    "github/deployment_status.created.json": ("github", "deployment_status", ["deployment"]),
    "github/code_scanning_alert.created.json": (
        "github",
        "code_scanning_alert",
        ["security_alert"],
    ),
    "github/code_scanning_alert.fixed.json": ("github", "code_scanning_alert", ["security_alert"]),
    "github/dependabot_alert.created.json": ("github", "dependabot_alert", ["security_alert"]),
    "github/secret_scanning_alert.reopened.json": (
        "github",
        "secret_scanning_alert",
        ["security_alert"],
    ),
    "github/release.published.json": ("github", "release", ["release"]),
    "github/ping.json": ("github", "ping", []),
    # GitLab (genuine, go-gitlab testdata; .derived/.handwritten as the README says)
    "gitlab/push.json": ("gitlab", "Push Hook", ["commit"]),
    "gitlab/tag_push.json": ("gitlab", "Tag Push Hook", ["commit"]),
    "gitlab/merge_request.json": ("gitlab", "Merge Request Hook", ["pull_request"]),
    "gitlab/group_merge_request.json": ("gitlab", "Merge Request Hook", ["pull_request"]),
    "gitlab/service_merge_request.json": ("gitlab", "Merge Request Hook", ["pull_request"]),
    "gitlab/merge_request_approved.derived.json": (
        "gitlab",
        "Merge Request Hook",
        ["code_review"],
    ),
    "gitlab/pipeline.json": ("gitlab", "Pipeline Hook", ["build"]),
    "gitlab/build.json": ("gitlab", "Job Hook", ["build"]),
    "gitlab/deployment.json": ("gitlab", "Deployment Hook", ["deployment"]),
    "gitlab/release.json": ("gitlab", "Release Hook", ["release"]),
    "gitlab/vulnerability.handwritten.json": ("gitlab", "Vulnerability Hook", ["security_alert"]),
    "gitlab/issue.json": ("gitlab", "Issue Hook", []),
    "gitlab/systemhook_push.json": ("gitlab", "System Hook", ["commit"]),
    "gitlab/systemhook_tag_push.json": ("gitlab", "System Hook", ["commit"]),
    "gitlab/systemhook_merge_request.json": ("gitlab", "System Hook", ["pull_request"]),
    "gitlab/systemhook_project_create.json": ("gitlab", "System Hook", []),
    "gitlab/systemhook_repository_update.json": ("gitlab", "System Hook", []),
    # Bitbucket Cloud and Data Center (hand-written)
    "bitbucket/repo_push.json": ("bitbucket", "repo:push", ["commit", "commit"]),
    "bitbucket/pullrequest_created.json": ("bitbucket", "pullrequest:created", ["pull_request"]),
    "bitbucket/pullrequest_fulfilled.json": (
        "bitbucket",
        "pullrequest:fulfilled",
        ["pull_request"],
    ),
    "bitbucket/pullrequest_approved.json": ("bitbucket", "pullrequest:approved", ["code_review"]),
    "bitbucket/pullrequest_changes_request_created.json": (
        "bitbucket",
        "pullrequest:changes_request_created",
        ["code_review"],
    ),
    "bitbucket/repo_commit_status_created.json": (
        "bitbucket",
        "repo:commit_status_created",
        ["build"],
    ),
    "bitbucket/repo_commit_status_updated.json": (
        "bitbucket",
        "repo:commit_status_updated",
        ["build"],
    ),
    "bitbucket/dc_repo_refs_changed.json": ("bitbucket", "repo:refs_changed", ["commit", "commit"]),
    "bitbucket/dc_pr_opened.json": ("bitbucket", "pr:opened", ["pull_request"]),
    "bitbucket/dc_pr_merged.json": ("bitbucket", "pr:merged", ["pull_request"]),
    "bitbucket/dc_pr_declined_personal_no_links.json": (
        "bitbucket",
        "pr:declined",
        ["pull_request"],
    ),
    "bitbucket/dc_pr_reviewer_approved.json": (
        "bitbucket",
        "pr:reviewer:approved",
        ["code_review"],
    ),
    "bitbucket/dc_pr_reviewer_needs_work.json": (
        "bitbucket",
        "pr:reviewer:needs_work",
        ["code_review"],
    ),
    "bitbucket/dc_diagnostics_ping.json": ("bitbucket", "diagnostics:ping", []),
    # CI/CD (hand-written)
    "cicd/jenkins_completed.json": ("cicd", "build", ["build"]),
    "cicd/jenkins_finalized.json": ("cicd", "build", ["build"]),
    "cicd/jenkins_started.json": ("cicd", "build", []),
    "cicd/jenkins_other_scm_explicit_project.json": ("cicd", "build", ["build"]),
    "cicd/jenkins_bitbucket_dc.json": ("cicd", "build", ["build"]),
    "cicd/generic_success.json": ("cicd", "build", ["build"]),
    "cicd/generic_failed_tag.json": ("cicd", "build", ["build"]),
    "cicd/generic_no_status.json": ("cicd", "build", []),
    # crafted edge cases
    "edge/github_push_no_head_commit_no_sender.json": ("github", "push", ["commit"]),
    "edge/github_workflow_run_null_conclusion.json": ("github", "workflow_run", ["build"]),
    "edge/github_pull_request_no_repository.json": ("github", "pull_request", []),
    "edge/github_status_repository_string.json": ("github", "status", []),
    "edge/github_pull_request_unknown_action.json": ("github", "pull_request", []),
    "edge/github_check_run_wrong_types.json": ("github", "check_run", ["build"]),
    "edge/gitlab_pipeline_no_project.json": ("gitlab", "Pipeline Hook", []),
    "edge/gitlab_job_wrong_types.json": ("gitlab", "Job Hook", []),
    "edge/gitlab_system_hook_unknown.json": ("gitlab", "System Hook", []),
    "edge/bitbucket_push_repository_string.json": ("bitbucket", "repo:push", []),
    "edge/bitbucket_push_no_changes.json": ("bitbucket", "repo:push", []),
    "edge/bitbucket_dc_pr_without_pull_request.json": ("bitbucket", "pr:opened", []),
    "edge/cicd_wrong_types.json": ("cicd", "build", ["build"]),
}


def load(name: str) -> dict[str, Any]:
    payload = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    assert isinstance(payload, dict)
    return payload


def drafts_for(name: str, payload: dict[str, Any] | None = None) -> list[EvidenceDraft]:
    provider, event, _ = FIXTURES[name]
    drafts = MAPPINGS[provider].normalize(event, load(name) if payload is None else payload)
    assert_valid(drafts)
    return drafts


def only(name: str) -> EvidenceDraft:
    drafts = drafts_for(name)
    assert len(drafts) == 1, drafts
    return drafts[0]


def assert_valid(drafts: Any) -> None:
    """Every draft is storable: check_draft finds nothing, and data/metadata are plain JSON."""
    assert isinstance(drafts, list)
    for draft in drafts:
        assert isinstance(draft, EvidenceDraft)
        assert check_draft(draft, LIMITS) == [], (draft, check_draft(draft, LIMITS))
        assert draft.type in EVIDENCE_TYPES
        assert set(draft.metadata) == {"event", "action", "actor"}
        for part in (draft.data, draft.metadata):
            assert json.loads(canonical_json(part)) == part  # only JSON types, no tuples
        if draft.type == "build":
            assert draft.data["result"] in RESULTS | {None}


# ── the fixture set ─────────────────────────────────────────────────────────────────


def test_every_fixture_file_is_listed() -> None:
    on_disk = {p.relative_to(PAYLOADS).as_posix() for p in PAYLOADS.rglob("*.json")}
    assert on_disk == set(FIXTURES)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_maps_to_the_expected_drafts(name: str) -> None:
    provider, event, expected = FIXTURES[name]
    drafts = drafts_for(name)
    assert [d.type for d in drafts] == expected
    for draft in drafts:
        assert draft.metadata["event"] == event
        if provider != "cicd":
            assert draft.source == provider
            assert draft.project is not None


def test_every_mapped_event_has_a_fixture_or_a_stand_in() -> None:
    covered = {(provider, event) for provider, event, types in FIXTURES.values() if types}
    for provider, module in MAPPINGS.items():
        missing = {e for e in module.EVENTS if (provider, e) not in covered}
        assert missing <= set(BITBUCKET_STAND_INS), (provider, missing)


# ── module shape ────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("provider", sorted(MAPPINGS))
def test_module_exposes_events_pings_and_normalize(provider: str) -> None:
    module = MAPPINGS[provider]
    assert isinstance(module.EVENTS, dict) and module.EVENTS
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in module.EVENTS.items())
    assert isinstance(module.PING_EVENTS, frozenset)
    assert not module.PING_EVENTS & set(module.EVENTS)
    assert callable(module.normalize)


def test_event_keys_per_provider() -> None:
    assert set(github.EVENTS) == {
        "push",
        "pull_request",
        "pull_request_review",
        "check_suite",
        "check_run",
        "workflow_run",
        "workflow_job",
        "status",
        "deployment",
        "deployment_status",
        "code_scanning_alert",
        "dependabot_alert",
        "secret_scanning_alert",
        "release",
    }
    assert set(gitlab.EVENTS) == {
        "Push Hook",
        "Tag Push Hook",
        "Merge Request Hook",
        "Pipeline Hook",
        "Job Hook",
        "Deployment Hook",
        "Release Hook",
        "Vulnerability Hook",
        "System Hook",
    }
    assert {"repo:push", "pullrequest:created", "repo:refs_changed", "pr:opened"} <= set(
        bitbucket.EVENTS
    )
    assert set(cicd.EVENTS) == {"build"}
    assert github.PING_EVENTS == {"ping"}
    assert bitbucket.PING_EVENTS == {"diagnostics:ping"}
    assert gitlab.PING_EVENTS == cicd.PING_EVENTS == frozenset()


def test_pings_map_to_nothing() -> None:
    assert github.normalize("ping", load("github/ping.json")) == []
    assert bitbucket.normalize("diagnostics:ping", {"test": True}) == []
    assert "ping" in evidence_mapping_for("github").ping_events
    assert "diagnostics:ping" in evidence_mapping_for("bitbucket").ping_events
    assert "push" not in evidence_mapping_for("github").ping_events
    assert "nobody" not in PROVIDERS


@pytest.mark.parametrize(
    ("provider", "event", "name"),
    [
        ("github", "issues", "github/pull_request.opened.json"),
        ("github", "fork", "github/push.branch.json"),
        ("github", "", "github/push.branch.json"),
        ("gitlab", "Issue Hook", "gitlab/issue.json"),
        ("gitlab", "Note Hook", "gitlab/merge_request.json"),
        ("gitlab", "push", "gitlab/push.json"),
        ("bitbucket", "repo:fork", "bitbucket/repo_push.json"),
        ("bitbucket", "pr:comment:added", "bitbucket/dc_pr_opened.json"),
        ("cicd", "deploy", "cicd/generic_success.json"),
    ],
)
def test_unknown_events_map_to_nothing(provider: str, event: str, name: str) -> None:
    assert MAPPINGS[provider].normalize(event, load(name)) == []


def test_normalize_by_provider_name() -> None:
    normalize = evidence_mapping_for("github").normalize
    assert [d.type for d in normalize("push", load("github/push.branch.json"))] == ["commit"]
    assert set(PROVIDERS) == {"github", "gitlab", "bitbucket", "cicd"}


# ── GitHub ──────────────────────────────────────────────────────────────────────────

HELLO = "github.com/codertocat/hello-world"


def test_github_push_is_one_commit_draft_listing_the_commits() -> None:
    draft = only("github/push.branch.json")
    assert (draft.type, draft.source, draft.project) == ("commit", "github", HELLO)
    assert draft.commit_sha == "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    assert draft.ref == "refs/heads/master"
    assert draft.metadata == {"event": "push", "action": None, "actor": "Codertocat"}
    assert draft.data["commit_count"] == 1
    assert draft.data["commits"] == [
        {
            "id": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
            "message": "Initial commit",
            "author": "Codertocat",
            "timestamp": "2019-05-15T15:19:25Z",
        }
    ]
    assert draft.data["before"] is None  # the all-zero "no commit" SHA
    assert draft.data["after"] == draft.commit_sha
    assert (draft.data["forced"], draft.data["created"], draft.data["tag"]) == (False, True, False)


def test_github_tag_push_and_deletion() -> None:
    created = only("github/push.tag_created.json")
    assert (created.type, created.ref, created.data["tag"]) == (
        "commit",
        "refs/tags/simple-tag",
        True,
    )
    deleted = only("github/push.tag_deleted.json")
    assert deleted.ref == "refs/tags/simple-tag"
    assert deleted.commit_sha is None and deleted.data["deleted"] is True


def test_github_pull_request_opened_and_merged() -> None:
    opened = only("github/pull_request.opened.json")
    assert opened.type == "pull_request" and opened.project == HELLO
    assert opened.commit_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert opened.ref == "refs/heads/changes"
    data = opened.data
    assert (data["number"], data["action"], data["state"], data["merged"]) == (
        2,
        "opened",
        "open",
        False,
    )
    assert data["base_ref"] == "refs/heads/master"
    assert data["base_sha"] == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    assert data["head_sha"] == opened.commit_sha
    assert data["author"] == "Codertocat"
    assert data["url"] == "https://github.com/Codertocat/Hello-World/pull/2"
    assert opened.metadata == {"event": "pull_request", "action": "opened", "actor": "Codertocat"}

    merged = only("github/pull_request.closed_merged.derived.json")
    assert (merged.data["action"], merged.data["merged"]) == ("closed", True)
    assert merged.data["merge_commit_sha"] == "c4295bd74fb0f4fda03689c3df3f2803b658fd85"
    assert only("github/pull_request.closed.json").data["merged"] is False


def test_github_review_is_code_review() -> None:
    review = only("github/pull_request_review.submitted.json")
    assert review.type == "code_review"
    assert (review.data["state"], review.data["reviewer"]) == ("commented", "Codertocat")
    assert review.data["pull_request"]["number"] == 2
    assert review.commit_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert only("github/pull_request_review.dismissed.json").metadata["action"] == "dismissed"


def test_github_check_run_and_suite() -> None:
    run = only("github/check_run.completed.json")
    assert (run.type, run.ref) == ("build", "refs/heads/changes")
    assert run.commit_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert (run.data["status"], run.data["conclusion"], run.data["result"]) == (
        "completed",
        "failure",
        "failure",
    )
    assert run.data["name"] == "Octocoders-linter" and run.data["run_id"] == 128620228
    assert run.data["pull_requests"] == [2]
    created = only("github/check_run.created.json")
    assert (created.data["conclusion"], created.data["result"]) == (None, "pending")
    suite = only("github/check_suite.completed.json")
    assert (suite.data["result"], suite.data["duration_seconds"]) == ("success", 43.0)


def test_github_workflow_run_and_job() -> None:
    run = only("github/workflow_run.completed.json")
    assert run.project == "github.com/octo-org/octo-repo"
    assert run.ref == "refs/heads/master"  # head_branch → refs/heads/<head_branch>
    assert run.commit_sha == "3484a3fb816e0859fd6e1cea078d76385ff50625"
    assert (run.data["run_id"], run.data["attempt"], run.data["result"]) == (
        289782451,
        1,
        "success",
    )
    assert run.data["url"] == "https://github.com/octo-org/octo-repo/actions/runs/289782451"
    assert only("github/workflow_run.requested.json").data["result"] == "pending"

    job = only("github/workflow_job.completed.json")
    assert (job.data["conclusion"], job.data["result"]) == ("failure", "failure")
    assert job.data["duration_seconds"] == 198.0
    assert job.data["steps"][0] == {
        "number": 1,
        "name": "Set up job",
        "status": "completed",
        "conclusion": "success",
    }
    assert only("github/workflow_job.in_progress.json").data["result"] == "running"


def test_github_null_conclusion_and_bad_sha_are_tolerated() -> None:
    draft = only("edge/github_workflow_run_null_conclusion.json")
    assert (draft.data["conclusion"], draft.data["result"]) == (None, "running")
    assert draft.commit_sha is None  # "not-a-sha" is dropped, not passed on
    assert draft.metadata["actor"] is None


def test_github_status() -> None:
    status = only("github/status.json")
    assert (status.type, status.commit_sha) == ("build", "6113728f27ae82c7b1a177c8d03f9e96e0adf246")
    assert (status.data["name"], status.data["result"]) == ("default", "success")
    assert status.ref is None


def test_github_deployments() -> None:
    created = only("github/deployment.created.json")
    assert created.type == "deployment"
    assert created.commit_sha == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    assert (created.data["environment"], created.data["state"]) == ("production", "created")
    assert created.data["deployment_id"] == 145988746
    assert created.ref is None and created.data["ref"] == "master"
    status = only("github/deployment_status.created.json")
    assert (status.data["state"], status.data["status_id"]) == ("success", 209916254)


def test_github_security_alerts() -> None:
    code = only("github/code_scanning_alert.created.json")
    assert code.type == "security_alert"
    assert (code.data["alert_number"], code.data["rule_id"]) == (10, "java/sql-injection")
    assert (code.data["severity"], code.data["state"], code.data["tool"]) == (
        "error",
        "open",
        "CodeQL",
    )
    assert code.data["location_path"] == "src/main/java/com/github/demo/service/BookService.java"
    assert code.commit_sha == "788437584c2522f27feab10d8e631bab3e9e783a"
    assert code.ref == "refs/heads/code-feature"
    assert only("github/code_scanning_alert.fixed.json").data["state"] == "fixed"

    dependabot = only("github/dependabot_alert.created.json")
    assert dependabot.project == "github.com/wolfy1339/pika-pack"
    assert dependabot.data["rule_id"] == "GHSA-c2qf-rxjj-qqgw"
    assert (dependabot.data["severity"], dependabot.data["package"]) == ("medium", "semver")
    assert dependabot.data["location_path"] == "package-lock.json"

    secret = only("github/secret_scanning_alert.reopened.json")
    assert (secret.data["alert_number"], secret.data["rule_id"]) == (191, "adafruit_io_key")
    assert secret.metadata["action"] == "reopened"


def test_github_release() -> None:
    release = only("github/release.published.json")
    assert (release.type, release.ref) == ("release", "refs/tags/0.0.1")
    assert (release.data["tag"], release.data["prerelease"]) == ("0.0.1", False)
    assert release.commit_sha is None  # target_commitish is a branch name here


def test_github_enterprise_host_names_the_project() -> None:
    payload = load("github/push.branch.json")
    payload["repository"]["html_url"] = "https://GHE.example.com/Codertocat/Hello-World"
    assert github.normalize("push", payload)[0].project == "ghe.example.com/codertocat/hello-world"


# ── GitLab ──────────────────────────────────────────────────────────────────────────


def test_gitlab_push_and_tag_push() -> None:
    push = only("gitlab/push.json")
    assert (push.type, push.source, push.project) == (
        "commit",
        "gitlab",
        "example.com/mike/diaspora",
    )
    assert push.commit_sha == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
    assert push.ref == "refs/heads/master"
    assert push.data["commit_count"] == 4  # total_commits_count, though 2 are listed
    assert push.data["commits_listed"] == 2
    assert push.data["commits"][0]["message"] == "Merge branch 'some-feature' into 'master'"
    assert push.metadata == {"event": "Push Hook", "action": None, "actor": "jsmith"}

    tag = only("gitlab/tag_push.json")
    assert (tag.type, tag.ref, tag.data["tag"]) == ("commit", "refs/tags/v1.0.0", True)
    assert tag.project == "example.com/jsmith/example"


def test_gitlab_merge_request_and_approval() -> None:
    mr = only("gitlab/merge_request.json")
    assert (mr.type, mr.project) == ("pull_request", "example.com/gitlabhq/gitlab-test")
    assert mr.commit_sha == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
    assert mr.ref == "refs/heads/ms-viewport"
    assert (mr.data["number"], mr.data["action"], mr.data["state"]) == (1, "open", "opened")
    assert mr.data["base_ref"] == "refs/heads/master"
    assert mr.metadata == {"event": "Merge Request Hook", "action": "open", "actor": "user1"}

    approved = only("gitlab/merge_request_approved.derived.json")
    assert approved.type == "code_review"
    assert (approved.data["state"], approved.data["reviewer"]) == ("approved", "user1")

    payload = load("gitlab/merge_request.json")
    payload["object_attributes"]["action"] = "merge"
    assert gitlab.normalize("Merge Request Hook", payload)[0].data["merged"] is True
    payload["object_attributes"]["action"] = "something_new"
    assert gitlab.normalize("Merge Request Hook", payload) == []


def test_gitlab_pipeline() -> None:
    pipeline = only("gitlab/pipeline.json")
    assert (pipeline.type, pipeline.project) == ("build", "192.168.64.1/gitlab-org/gitlab-test")
    assert pipeline.commit_sha == "bcbb5ec396a2c0f828686f14fac9b80b780504f2"
    assert pipeline.ref == "refs/heads/master"
    data = pipeline.data
    assert (data["run_id"], data["status"], data["result"], data["duration_seconds"]) == (
        31,
        "success",
        "success",
        63,
    )
    assert data["url"] == "http://192.168.64.1:3005/gitlab-org/gitlab-test/-/pipelines/31"
    assert [(j["name"], j["result"]) for j in data["jobs"]][:2] == [
        ("production", "skipped"),
        ("test-image", "success"),
    ]
    payload = load("gitlab/pipeline.json")
    payload["object_attributes"].update(tag=True, ref="v1.2.0", status="failed")
    tagged = gitlab.normalize("Pipeline Hook", payload)[0]
    assert (tagged.ref, tagged.data["result"]) == ("refs/tags/v1.2.0", "failure")


def test_gitlab_job_uses_sha_not_commit_id() -> None:
    job = only("gitlab/build.json")
    payload = load("gitlab/build.json")
    assert payload["commit"]["id"] == 2366  # the pipeline id, not a commit
    assert job.commit_sha == payload["sha"] == "2293ada6b400935a1378653304eaf6221e0fdb8f"
    assert job.project == "192.168.64.1/gitlab-org/gitlab-test"  # from repository.homepage
    assert job.ref == "refs/heads/gitlab-script-trigger"
    assert (job.data["job_id"], job.data["run_id"], job.data["name"]) == (1977, 2366, "test")
    assert (job.data["status"], job.data["result"]) == ("created", "pending")


def test_gitlab_deployment_release_and_vulnerability() -> None:
    deployment = only("gitlab/deployment.json")
    assert deployment.type == "deployment"
    assert deployment.project == "10.126.0.2/root/test-deployment-webhooks"
    assert deployment.commit_sha == "279484c09fbe69ededfced8c1bb6e6d24616b468"  # from commit_url
    assert (deployment.data["environment"], deployment.data["state"]) == ("staging", "success")

    release = only("gitlab/release.json")
    assert (release.type, release.ref) == ("release", "refs/tags/1.0.0")
    assert release.commit_sha == "2626dbdb936782b5c54816b1c6d45b1279303c6d"
    assert release.metadata["action"] == "create"

    vulnerability = only("gitlab/vulnerability.handwritten.json")
    assert vulnerability.project == "gitlab.example.com/acme/platform/ledger-api"
    assert (vulnerability.data["severity"], vulnerability.data["rule_id"]) == (
        "critical",
        "CVE-2021-44906",
    )
    assert vulnerability.data["alert_number"] == 311
    assert vulnerability.data["location_path"] == "package-lock.json"


def test_gitlab_system_hooks_route_on_event_name() -> None:
    push = only("gitlab/systemhook_push.json")
    assert (push.type, push.project, push.ref) == (
        "commit",
        "example.com/mike/diaspora",
        "refs/heads/master",
    )
    assert push.metadata["event"] == "System Hook"
    tag = only("gitlab/systemhook_tag_push.json")
    assert tag.commit_sha == "5937ac0a7beb003549fc5fd26fc247adbce4a52e"  # checkout_sha, the commit
    assert only("gitlab/systemhook_merge_request.json").type == "pull_request"
    # A project hook's header routes on itself, not on object_kind.
    assert gitlab.normalize("Push Hook", load("gitlab/systemhook_push.json"))[0].type == "commit"


# ── Bitbucket ───────────────────────────────────────────────────────────────────────

PAYMENTS = "bitbucket.org/acme-team/payment-service"
LEDGER = "git.acme.example/plat/ledger-api"


def test_bitbucket_cloud_push_is_one_draft_per_ref() -> None:
    branch, tag = drafts_for("bitbucket/repo_push.json")
    assert (branch.project, branch.ref) == (PAYMENTS, "refs/heads/main")
    assert branch.commit_sha == "709d658dc5b6d6afcd46049c2f332ee3f515a67d"
    assert branch.data["before"] == "1e65c05c1d5171631d92438a13901ca7dae9618c"
    assert (branch.data["forced"], branch.data["commit_count"]) == (False, 2)
    assert [c["author"] for c in branch.data["commits"]] == ["Emma Example", "Build Bot"]
    assert branch.data["commits"][0]["message"] == "Validate card expiry"
    assert branch.metadata == {"event": "repo:push", "action": None, "actor": "emma"}
    assert (tag.ref, tag.data["created"], tag.data["tag"]) == ("refs/tags/v2.4.0", True, True)


def test_bitbucket_cloud_pull_requests_and_reviews() -> None:
    created = only("bitbucket/pullrequest_created.json")
    assert (created.type, created.project, created.ref) == (
        "pull_request",
        PAYMENTS,
        "refs/heads/feature/expiry",
    )
    assert created.commit_sha == "d3022fc0ca3d"
    assert (created.data["number"], created.data["merged"]) == (42, False)
    merged = only("bitbucket/pullrequest_fulfilled.json")
    assert (merged.data["merged"], merged.data["action"]) == (True, "fulfilled")

    approved = only("bitbucket/pullrequest_approved.json")
    assert (approved.type, approved.data["state"], approved.data["reviewer"]) == (
        "code_review",
        "approved",
        "ravi",
    )
    changes = only("bitbucket/pullrequest_changes_request_created.json")
    assert changes.data["state"] == "changes_requested"


def test_bitbucket_cloud_commit_status() -> None:
    running = only("bitbucket/repo_commit_status_created.json")
    assert running.commit_sha == "d3022fc0ca3d4f3b9e0a1b2c3d4e5f6a7b8c9d0e"  # from links.commit
    assert (running.data["status"], running.data["result"]) == ("INPROGRESS", "running")
    done = only("bitbucket/repo_commit_status_updated.json")
    assert (done.data["result"], done.ref) == ("success", "refs/heads/feature/expiry")


def test_bitbucket_data_center_refs_changed() -> None:
    update, delete = drafts_for("bitbucket/dc_repo_refs_changed.json")
    assert (update.project, update.ref) == (LEDGER, "refs/heads/main")
    assert update.commit_sha == "32a0b8a740c2963c6f56bd8baf3dc05683d299e0"
    assert update.metadata["actor"] == "jdoe"
    assert (delete.data["deleted"], delete.commit_sha) == (True, None)


def test_bitbucket_data_center_pull_requests_and_reviews() -> None:
    opened = only("bitbucket/dc_pr_opened.json")
    assert (opened.type, opened.project, opened.ref) == (
        "pull_request",
        LEDGER,
        "refs/heads/feature/negatives",
    )
    assert opened.data["created_at"] == "2024-05-03T10:00:00+00:00"
    merged = only("bitbucket/dc_pr_merged.json")
    assert merged.data["merged"] is True
    assert merged.data["merge_commit_sha"] == "cbf26be7bfc8394906abbd571498fb8d28888b58"
    declined = only("bitbucket/dc_pr_declined_personal_no_links.json")
    assert declined.project == "bitbucket-server/-jdoe/scratch"  # no self link; '~' made '-'
    approved = only("bitbucket/dc_pr_reviewer_approved.json")
    assert (approved.type, approved.data["state"], approved.data["reviewer"]) == (
        "code_review",
        "approved",
        "tux",
    )
    needs_work = only("bitbucket/dc_pr_reviewer_needs_work.json")
    assert (needs_work.data["state"], needs_work.data["raw_state"]) == (
        "changes_requested",
        "NEEDS_WORK",
    )


#: Bitbucket events without a fixture of their own, and a fixture of the same shape.
BITBUCKET_STAND_INS: dict[str, tuple[str, str]] = {
    "pullrequest:updated": ("bitbucket/pullrequest_created.json", "pull_request"),
    "pullrequest:rejected": ("bitbucket/pullrequest_created.json", "pull_request"),
    "pullrequest:unapproved": ("bitbucket/pullrequest_approved.json", "code_review"),
    "pullrequest:changes_request_removed": (
        "bitbucket/pullrequest_changes_request_created.json",
        "code_review",
    ),
    "pr:from_ref_updated": ("bitbucket/dc_pr_opened.json", "pull_request"),
    "pr:modified": ("bitbucket/dc_pr_opened.json", "pull_request"),
    "pr:deleted": ("bitbucket/dc_pr_opened.json", "pull_request"),
    "pr:reviewer:unapproved": ("bitbucket/dc_pr_reviewer_approved.json", "code_review"),
    "pr:reviewer:changes_requested": ("bitbucket/dc_pr_reviewer_needs_work.json", "code_review"),
}


@pytest.mark.parametrize("event", sorted(BITBUCKET_STAND_INS))
def test_bitbucket_events_on_stand_in_payloads(event: str) -> None:
    name, kind = BITBUCKET_STAND_INS[event]
    drafts = bitbucket.normalize(event, load(name))
    assert_valid(drafts)
    assert [d.type for d in drafts] == [kind]
    assert drafts[0].metadata["event"] == event


# ── CI/CD ───────────────────────────────────────────────────────────────────────────


def test_jenkins_completed_build() -> None:
    build = only("cicd/jenkins_completed.json")
    assert (build.type, build.source) == ("build", "jenkins")
    assert build.project == "github.com/acme/payment-service"  # from build.scm.url
    assert build.commit_sha == "4d6f9b4ec0d1b2a3c4d5e6f708192a3b4c5d6e7f"
    assert build.ref == "refs/heads/main"  # origin/main
    data = build.data
    assert (data["status"], data["result"], data["phase"]) == ("UNSTABLE", "failure", "COMPLETED")
    assert (data["run_number"], data["queue_id"]) == (57, 1311)
    assert data["duration_seconds"] == 252.345
    assert data["started_at"] == "2024-05-03T10:00:00+00:00"
    assert data["test_summary"]["failed"] == 1
    assert data["url"] == "https://ci.acme.example/job/payment-service/57/"
    assert "parameters" not in data  # build parameters may hold secrets


def test_jenkins_project_from_scm_url_forms() -> None:
    finalized = only("cicd/jenkins_finalized.json")
    assert finalized.project == "gitlab.com/acme/platform/ledger-api"  # git@host:path form
    assert finalized.ref == "refs/heads/release/2.4"  # refs/remotes/origin/release/2.4
    assert finalized.data["result"] == "success"
    dc = only("cicd/jenkins_bitbucket_dc.json")
    assert dc.project == "bitbucket.acme.example/plat/ledger-api"  # /scm/ dropped
    other = only("cicd/jenkins_other_scm_explicit_project.json")
    assert other.project == "example.org/acme/tools"  # not an SCM host: explicit project
    assert other.data["result"] == "cancelled"
    payload = load("cicd/jenkins_other_scm_explicit_project.json")
    del payload["project"]
    assert cicd.normalize("build", payload)[0].project is None


def test_jenkins_only_finished_phases_make_evidence() -> None:
    payload = load("cicd/jenkins_completed.json")
    for phase, count in [("QUEUED", 0), ("STARTED", 0), ("COMPLETED", 1), ("FINALIZED", 1)]:
        payload["build"]["phase"] = phase
        assert len(cicd.normalize("build", payload)) == count
    del payload["build"]["phase"]
    assert len(cicd.normalize("build", payload)) == 1


def test_generic_build_notifications() -> None:
    success = only("cicd/generic_success.json")
    assert (success.source, success.project) == ("buildkite", "github.com/acme/payment-service")
    assert success.commit_sha == "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"  # lower-cased
    assert success.ref == "refs/heads/main"
    assert (success.data["result"], success.data["run_id"], success.data["duration_seconds"]) == (
        "success",
        8812,
        431.5,
    )
    assert success.data["environment"] == "production"
    assert success.metadata["actor"] == "emma"

    failed = only("cicd/generic_failed_tag.json")
    assert (failed.source, failed.ref) == ("cicd", "refs/tags/v2.4.0")
    assert failed.project == "gitlab.com/acme/platform/ledger-api"  # a URL as project
    assert (failed.data["name"], failed.data["result"], failed.data["run_id"]) == (
        "release-build",
        "failure",
        311,
    )

    odd = only("edge/cicd_wrong_types.json")
    assert (odd.source, odd.project, odd.commit_sha, odd.ref) == ("cicd", None, None, None)


def test_cicd_dedupe_keys() -> None:
    assert (
        cicd.dedupe_key(load("cicd/jenkins_completed.json")) == "payment-service:57:1311:COMPLETED"
    )
    assert (
        cicd.dedupe_key(load("cicd/jenkins_finalized.json")) == "payment-service:58:1311:FINALIZED"
    )
    assert cicd.dedupe_key(load("cicd/generic_success.json")) == "bk-01HXA7G1Q2"
    assert cicd.dedupe_key({"id": 17, "status": "ok"}) == "17"
    assert cicd.dedupe_key(load("cicd/generic_failed_tag.json")) is None
    assert cicd.dedupe_key({"name": "x", "build": {"phase": "COMPLETED"}}) is None
    assert cicd.dedupe_key({"name": "x", "build": {"number": 3}}) == "x:3::"
    for odd in (None, [], "text", {"build": "string"}, {"id": {"nested": 1}}):
        assert cicd.dedupe_key(odd) is None


# ── shared normalisations ───────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("success", "success"),
        ("SUCCESSFUL", "success"),
        ("passed", "success"),
        ("failure", "failure"),
        ("failed", "failure"),
        ("FAILURE", "failure"),
        ("UNSTABLE", "failure"),
        ("timed_out", "failure"),
        ("error", "failure"),
        ("cancelled", "cancelled"),
        ("canceled", "cancelled"),
        ("ABORTED", "cancelled"),
        ("STOPPED", "cancelled"),
        ("skipped", "skipped"),
        ("NOT_BUILT", "skipped"),
        ("in_progress", "running"),
        ("INPROGRESS", "running"),
        ("running", "running"),
        ("queued", "pending"),
        ("created", "pending"),
        ("manual", "pending"),
        ("waiting_for_resource", "pending"),
        ("action_required", "pending"),
        ("neutral", "neutral"),
        ("something-new", "neutral"),
        (None, None),
        (7, None),
    ],
)
def test_result_normalization(raw: Any, expected: str | None) -> None:
    assert common.result(raw) == expected


def test_conclusion_wins_over_status() -> None:
    assert common.result("success", "completed") == "success"
    assert common.result(None, "in_progress") == "running"


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://github.com/Acme/Repo.git", "github.com/acme/repo"),
        ("git@github.com:Acme/Repo.git", "github.com/acme/repo"),
        ("ssh://git@gitlab.example.com:2222/g/sub/p.git", "gitlab.example.com/g/sub/p"),
        ("https://user:pw@bitbucket.org/team/repo", "bitbucket.org/team/repo"),
        ("https://host.example", None),
        ("not a url", None),
    ],
)
def test_slug_from_url(url: str, slug: str | None) -> None:
    assert common.slug_from_url(url) == slug


def test_sha_and_ref_helpers() -> None:
    assert common.sha("ABCDEF1") == "abcdef1"
    assert common.sha("0" * 40) is None
    assert common.sha("abc") is None and common.sha("g" * 40) is None and common.sha(12) is None
    assert common.branch_ref("main") == "refs/heads/main"
    assert common.branch_ref("refs/pull/1/merge") == "refs/pull/1/merge"
    assert common.branch_ref("bad\nname") is None
    assert common.branch_ref("x" * 300) is None


def test_huge_pushes_stay_within_the_evidence_limit() -> None:
    payload = load("github/push.branch.json")
    commit = payload["commits"][0]
    payload["commits"] = [
        {**commit, "message": "m" * 20_000 + "\nbody", "id": f"{i:040x}"} for i in range(3000)
    ]
    (draft,) = github.normalize("push", payload)
    assert_valid([draft])
    assert draft.data["commit_count"] == len(draft.data["commits"]) == common.MAX_COMMITS
    assert len(draft.data["commits"][0]["message"]) == common.MAX_TEXT


# ── robustness: payloads with parts removed or replaced ─────────────────────────────

REPLACEMENTS: list[Any] = [None, "", "junk", 7, -1.5, True, [], {}, ["x"]]


def _variants(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Each top-level key deleted or replaced, and each second-level key set to None/junk."""
    variants: list[dict[str, Any]] = []
    for key, value in payload.items():
        variants.append({k: v for k, v in payload.items() if k != key})
        variants.extend({**payload, key: replacement} for replacement in REPLACEMENTS)
        if isinstance(value, dict):
            for inner in value:
                for replacement in (None, "junk", {}):
                    variants.append({**payload, key: {**value, inner: replacement}})
    return variants


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_no_exception_on_damaged_payloads(name: str) -> None:
    provider, event, _ = FIXTURES[name]
    module = MAPPINGS[provider]
    for variant in _variants(load(name)):
        assert_valid(module.normalize(event, variant))


@pytest.mark.parametrize("provider", sorted(MAPPINGS))
def test_no_exception_on_non_object_payloads(provider: str) -> None:
    module = MAPPINGS[provider]
    for event in [*module.EVENTS, *module.PING_EVENTS, "unknown"]:
        for payload in (None, [], "text", 3, {}, {"repository": None}):
            assert module.normalize(event, payload) == []

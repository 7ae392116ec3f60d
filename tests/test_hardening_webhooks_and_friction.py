"""Issue #9, item 9 (webhook replays) and the new-user friction found on the same walk,
each against a live `arcos serve`.

Signed deliveries are deduplicated on what their signature covers; the unsigned headers a
replayer can change (Idempotency-Key, X-Gitlab-Event-UUID, X-GitHub-Delivery, the event
header) never make a captured body new evidence when ARCOS can tell.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import httpx
import pytest
from conftest import REPO_ROOT, LiveServer, issue_token_with_cli, start_server, stop_server
from stall_probe import HealthProbe
from test_webhooks import BITBUCKET_PUSH as BITBUCKET_CLOUD_PUSH
from test_webhooks import GITLAB_PUSH

from arcos.domains import REGISTRY
from arcos.settings import Settings, SettingsError

GITHUB_SECRET = "github-secret-0123456789abcdef"
BITBUCKET_SECRET = "bitbucket-secret-0123456789abcdef"
GITLAB_KEY = "whsec_" + base64.b64encode(b"s" * 32).decode()
SIGNING_ENV = {
    "ARCOS_GITLAB_WEBHOOK_SIGNING_KEY": GITLAB_KEY,
    "ARCOS_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET,
    "ARCOS_BITBUCKET_WEBHOOK_SECRET": BITBUCKET_SECRET,
}
GITHUB_PUSH = {
    "ref": "refs/heads/main", "before": "0" * 40, "after": "a" * 40, "forced": False,
    "repository": {"full_name": "Acme/App", "name": "App", "owner": {"login": "Acme"}},
    "pusher": {"name": "octocat"}, "sender": {"login": "octocat"},
    "commits": [], "head_commit": {"id": "a" * 40, "message": "Fix"},
}
BITBUCKET_DC_MERGED = {
    "eventKey": "pr:merged", "date": "2026-11-25T10:00:00+0000",
    "actor": {"name": "admin"},
    "pullRequest": {"id": 7, "title": "Fix", "state": "MERGED",
                    "fromRef": {"id": "refs/heads/fix", "latestCommit": "c" * 40,
                                "repository": {"slug": "repo", "project": {"key": "PRJ"}}},
                    "toRef": {"id": "refs/heads/main", "latestCommit": "d" * 40,
                              "repository": {"slug": "repo", "project": {"key": "PRJ"}}}},
}
DELIVERIES = "{ webhookDeliveries(first: 100) { nodes { deliveryId event dedupeKey } } }"


@pytest.fixture
def serve(database_url: str, tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start live servers over the test's store with extra settings; all stopped at the end."""
    servers: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        server = start_server(database_url, tmp_path / f"server{len(servers)}.log",
                              extra_env=env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        stop_server(server)


def graphql(server: LiveServer, query: str, token: str | None = None) -> dict:
    response = httpx.post(f"{server.http_url}/graphql", json={"query": query}, timeout=30,
                          headers={"authorization": f"Bearer {token or server.token}"})
    assert response.status_code == 200, response.text
    return response.json()


def deliveries(server: LiveServer) -> list[dict]:
    return graphql(server, DELIVERIES)["data"]["webhookDeliveries"]["nodes"]


def evidence_total(server: LiveServer) -> int:
    response = httpx.get(f"{server.http_url}/api/v3/evidence", headers=server.auth_headers)
    return response.json()["totalCount"]


def standard_headers(body: bytes, message_id: str, timestamp: int) -> dict[str, str]:
    """Standard Webhooks signing, as GitLab 19 does it: the id, the time and the body."""
    key = base64.b64decode(GITLAB_KEY.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {"content-type": "application/json", "webhook-id": message_id,
            "webhook-timestamp": str(timestamp), "webhook-signature": f"v1,{signature}"}


def hub_signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def fresh_gitlab_headers(event: str = "Push Hook") -> dict[str, str]:
    """The unsigned headers a replayer is free to change on every attempt."""
    return {"x-gitlab-event": event, "idempotency-key": str(uuid.uuid4()),
            "x-gitlab-event-uuid": str(uuid.uuid4())}


async def post_concurrently(url: str, attempts: list[tuple[bytes, dict[str, str]]]
                            ) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=60) as http:
        return await asyncio.gather(*(http.post(url, content=body, headers=headers)
                                      for body, headers in attempts))


# Item 9: GitLab ----------------------------------------------------------------------------


def test_signed_gitlab_bytes_resent_with_fresh_unsigned_headers_are_one_delivery(serve):
    server = serve(**SIGNING_ENV)
    url = f"{server.http_url}/api/webhooks/gitlab"
    body = json.dumps(GITLAB_PUSH).encode()
    signed = standard_headers(body, "msg-replayed", int(time.time()))
    first = httpx.post(url, content=body, headers={**signed, **fresh_gitlab_headers()})
    assert first.status_code == 200, first.text
    assert first.json()["duplicate"] is False
    sequential = [httpx.post(url, content=body, headers={**signed, **fresh_gitlab_headers()})
                  for _ in range(3)]
    with HealthProbe(server.http_url) as probe:
        concurrent = asyncio.run(post_concurrently(
            url, [(body, {**signed, **fresh_gitlab_headers("System Hook")}) for _ in range(8)]
        ))
    probe.assert_responsive()
    for response in (*sequential, *concurrent):
        assert response.status_code == 200, response.text
        assert response.json()["duplicate"] is True
        assert response.json()["delivery"]["deliveryId"] == first.json()["delivery"]["deliveryId"]
    recorded = deliveries(server)
    assert [d["dedupeKey"] for d in recorded] == ["msg-replayed"]
    assert evidence_total(server) == 1


def test_signed_gitlab_event_header_must_agree_with_the_signed_object_kind(serve):
    server = serve(**SIGNING_ENV)
    url = f"{server.http_url}/api/webhooks/gitlab"
    body = json.dumps(GITLAB_PUSH).encode()
    now = int(time.time())
    for number, event in enumerate(("Merge Request Hook", "Pipeline Hook", "Tag Push Hook")):
        headers = {**standard_headers(body, f"msg-{number}", now), "x-gitlab-event": event}
        response = httpx.post(url, content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert "object_kind 'push'" in response.json()["errors"][0]["message"]
    assert deliveries(server) == []
    # A system hook routes on the body's own kind, so it fits; so does the body's own event.
    for number, event in enumerate(("System Hook", "Push Hook")):
        body = json.dumps({**GITLAB_PUSH, "after": str(number) * 40}).encode()
        headers = {**standard_headers(body, f"ok-{number}", now), "x-gitlab-event": event}
        assert httpx.post(url, content=body, headers=headers).status_code == 200
    assert evidence_total(server) == 2


def test_standard_webhooks_timestamp_tolerance_is_enforced_both_ways(serve):
    server = serve(**SIGNING_ENV)
    url = f"{server.http_url}/api/webhooks/gitlab"
    body = json.dumps(GITLAB_PUSH).encode()
    for offset in (-301 - 5, 301 + 5):  # a little past the ±5 minutes
        stamp = int(time.time()) + offset
        headers = {**standard_headers(body, f"old-{offset}", stamp), "x-gitlab-event": "Push Hook"}
        response = httpx.post(url, content=body, headers=headers)
        assert response.status_code == 401, response.text
        assert "5 minutes" in response.json()["errors"][0]["message"]
    assert deliveries(server) == []


# Item 9: Bitbucket and GitHub ---------------------------------------------------------------


def test_bitbucket_dc_event_header_must_agree_with_the_signed_event_key(serve):
    server = serve(**SIGNING_ENV)
    body = json.dumps(BITBUCKET_DC_MERGED).encode()
    headers = {"content-type": "application/json", "x-request-id": str(uuid.uuid4()),
               "x-hub-signature": hub_signature(body, BITBUCKET_SECRET)}
    url = f"{server.http_url}/api/webhooks/bitbucket"
    altered = httpx.post(url, content=body, headers={**headers, "x-event-key": "pr:declined"})
    assert altered.status_code == 400, altered.text
    assert "eventKey 'pr:merged'" in altered.json()["errors"][0]["message"]
    assert deliveries(server) == []
    honest = httpx.post(url, content=body, headers={**headers, "x-event-key": "pr:merged"})
    assert honest.status_code in (200, 202), honest.text
    assert [d["event"] for d in deliveries(server)] == ["pr:merged"]


def github_attempt(body: bytes, event: str = "push") -> tuple[bytes, dict[str, str]]:
    """A captured GitHub body with fresh unsigned headers (delivery id, event)."""
    return body, {"content-type": "application/json", "x-github-event": event,
                  "x-github-delivery": str(uuid.uuid4()), "x-github-hook-id": "42",
                  "x-hub-signature-256": hub_signature(body, GITHUB_SECRET)}


def test_github_body_replays_are_new_deliveries_unless_a_window_is_set(serve):
    body = json.dumps(GITHUB_PUSH).encode()
    default = serve(**SIGNING_ENV)
    url = f"{default.http_url}/api/webhooks/github"
    for _ in range(2):
        assert httpx.post(url, content=body, headers=github_attempt(body)[1]).status_code == 200
    assert len(deliveries(default)) == 2  # documented: GitHub signs the body only
    stop_server(default)

    window = 12
    server = serve(**SIGNING_ENV, ARCOS_WEBHOOK_REPLAY_WINDOW_SECONDS=str(window))
    url = f"{server.http_url}/api/webhooks/github"
    body = json.dumps({**GITHUB_PUSH, "after": "f" * 40}).encode()
    started = time.monotonic()
    first = httpx.post(url, content=body, headers=github_attempt(body)[1])
    assert first.status_code == 200 and first.json()["duplicate"] is False
    first_id = first.json()["delivery"]["deliveryId"]
    with HealthProbe(server.http_url) as probe:
        replays = asyncio.run(post_concurrently(url, [
            github_attempt(body, event)
            for event in ("push", "push", "pull_request", "release") * 3
        ]))
    probe.assert_responsive()
    assert time.monotonic() - started < window, "the machine is too slow for this window"
    for response in replays:
        assert response.status_code == 200, response.text
        assert response.json()["duplicate"] is True
        assert response.json()["delivery"]["deliveryId"] == first_id
    cloud = json.dumps(BITBUCKET_CLOUD_PUSH).encode()
    cloud_url = f"{server.http_url}/api/webhooks/bitbucket"
    answers = [httpx.post(cloud_url, content=cloud, headers={
        "content-type": "application/json", "x-event-key": "repo:push",
        "x-request-uuid": str(uuid.uuid4()),
        "x-hub-signature": hub_signature(cloud, BITBUCKET_SECRET)}).json()["duplicate"]
        for _ in range(3)]
    assert answers == [False, True, True]

    time.sleep(max(0.0, window + 0.5 - (time.monotonic() - started)))
    later = httpx.post(url, content=body, headers=github_attempt(body)[1])
    assert later.status_code == 200 and later.json()["duplicate"] is False
    again = httpx.post(url, content=body, headers=github_attempt(body)[1])
    assert again.json()["duplicate"] is True
    assert again.json()["delivery"]["deliveryId"] == later.json()["delivery"]["deliveryId"]
    assert len(deliveries(server)) == 2 + 2 + 1  # two from the first server on this store


async def test_the_scheduled_sweep_keeps_marks_inside_the_window(settings):
    """The app's housekeeping sweeps replay marks with the configured window, not with
    none (as the CI/CD deliveries that are never replay-guarded would suggest): the signed
    bodies' marks survive it, and a replay after the sweep is still a duplicate."""
    from conftest import running_app

    configured = settings.replace(github_webhook_secret=GITHUB_SECRET,
                                  webhook_replay_window_seconds=3600)
    async with running_app(configured) as running, running.client() as http:
        body = json.dumps(GITHUB_PUSH).encode()
        first = await http.post("/api/webhooks/github", content=body,
                                headers=github_attempt(body)[1])
        assert first.json()["duplicate"] is False
        await running.app.state.housekeeping.run_once()
        replay = await http.post("/api/webhooks/github", content=body,
                                 headers=github_attempt(body)[1])
        assert replay.json()["duplicate"] is True


def test_replay_window_setting_refuses_negative_values():
    with pytest.raises(SettingsError, match="ARCOS_WEBHOOK_REPLAY_WINDOW_SECONDS"):
        Settings(webhook_replay_window_seconds=-1).validate()


# Friction: a submitter reads its own upload jobs --------------------------------------------


def test_a_write_only_token_reads_its_own_jobs_and_no_one_elses(live_server):
    server = live_server
    ci = issue_token_with_cli(server.database_url, "ci-main", "evidence:write")
    other = issue_token_with_cli(server.database_url, "ci-other", "evidence:write")
    reader = issue_token_with_cli(server.database_url, "dashboard", "evidence:read")
    build = json.dumps({"status": "success", "duration_seconds": 3}).encode()
    upload = httpx.post(f"{server.http_url}/api/cicd/build?project=github.com/acme/app",
                        content=build, headers={"authorization": f"Bearer {ci}",
                                                "content-type": "application/json"})
    assert upload.status_code == 201, upload.text
    job_id = upload.json()["job_id"]
    status_url = f"{server.http_url}/api/cicd/status/{job_id}"

    own = httpx.get(status_url, headers={"authorization": f"Bearer {ci}"})
    assert own.status_code == 200, own.text
    assert own.json()["job"]["status"] == "SUCCEEDED"
    assert httpx.get(status_url, headers={"authorization": f"Bearer {reader}"}).status_code == 200
    foreign = httpx.get(status_url, headers={"authorization": f"Bearer {other}"})
    assert foreign.status_code == 404, foreign.text  # as absent as an unknown job
    query = f'{{ ingestionJob(jobId: "{job_id}") {{ status }} }}'
    assert graphql(server, query, other)["data"]["ingestionJob"] is None
    assert graphql(server, query, ci)["data"]["ingestionJob"]["status"] == "SUCCEEDED"
    # Reaching the evidence itself still needs evidence:read.
    deeper = graphql(server, f'{{ ingestionJob(jobId: "{job_id}") {{ evidence {{ id }} }} }}', ci)
    assert deeper["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    unrelated = issue_token_with_cli(server.database_url, "hooks", "webhooks:admin")
    assert httpx.get(status_url,
                     headers={"authorization": f"Bearer {unrelated}"}).status_code == 403


# Friction: JSON bodies need Content-Type: application/json ----------------------------------


def test_every_json_body_route_refuses_a_body_without_content_type(sqlite_live_server):
    server = sqlite_live_server
    json_routes = [route.path for route in REGISTRY.rest_routes
                   if route.method == "POST" and route.body_input and not route.raw_body_types]
    assert len(json_routes) >= 5
    body = json.dumps({"type": "build", "source": "ci", "data": {"status": "success"}}).encode()
    for path in [*json_routes, "/graphql", "/api/graphql"]:
        for content_type in (None, "", "text/plain", "application/x-www-form-urlencoded"):
            headers = dict(server.auth_headers)
            if content_type is not None:
                headers["content-type"] = content_type
            response = httpx.post(f"{server.http_url}{path}", content=body, headers=headers)
            assert response.status_code == 415, (path, content_type, response.text)
            assert "application/json" in response.text
    assert evidence_total(server) == 0


# Friction: examples installable, reading ARCOS_TOKEN, valid secrets --------------------------


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\[<>=!~;\s]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_examples_needs_are_an_installable_extra_the_readme_names():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    offered = {_requirement_name(r) for r in (*project["dependencies"],
                                              *project["optional-dependencies"]["examples"])}
    distributions = packages_distributions()
    needed = set()
    for script in (REPO_ROOT / "examples").glob("*.py"):
        for node in ast.walk(ast.parse(script.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     else [])
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "__future__":
                    needed.update(_requirement_name(d) for d in distributions[top])
    assert needed and needed <= offered, f"examples import {needed - offered} uninstalled"
    readme = (REPO_ROOT / "README.md").read_text()
    assert "pip install -e '.[examples]'" in readme


def test_example_scripts_take_the_token_from_arcos_token(sqlite_live_server):
    server = sqlite_live_server
    env = {**os.environ, "ARCOS_TOKEN": server.token}
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "submit_evidence.py"),
         "--url", f"{server.http_url}/graphql", "--type", "build", "--source", "ci",
         "--data", '{"status": "success"}'],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["submittedBy"].startswith("admin-")
    sys.path.insert(0, str(REPO_ROOT / "examples"))
    try:
        import watch_evidence
    finally:
        sys.path.pop(0)
    os.environ["ARCOS_TOKEN"], saved = "arcos_from_env", os.environ.get("ARCOS_TOKEN")
    try:
        assert watch_evidence.parse_args([]).token == "arcos_from_env"
    finally:
        if saved is None:
            del os.environ["ARCOS_TOKEN"]
        else:
            os.environ["ARCOS_TOKEN"] = saved
    readme = (REPO_ROOT / "README.md").read_text()
    assert "export ARCOS_TOKEN=" in readme.split("## REST")[0]  # where a token is first made


def test_readme_webhook_example_uses_a_secret_arcos_accepts(serve):
    readme = (REPO_ROOT / "README.md").read_text()
    example = readme.split("`examples/send_webhook.py`", 1)[1].split("```", 2)[1]
    for value in re.findall(r"ARCOS_\w+_WEBHOOK_\w+=([^\s\"$]+)", example):
        assert len(value) >= 16, f"the README's example secret {value!r} is refused"
    with pytest.raises(SettingsError, match=r"ARCOS_GITHUB_WEBHOOK_SECRET.*16"):
        Settings(github_webhook_secret="change-me").validate()
    server = serve(**SIGNING_ENV)
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "send_webhook.py"),
         "--url", f"{server.http_url}/api/webhooks/github"],
        env={**os.environ, "ARCOS_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_pipeline_example_names_the_tool_it_lacks(tmp_path):
    script = str(REPO_ROOT / "examples" / "ci_pipeline.sh")
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    env = {"PATH": str(empty_path), "ARCOS_TOKEN": "arcos_x", "PYTHON": sys.executable,
           "HOME": str(tmp_path)}
    no_curl = subprocess.run(["/bin/bash", script], env=env, capture_output=True, text=True,
                             timeout=60, check=False)
    assert no_curl.returncode != 0
    assert "needs curl" in no_curl.stderr, no_curl.stderr

    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True,
                   timeout=120)
    env = {**os.environ, "ARCOS_TOKEN": "arcos_x", "PYTHON": str(bare / "bin" / "python")}
    no_tools = subprocess.run(["bash", script], env=env, capture_output=True, text=True,
                              timeout=60, check=False)
    assert no_tools.returncode != 0
    assert "pip install -e '.[test]'" in no_tools.stderr, no_tools.stderr
    for module in ("pytest", "coverage", "ruff", "bandit"):
        assert module in no_tools.stderr
    assert "running tests" not in no_tools.stdout  # it stopped before doing anything


# Friction gone: GraphiQL's assets come from this server, and the README says so -------------


def test_graphiql_loads_nothing_from_another_host_and_the_readme_says_so(sqlite_live_server):
    page = httpx.get(f"{sqlite_live_server.http_url}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert not re.findall(r"(?:src|href)=\"https?://", page.text), page.text
    using_it = (REPO_ROOT / "README.md").read_text().split("## Using it", 1)[1].split("\n## ")[0]
    assert "works offline" in using_it and "ARCOS_GRAPHIQL_ASSETS_URL" in using_it

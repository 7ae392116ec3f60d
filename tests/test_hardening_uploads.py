"""Uploads against a live server (issue #9, items 2, 6 and 7): gzip handled in linear time
and only after authentication, bodies never read for a caller that is refused, reports
parsed off the event loop, while a second client keeps measuring /healthz."""

from __future__ import annotations

import gzip
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, issue_token_with_cli, start_server, stop_server
from stall_probe import HealthProbe, memory_kib, peak_growth_mib

#: A body of this many tiny gzip members took the old `_gunzip` seconds (it is quadratic).
TINY_MEMBER = gzip.compress(b"x")
MANY_MEMBERS = TINY_MEMBER * (2_000_000 // len(TINY_MEMBER))
GITHUB_SECRET = "s3cret-for-the-hardening-tests-0123456789"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A live server with a GitHub secret and a CI/CD token set, on SQLite."""
    live = start_server(
        f"sqlite://{tmp_path / 'arcos.db'}", tmp_path / "server.log",
        {"ARCOS_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET},
    )
    try:
        yield live
    finally:
        stop_server(live)


def status_without_sending_the_body(
    server: LiveServer, path: str, headers: dict[str, str], declared: int, timeout: float = 10
) -> int:
    """Send the headers of a `declared`-byte POST and only its first 64 KiB, then wait for
    the answer: a server that refuses before reading the body answers; one that reads
    (buffers) the body first never does, and this fails."""
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
             f"Content-Length: {declared}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        connection.sendall(b"x" * 65536)
        try:
            head = connection.recv(4096)
        except TimeoutError:
            pytest.fail(f"POST {path}: no answer within {timeout} s without the rest of the "
                        "body: the server waited to read a body it was going to refuse")
    assert head.startswith(b"HTTP/1.1 "), head[:100]
    return int(head.split()[1])


def stream_body(server: LiveServer, path: str, size: int, headers: dict[str, str]) -> None:
    """POST `size` bytes, generated as they are sent (the test never holds them); a server
    that answers and closes early ends the upload, which is fine."""
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
             f"Content-Length: {size}"] + [f"{name}: {value}" for name, value in headers.items()]
    chunk = b"<testsuite>" + b" " * (1024 * 1024 - 11)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as connection:
            connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            for _ in range(size // len(chunk)):
                connection.sendall(chunk)
            connection.recv(4096)
    except OSError:
        pass  # refused and closed before the whole body went out


def sarif_log(runs: int, results_per_run: int, active_every: int = 1) -> bytes:
    """A SARIF log of `runs` tools with `results_per_run` results each; all but every
    `active_every`-th result are suppressed in source (parsed and counted, not tracked)."""
    def result(tool: int, n: int) -> dict:
        item = {
            "ruleId": f"R{n % 20:02d}", "level": "warning",
            "message": {"text": f"finding {n} of tool {tool} in module {n % 300}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f"pkg/module_{n % 300}.py"},
                "region": {"startLine": n % 900 + 1}}}],
            "partialFingerprints": {"primaryLocationLineHash": f"{tool:04x}{n:012x}:1"},
        }
        if n % active_every:
            item["suppressions"] = [{"kind": "inSource"}]
        return item

    def run(tool: int) -> dict:
        rules = [{"id": f"R{n:02d}", "defaultConfiguration": {"level": "warning"}}
                 for n in range(20)]
        return {"tool": {"driver": {"name": f"lint{tool}", "version": "1.0", "rules": rules}},
                "results": [result(tool, n) for n in range(results_per_run)]}

    return json.dumps({"version": "2.1.0", "runs": [run(tool) for tool in range(runs)]}).encode()


def test_anonymous_many_member_gzip_is_refused_without_decoding(server):
    """Item 2: the old server sniffed (gunzipped, quadratically) before it checked the
    token, so an anonymous 2 MB body blocked it for seconds before its 401."""
    with HealthProbe(server.http_url) as probe:
        for path in ("/api/cicd/test", "/api/security/scan"):
            response = httpx.post(f"{server.http_url}{path}", content=MANY_MEMBERS,
                                  headers={"content-type": "application/gzip"}, timeout=120)
            assert response.status_code == 401, response.text
    probe.assert_responsive()


def test_authenticated_many_member_gzip_is_refused_by_the_member_limit(server, tmp_path):
    with HealthProbe(server.http_url) as probe:
        response = httpx.post(f"{server.http_url}/api/cicd/test", content=MANY_MEMBERS,
                              headers={**server.auth_headers, "content-type": "application/gzip"},
                              timeout=120)
    probe.assert_responsive()
    assert response.status_code == 413, response.text
    assert "ARCOS_MAX_GZIP_MEMBERS" in response.text
    # With the limit raised past the body, it is inflated in linear time, off the loop.
    roomy = start_server(server.database_url, tmp_path / "roomy.log",
                         {"ARCOS_MAX_GZIP_MEMBERS": "10000000"}, token=server.token)
    try:
        with HealthProbe(roomy.http_url) as probe:
            response = httpx.post(
                f"{roomy.http_url}/api/cicd/test", content=MANY_MEMBERS,
                headers={**roomy.auth_headers, "content-type": "application/gzip"}, timeout=120,
            )
        probe.assert_responsive()
        assert response.status_code == 422, response.text  # inflated: 'xxx…' is no report
    finally:
        stop_server(roomy)


@pytest.mark.parametrize(("path", "headers", "declared"), [
    ("/api/cicd/test", {"content-type": "application/xml"}, 40_000_000),
    ("/api/security/scan", {"authorization": "Bearer arcos_not_a_real_token"}, 40_000_000),
    ("/api/v1/evidence", {"content-type": "application/json"}, 9_000_000),
    ("/graphql", {"content-type": "application/json",
                  "authorization": "Bearer arcos_not_a_real_token"}, 9_000_000),
    ("/graphql", {"content-type": "multipart/form-data; boundary=x"}, 9_000_000),
    ("/api/webhooks/github", {"content-type": "application/json",
                              "x-github-event": "push", "x-github-delivery": "1"}, 20_000_000),
    ("/api/webhooks/gitlab", {"content-type": "application/json",
                              "x-gitlab-event": "Push Hook"}, 20_000_000),
    ("/api/webhooks/cicd", {"content-type": "application/json"}, 20_000_000),
], ids=["cicd-anonymous", "security-bad-token", "v1-write-anonymous", "graphql-bad-token",
        "graphql-anonymous-upload", "github-unsigned", "gitlab-no-secret", "cicd-hook-no-token"])
def test_refused_callers_are_answered_before_their_body_is_read(server, path, headers, declared):
    """Item 7, the general rule: a bad token, or no token where one is needed, is refused
    from the headers; the old server first read the whole body (up to its limit)."""
    assert status_without_sending_the_body(server, path, headers, declared) == 401


def test_token_without_the_scope_is_refused_before_the_body(server):
    reader = issue_token_with_cli(server.database_url, "reader", "evidence:read")
    status = status_without_sending_the_body(
        server, "/api/security/scan", {"authorization": f"Bearer {reader}"}, 40_000_000)
    assert status == 403


def test_anonymous_large_uploads_cost_no_memory(server):
    """16 anonymous 50 MB POSTs once took 2 GB to be told 401; now nothing is buffered."""
    before = memory_kib(server.process.pid)
    senders = [threading.Thread(target=stream_body, args=(
        server, path, 40 * 1024 * 1024, {"content-type": "application/xml"}))
        for path in ("/api/cicd/test", "/api/security/scan") * 4]
    with HealthProbe(server.http_url) as probe:
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=120)
    probe.assert_responsive()
    growth = peak_growth_mib(server.process.pid, before)
    assert growth < 16, f"the server's peak memory grew {growth:.0f} MiB for refused uploads"


def test_a_large_sarif_is_parsed_off_the_event_loop_and_stored_whole(server):
    """Item 6: a SARIF upload within the limits stalled every other request while it was
    parsed; now /healthz answers throughout, and every finding is stored with its evidence."""
    runs, per_run, active_every = 8, 5_000, 10
    body = gzip.compress(sarif_log(runs, per_run, active_every))
    with HealthProbe(server.http_url) as probe:
        response = httpx.post(
            f"{server.http_url}/api/security/scan", content=body,
            params={"project": "github.com/acme/big"},
            headers={**server.auth_headers, "content-type": "application/gzip"}, timeout=300,
        )
    assert response.status_code == 201, response.text[:500]
    probe.assert_responsive()
    tracked = runs * per_run // active_every
    uploaded = response.json()
    assert uploaded["findings"]["new"] == tracked
    measured = {metric["name"]: metric["value"] for metric in uploaded["metrics"]}
    assert measured["findings.suppressed"] == runs * per_run - tracked  # counted, all of them
    database = server.database_url.removeprefix("sqlite://")
    with closing(sqlite3.connect(database)) as store:
        stored = store.execute("SELECT COUNT(*) FROM finding").fetchone()[0]
        jobs = store.execute("SELECT status FROM ingestion_job").fetchall()
    assert stored == tracked
    assert jobs == [("succeeded",)]


def test_uploads_beyond_the_parse_queue_are_refused_with_retry_after(tmp_path):
    live = start_server(f"sqlite://{tmp_path / 'arcos.db'}", tmp_path / "server.log",
                        {"ARCOS_PARSE_WORKERS": "1", "ARCOS_PARSE_QUEUE": "0"})
    body = gzip.compress(sarif_log(4, 5_000, 100))
    answers: list[httpx.Response] = []

    def upload() -> None:
        answers.append(httpx.post(
            f"{live.http_url}/api/security/scan", content=body,
            headers={**live.auth_headers, "content-type": "application/gzip"}, timeout=300))

    try:
        uploads = [threading.Thread(target=upload) for _ in range(3)]
        for thread in uploads:
            thread.start()
            time.sleep(0.2)
        for thread in uploads:
            thread.join(timeout=300)
    finally:
        stop_server(live)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses[0] == 201 and 429 in statuses, [a.text[:200] for a in answers]
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert "ARCOS_PARSE_QUEUE" in refused.text


def test_an_unannounced_body_over_the_limit_is_cut_off_while_streaming(tmp_path):
    """Without Content-Length the limit is enforced as the route reads (nothing is
    buffered ahead of it): the upload is answered 413 once it passes the limit, and the
    spooled part is discarded."""
    spools = tmp_path / "spools"
    spools.mkdir()
    live = start_server(f"sqlite://{tmp_path / 'arcos.db'}", tmp_path / "server.log",
                        {"ARCOS_MAX_ARTIFACT_BYTES": str(3 * 512 * 1024), "TMPDIR": str(spools)})
    try:
        request = (f"POST /api/cicd/test HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\n"
                   f"Authorization: Bearer {live.token}\r\nContent-Type: application/xml\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n").encode()
        chunk = b"<testsuite>" + b" " * (64 * 1024 - 11)
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        with socket.create_connection(("127.0.0.1", live.port), timeout=30) as connection:
            connection.sendall(request)
            try:
                for _ in range(32):  # 2 MiB: past the limit, and past the in-memory part
                    connection.sendall(framed)
            except OSError:
                pass  # answered and closed before the rest went out
            head = connection.recv(4096)
        leftovers = list(spools.iterdir())  # before the server stops
    finally:
        stop_server(live)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert leftovers == [], leftovers

"""Uploads against a live server (issue #9, items 2, 6 and 7): gzip handled in linear time
and only after authentication, bodies never read for a caller that is refused, reports
parsed off the event loop and scans stored in bounded transactions, while a second client
keeps measuring /healthz."""

from __future__ import annotations

import gzip
import json
import socket
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, issue_token_with_cli, start_server, stop_server
from stall_probe import HealthProbe, memory_kib, peak_growth_mib

from arcos.formats import sarif

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


#: Severity bands of the graded scans below (GitHub's security-severity scores).
SCORES = {"critical": 9.5, "high": 8.0, "medium": 5.0, "low": 2.0}
PER_RUN = 20_000  # under GitHub's 25,000 results per run


def graded_sarif(graded: dict[str, Sequence[int]]) -> bytes:
    """One tool's SARIF log with one distinct result per number in each severity's range,
    in runs of at most PER_RUN results (all runs are the same tool, so one scope)."""
    def result(n: int, severity: str) -> dict:
        return {
            "ruleId": f"R{n % 20:02d}", "level": "warning",
            "message": {"text": f"finding {n}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f"pkg/module_{n % 300}.py"},
                "region": {"startLine": n % 900 + 1}}}],
            "partialFingerprints": {"primaryLocationLineHash": f"{n:012x}:1"},
            "properties": {"security-severity": str(SCORES[severity])},
        }

    results = [result(n, severity) for severity, numbers in graded.items() for n in numbers]
    runs = [{"tool": {"driver": {"name": "lint", "version": "1.0"}},
             "results": results[start:start + PER_RUN]}
            for start in range(0, len(results), PER_RUN)]
    return json.dumps({"version": "2.1.0", "runs": runs}).encode()


def upload_scan(server: LiveServer, log: bytes, path: str = "/api/security/scan") -> dict:
    response = httpx.post(
        f"{server.http_url}{path}", content=gzip.compress(log),
        params={"project": "github.com/acme/graded"},
        headers={**server.auth_headers, "content-type": "application/gzip"}, timeout=300,
    )
    assert response.status_code == 201, response.text[:500]
    return response.json()


def graphql(server: LiveServer, query: str, **variables: object) -> dict:
    response = httpx.post(f"{server.http_url}/graphql", json={
        "query": query, "variables": variables}, headers=server.auth_headers, timeout=60)
    assert response.status_code == 200 and "errors" not in response.json(), response.text[:500]
    return response.json()["data"]


def stored_findings(server: LiveServer) -> list[dict]:
    """Every stored finding of the project (severity, state, fingerprint), page by page."""
    query = """query($after: String) {
        findings(project: "github.com/acme/graded", first: 100, after: $after) {
        nodes { severity state fingerprint } pageInfo { hasNextPage endCursor } } }"""
    found: list[dict] = []
    after = None
    while True:
        page = graphql(server, query, after=after)["findings"]
        found += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def tally(findings: list[dict], field: str) -> Counter[str]:
    return Counter(finding[field] for finding in findings)


def test_a_scan_tracks_its_most_severe_findings_and_counts_the_rest(live_server):
    """Item 6, the store half: 80,000 distinct results (within GitHub's limits) once held
    the store's only SQLite connection, and so /healthz, for seconds in one transaction.
    Now one scan tracks ARCOS_MAX_FINDINGS_PER_SCAN (5,000) findings, the most severe,
    then by fingerprint; the metrics count all of them, a warning says what was left out,
    and later scans do not mark a finding fixed because it fell beyond the limit."""
    server = live_server
    first = {"critical": range(0, 1_000), "high": range(1_000, 4_000),
             "medium": range(4_000, 10_000), "low": range(10_000, 80_000)}
    with HealthProbe(server.http_url) as probe:
        scan = upload_scan(server, graded_sarif(first))
    probe.assert_responsive()
    measured = {metric["name"]: metric["value"] for metric in scan["metrics"]}
    assert measured["findings.total"] == 80_000
    assert [measured[f"findings.{s}"] for s in SCORES] == [1_000, 3_000, 6_000, 70_000]
    assert scan["findings"] == {"total": 80_000, "new": 5_000, "fixed": 0, "untracked": 75_000}
    assert scan["evidence"]["data"]["tracking"] == {
        "tracked": 5_000, "beyond_limit": 75_000, "limit": 5_000}
    [warning] = [text for text in scan["warnings"] if "ARCOS_MAX_FINDINGS_PER_SCAN" in text]
    assert "75,000" in warning and "5,000 most severe" in warning
    assert scan["evidence"]["data"]["warnings"] == scan["warnings"]
    # The most severe: every critical and high finding, then the mediums lowest by fingerprint.
    stored = stored_findings(server)
    assert tally(stored, "severity") == {"CRITICAL": 1_000, "HIGH": 3_000, "MEDIUM": 1_000}
    mediums = sarif.parse(graded_sarif({"medium": first["medium"]})).findings
    expected = sorted(finding.fingerprint for finding in mediums)[:1_000]
    assert sorted(f["fingerprint"] for f in stored if f["severity"] == "MEDIUM") == expected

    # 100 criticals fixed, 2,000 new ones: the stored highs and mediums fall beyond the
    # limit this time, and are still open, not fixed.
    second = {"critical": [*range(100, 1_000), *range(80_000, 82_000)],
              "high": range(1_000, 4_000), "medium": range(4_000, 10_000)}
    scan = upload_scan(server, graded_sarif(second))
    assert scan["findings"] == {"total": 11_900, "new": 2_000, "fixed": 100, "untracked": 6_900}
    assert tally(stored_findings(server), "state") == {"FIXED": 100, "OPEN": 6_900}

    # A small scan tracks everything it reports: whatever it no longer reports is fixed.
    scan = upload_scan(server, graded_sarif({"high": range(1_000, 1_500)}))
    assert scan["findings"] == {"total": 500, "new": 0, "fixed": 6_400, "untracked": 0}
    assert not any("ARCOS_MAX_FINDINGS_PER_SCAN" in text for text in scan["warnings"])
    assert tally(stored_findings(server), "state") == {"FIXED": 6_500, "OPEN": 500}


def graded_vulnerabilities(graded: dict[str, Sequence[int]]) -> bytes:
    """A CycloneDX BOM with one vulnerability of each given severity per numbered component."""
    numbered = [(n, severity) for severity, numbers in graded.items() for n in numbers]
    return json.dumps({
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "metadata": {"tools": {"components": [{"name": "scanner", "version": "1.0"}]}},
        "components": [{"type": "library", "name": f"c{n}", "version": "1.0",
                        "purl": f"pkg:pypi/c{n}@1.0", "bom-ref": f"c{n}"} for n, _ in numbered],
        "vulnerabilities": [{"id": f"CVE-2026-{10_000 + n}", "ratings": [{"severity": severity}],
                             "affects": [{"ref": f"c{n}"}]} for n, severity in numbered],
    }).encode()


def test_a_vulnerability_report_tracks_its_most_severe_findings_too(tmp_path):
    """The same limit holds for dependency audits, whose findings are tracked the same way."""
    live = start_server(f"sqlite://{tmp_path / 'arcos.db'}", tmp_path / "server.log",
                        {"ARCOS_MAX_FINDINGS_PER_SCAN": "50"})
    path = "/api/security/vulnerability"
    graded = {"critical": range(0, 10), "high": range(10, 30), "medium": range(30, 100),
              "low": range(100, 200)}
    try:
        scan = upload_scan(live, graded_vulnerabilities(graded), path)
        measured = {metric["name"]: metric["value"] for metric in scan["metrics"]}
        assert [measured[f"vulns.{s}"] for s in SCORES] == [10, 20, 70, 100]
        assert scan["findings"] == {"total": 200, "new": 50, "fixed": 0, "untracked": 150}
        assert any("ARCOS_MAX_FINDINGS_PER_SCAN" in text for text in scan["warnings"])
        stored = stored_findings(live)
        assert tally(stored, "severity") == {"CRITICAL": 10, "HIGH": 20, "MEDIUM": 20}
        # Five criticals fixed: the five next mediums are tracked now (and so counted new);
        # the mediums and lows beyond the limit again are neither new nor fixed.
        graded["critical"] = range(5, 10)
        scan = upload_scan(live, graded_vulnerabilities(graded), path)
        assert scan["findings"] == {"total": 195, "new": 5, "fixed": 5, "untracked": 145}
        assert tally(stored_findings(live), "state") == {"OPEN": 50, "FIXED": 5}
    finally:
        stop_server(live)


def junit_report(cases: int, failing_every: int) -> bytes:
    lines = [f'<testcase classname="pkg.mod{n % 100}" name="test_{n}" time="0.001"/>'
             if n % failing_every else
             f'<testcase classname="pkg.mod{n % 100}" name="test_{n}"><failure message="no"/>'
             "</testcase>" for n in range(cases)]
    return (f'<testsuite name="big" tests="{cases}">' + "".join(lines) + "</testsuite>").encode()


def test_a_large_test_report_crosses_back_from_its_worker_compactly(server):
    """Item 6, the hand-back: the parse worker once returned every test case (or coverage
    file, or SBOM component) to the server, whose event loop then unpickled 400,000
    objects in one go. Now only the summary and the metrics cross back."""
    cases, failing_every = 400_000, 1_000
    before = memory_kib(server.process.pid)
    with HealthProbe(server.http_url) as probe:
        response = httpx.post(
            f"{server.http_url}/api/cicd/test", content=gzip.compress(junit_report(
                cases, failing_every)), params={"project": "github.com/acme/big"},
            headers={**server.auth_headers, "content-type": "application/gzip"}, timeout=300,
        )
    assert response.status_code == 201, response.text[:500]
    probe.assert_responsive()
    growth = peak_growth_mib(server.process.pid, before)
    assert growth < 16, f"the server's peak memory grew {growth:.0f} MiB for one report"
    measured = {metric["name"]: metric["value"] for metric in response.json()["metrics"]}
    assert measured["tests.total"] == cases
    assert measured["tests.failed"] == cases // failing_every


def test_a_report_sent_as_graphql_text_is_not_copied_for_its_worker(server):
    """Core reshape: a report posted in the `content` variable was also encoded whole and
    pickled whole for the parse worker (peak growth 6.1x the report, measured). Now the
    text is spooled to disk in chunks and the worker reads the file (3.6x: the body's
    chunks, their join and the decoded text), and the body is read into one buffer that
    is emptied once decoded: the body and its text, then the text and the variable, are
    held at once (the body is 1.12x the report, its quotes escaped), 2.5x measured."""
    report = sarif_log(4, 8_000).decode()
    size_mib = len(report) / 2**20
    before = memory_kib(server.process.pid)
    response = httpx.post(
        f"{server.http_url}/graphql", headers=server.auth_headers, timeout=300,
        json={"query": "mutation($c: String!) { submitSecurityScan(input: {content: $c, "
              'project: "github.com/acme/text"}) { errors { message } warnings } }',
              "variables": {"c": report}},
    )
    assert response.status_code == 200, response.text[:500]
    assert response.json().get("data"), response.text[:500]
    assert response.json()["data"]["submitSecurityScan"]["errors"] == []
    growth = peak_growth_mib(server.process.pid, before)
    print(f"\n{size_mib:.1f} MiB report; server peak grew {growth:.0f} MiB")
    assert growth < 3 * size_mib, f"{growth:.0f} MiB for a {size_mib:.1f} MiB report"

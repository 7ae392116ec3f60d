"""Artifact intake through GraphQL: genuine reports become evidence, findings and quality
metrics; refusals write nothing; metrics arrive live on a subscription."""

from __future__ import annotations

import asyncio
import base64
import copy
import gzip
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from arcos.intake import service
from arcos.intake.models import Finding, IngestionJob, JobStatus, QualityMetric
from arcos.store.write_context import WriteContext

# The genuine-artifact fixtures live beside the ingest tests; make them importable even when
# this module is collected before (or without) tests/formats.
sys.path.insert(0, str(Path(__file__).parent / "formats"))
pytest_plugins = ["format_artifacts"]

PROJECT = "github.com/acme/app"
SHA = "0123456789abcdef0123456789abcdef01234567"
PAYLOAD = """
  jobId
  evidence { id type source commitSha data metadata }
  metrics { name value timestamp metadata evidence { id } }
  findings { total new fixed }
  warnings
  errors { field message code }
"""
BUILD = json.dumps({"status": "success", "duration_seconds": 10.0, "ref": "refs/heads/main"})


async def submit(gql: Any, mutation: str, **input: Any) -> dict[str, Any]:
    body = await gql(
        f"mutation($input: ArtifactInput!) {{ {mutation}(input: $input) {{ {PAYLOAD} }} }}",
        {"input": input},
    )
    assert "errors" not in body, body
    return body["data"][mutation]


def accepted(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["errors"] == [], payload["errors"]
    return payload


def metric_values(payload: dict[str, Any]) -> dict[str, float]:
    return {metric["name"]: metric["value"] for metric in payload["metrics"]}


async def all_findings(gql: Any, **filters: str) -> list[dict[str, Any]]:
    """Every finding of PROJECT, read page by page (exercising the cursor)."""
    arguments = "".join(f", {name}: {value}" for name, value in filters.items())
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        body = await gql(
            f"query($after: String) {{ findings(project: \"{PROJECT}\", first: 7, "
            f"after: $after{arguments}) {{ nodes {{ id ruleId state severity fingerprint }} "
            "pageInfo { hasNextPage endCursor } } }",
            {"after": after},
        )
        page = body["data"]["findings"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def test_junit_report_becomes_evidence_and_pytests_counts(gql, genuine):
    payload = accepted(await submit(
        gql, "submitTestReport", content=genuine.read("junit-xunit2").decode(),
        project=PROJECT, commitSha=SHA, ref="refs/heads/main", pipelineRun="run-1",
    ))
    counts = genuine.pytest_counts()
    values = metric_values(payload)
    assert values["tests.passed"] == counts["passed"]
    assert values["tests.failed"] == counts["failed"]
    assert values["tests.errored"] == counts["error"]
    assert values["tests.skipped"] == counts["skipped"] + counts["xfailed"]
    assert values["tests.total"] == sum(counts.values())
    assert values["tests.pass_rate"] == pytest.approx(3 / 5)
    evidence = payload["evidence"]
    assert (evidence["type"], evidence["source"], evidence["commitSha"]) == (
        "test_results", "pytest", SHA)
    assert evidence["data"]["totals"]["failed"] == counts["failed"]
    assert "cases" not in evidence["data"]  # a summary, not the artifact
    assert evidence["metadata"]["pipeline_run"] == "run-1"
    assert {m["evidence"]["id"] for m in payload["metrics"]} == {evidence["id"]}
    assert payload["metrics"][0]["metadata"]["commit_sha"] == SHA

    job = (await gql(
        f'{{ ingestionJob(jobId: "{payload["jobId"]}") {{ status kind format project '
        "evidence { id } } }"
    ))["data"]["ingestionJob"]
    assert job == {"status": "SUCCEEDED", "kind": "test_report", "format": "junit",
                   "project": PROJECT, "evidence": {"id": evidence["id"]}}


async def test_gzip_upload_through_content_base64(gql, genuine):
    packed = base64.b64encode(gzip.compress(genuine.read("junit-xunit1"))).decode()
    payload = accepted(await submit(gql, "submitTestReport", contentBase64=packed,
                                    project=PROJECT))
    assert metric_values(payload)["tests.total"] == sum(genuine.pytest_counts().values())
    declared = accepted(await submit(gql, "submitTestReport", contentBase64=packed,
                                     contentType="application/gzip", project=PROJECT))
    assert metric_values(declared) == metric_values(payload)


async def test_cobertura_line_rate_is_the_root_attribute(gql, genuine):
    content = genuine.read("cobertura").decode()
    root_rate = float(re.search(r'<coverage[^>]* line-rate="([0-9.]+)"', content).group(1))
    payload = accepted(await submit(gql, "submitCoverageReport", content=content,
                                    project=PROJECT))
    assert metric_values(payload)["coverage.line_rate"] == pytest.approx(root_rate, abs=5e-5)
    assert payload["evidence"]["type"] == "test_coverage"
    assert payload["evidence"]["source"] == "coverage.py"


async def test_ruff_sarif_findings_are_counted_and_listed(gql, genuine):
    ruff_json = json.loads(genuine.outputs["ruff-json"])
    payload = accepted(await submit(
        gql, "submitSecurityScan", content=genuine.read("ruff").decode(), project=PROJECT,
        sourceRoot=str(genuine.project),
    ))
    assert payload["findings"] == {"total": len(ruff_json), "new": len(ruff_json), "fixed": 0}
    assert payload["evidence"]["source"] == "ruff"
    assert metric_values(payload)["findings.total"] == len(ruff_json)
    assert metric_values(payload)["findings.new"] == len(ruff_json)
    listed = await all_findings(gql)
    assert sorted(node["ruleId"] for node in listed) == sorted(item["code"] for item in ruff_json)
    assert {node["state"] for node in listed} == {"OPEN"}
    assert await all_findings(gql, severity="CRITICAL") == []


def _bandit_rescan(log: dict[str, Any]) -> dict[str, Any]:
    """The Bandit log with its first result removed and a result in another file added."""
    rescan = copy.deepcopy(log)
    results = rescan["runs"][0]["results"]
    added = copy.deepcopy(results[-1])
    added["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "samplepkg/extra.py"
    rescan["runs"][0]["results"] = [*results[1:], added]
    return rescan


async def test_findings_dedupe_across_scans(gql, genuine):
    first_log = json.loads(genuine.read("bandit"))
    assert len(first_log["runs"][0]["results"]) == 2
    second_log = _bandit_rescan(first_log)

    async def scan(log: dict[str, Any]) -> dict[str, int]:
        payload = accepted(await submit(gql, "submitSecurityScan", content=json.dumps(log),
                                        project=PROJECT))
        return payload["findings"]

    assert await scan(first_log) == {"total": 2, "new": 2, "fixed": 0}
    assert await scan(first_log) == {"total": 2, "new": 0, "fixed": 0}  # unchanged
    assert await scan(second_log) == {"total": 2, "new": 1, "fixed": 1}
    assert len(await all_findings(gql, state="OPEN")) == 2
    assert len(await all_findings(gql, state="FIXED")) == 1
    assert await scan(first_log) == {"total": 2, "new": 1, "fixed": 1}  # re-opened one
    rows = await Finding.all()
    assert len(rows) == 3
    assert len({row.fingerprint for row in rows}) == 3
    reopened = next(row for row in rows if row.first_evidence_uid != row.last_evidence_uid
                    and row.state == "open" and row.path == "samplepkg/__init__.py"
                    and row.rule_id == first_log["runs"][0]["results"][0]["ruleId"])
    assert reopened.last_seen >= reopened.first_seen


REFUSALS = {
    "malformed-xml": ({"content": "<testsuites><testsuite name='x'>"}, "content"),
    "unknown-format": ({"content": "<testsuites/>", "format": "nosuchformat"}, "content"),
    "both-contents": ({"content": "<testsuites/>", "contentBase64": "PHRlc3RzdWl0ZXMvPg=="},
                      "content"),
    "no-content": ({}, "content"),
    "bad-base64": ({"contentBase64": "not base64!"}, "contentBase64"),
    "bad-commit": ({"content": "<testsuites><testsuite name='x' tests='0'/></testsuites>",
                    "commitSha": "xyz"}, "commitSha"),
}


@pytest.mark.parametrize("case", [*REFUSALS, "xxe"])
async def test_refusals_are_user_errors_and_write_nothing(gql, crafted, case):
    if case == "xxe":
        input, field = {"content": (crafted / "xxe.xml").read_text()}, "content"
    else:
        input, field = REFUSALS[case]
    payload = await submit(gql, "submitTestReport", project=PROJECT, **input)
    assert payload["evidence"] is None and payload["metrics"] == []
    assert [error["field"] for error in payload["errors"]] == [field]
    body = await gql("{ evidenceConnection { totalCount } }")
    assert body["data"]["evidenceConnection"]["totalCount"] == 0
    assert await Finding.all().count() == 0
    assert await QualityMetric.all().count() == 0
    assert await IngestionJob.filter(status=JobStatus.SUCCEEDED).count() == 0
    if payload["jobId"] is not None:
        job = await IngestionJob.get(job_id=payload["jobId"])
        assert job.status == JobStatus.FAILED and job.error


async def test_xxe_is_refused_with_a_message(gql, crafted):
    payload = await submit(gql, "submitTestReport", content=(crafted / "xxe.xml").read_text())
    assert payload["errors"][0]["code"] == "INVALID"
    assert "passwd" not in json.dumps(payload)


async def test_too_large_artifact_is_refused_as_too_large(app):
    state = app.app.state
    with pytest.raises(service.IntakeRefused) as refused:
        await service.ingest_artifact(
            "test_report", b"<testsuites/>" * 10, provenance=service.Provenance(PROJECT),
            write=WriteContext("tester", state.settings.replace(max_artifact_bytes=16),
                               state.writer),
        )
    assert refused.value.problems[0].code.value == "TOO_LARGE"
    assert refused.value.job is not None and refused.value.job.status == JobStatus.FAILED


async def test_quality_metrics_time_series_order_and_filters(gql):
    outcomes = ["success", "failure", "success"]
    stamps = []
    for status in outcomes:
        payload = accepted(await submit(
            gql, "recordBuild", project=PROJECT,
            content=json.dumps({"status": status, "duration_seconds": 10.0}),
        ))
        stamps.append(next(m["timestamp"] for m in payload["metrics"]
                           if m["name"] == "build.succeeded"))
    assert metric_values(payload)["build.success_rate"] == pytest.approx(2 / 3)
    assert metric_values(payload)["build.mean_duration_seconds"] == pytest.approx(10.0)

    async def series(**arguments: Any) -> list[dict[str, Any]]:
        body = await gql(
            "query($names: [String!], $from: DateTime, $to: DateTime, $limit: Int!) { "
            f'qualityMetrics(project: "{PROJECT.upper()}", names: $names, from: $from, '
            "to: $to, limit: $limit) { name value timestamp } }",
            {"names": ["build.succeeded"], "limit": 100, **arguments},
        )
        assert "errors" not in body, body
        return body["data"]["qualityMetrics"]

    everything = await series()
    assert [m["value"] for m in everything] == [1.0, 0.0, 1.0]
    assert [m["timestamp"] for m in everything] == sorted(m["timestamp"] for m in everything)
    assert [m["value"] for m in await series(**{"from": stamps[1]})] == [0.0, 1.0]
    assert [m["value"] for m in await series(to=stamps[1])] == [1.0]
    assert [m["value"] for m in await series(limit=1)] == [1.0]
    assert [m["timestamp"] for m in await series(limit=1)] == [stamps[2]]
    assert await series(names=["no.such.metric"]) == []
    rates = await series(names=["build.success_rate"])
    assert [m["value"] for m in rates] == pytest.approx([1.0, 0.5, 2 / 3])


async def test_deployments_need_an_environment(gql, crafted):
    refused = await submit(gql, "recordDeployment", content=BUILD, project=PROJECT)
    assert refused["errors"][0]["field"] == "content"
    payload = accepted(await submit(gql, "recordDeployment", project=PROJECT,
                                    content=(crafted / "build_deploy.json").read_text()))
    assert payload["evidence"]["type"] == "deployment"
    assert payload["evidence"]["commitSha"] == "0123456789abcdef0123456789abcdef01234567"
    assert metric_values(payload)["deployment.succeeded"] == 1.0
    assert payload["warnings"]  # the unknown "runner" field


async def test_evidence_without_a_project_stores_no_metrics(gql):
    payload = accepted(await submit(gql, "recordBuild", content=BUILD))
    assert payload["evidence"]["type"] == "build" and payload["metrics"] == []


async def test_quality_metric_updated_subscription_receives_values(app, gql):
    from arcos.auth.transport import caller_from_authorization
    from arcos.broker import channel
    from arcos.graphql.context import ArcosContext
    from arcos.intake.metrics import METRICS_UPDATED

    state = app.app.state
    caller = await caller_from_authorization(f"Bearer {app.admin_token}", False)
    context = ArcosContext(settings=state.settings, broker=state.broker, caller=caller,
                           rate_limiter=state.rate_limiter)
    stream = await state.schema.subscribe(
        f'subscription {{ qualityMetricUpdated(project: "{PROJECT}") '
        "{ name value evidence { type } } }",
        context_value=context,
    )
    first = asyncio.ensure_future(anext(stream))
    try:
        topic = channel(METRICS_UPDATED, project=PROJECT)
        for _ in range(1000):
            if state.broker.subscriber_count(topic):
                break
            await asyncio.sleep(0.01)
        payload = accepted(await submit(gql, "recordBuild", content=BUILD, project=PROJECT))
        result = await asyncio.wait_for(first, 30)
    finally:
        first.cancel()
        await stream.aclose()
    assert result.errors is None, result.errors
    event = result.data["qualityMetricUpdated"]
    assert event["value"] == metric_values(payload)[event["name"]]
    assert event["evidence"] == {"type": "build"}

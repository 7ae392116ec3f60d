"""The intake domain's REST rows: the original CI/CD and security upload routes and the
upload job's status. Their operations are in `rest.graphql` beside this file."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from arcos.intake.rest_artifact_bodies import artifact_input, is_coverage
from arcos.rest.request import RestCall
from arcos.rest.shapes import JsonSchema, Legacy, non_null, object_schema
from arcos.rest.table import QueryParameter, RestRoute
from arcos.web.refusal import RestRefusal


async def _artifact_variables(call: RestCall) -> dict[str, Any]:
    return {"input": await artifact_input(call)}


async def _test_artifact_variables(call: RestCall) -> dict[str, Any]:
    fields = await artifact_input(call)
    return {"input": fields, "coverage": is_coverage(fields)}


async def _job_variables(call: RestCall) -> dict[str, Any]:
    raw = call.path("job_id")
    try:
        uuid.UUID(raw)
    except ValueError:
        raise RestRefusal(404, f"no upload job {raw!r:.80}", "NOT_FOUND") from None
    return {"jobId": raw}


RAW_ARTIFACT_TYPES = (
    "application/xml", "text/xml", "application/sarif+json", "application/vnd.cyclonedx+json",
    "application/spdx+json", "text/plain", "application/gzip", "application/octet-stream",
)
UPLOAD_PARAMETERS = (
    QueryParameter("format", "The artifact's format when sniffing is not enough (raw bodies)."),
    QueryParameter("project", "Project slug (raw bodies)."),
    QueryParameter("commit", "Commit SHA (raw bodies)."),
    QueryParameter("ref", "Git ref (raw bodies)."),
    QueryParameter("pipeline_run", "The CI run that produced it (raw bodies)."),
    QueryParameter("source_root", "SARIF: the checkout directory (raw bodies)."),
)

@dataclass(frozen=True)
class Upload:
    """An artifact upload, in the original API's envelope. The operation may pick one of
    several mutations (`@include`), so the payload is whichever root field answered.
    Refusals carry the job id too: `/api/cicd/status/{job_id}` knows about every upload."""

    status: int = 201
    items_key: str | None = None

    def body(self, value: Any, subject: str) -> Any:
        payload = next(item for item in value.values() if item is not None)
        errors = payload["errors"]
        if errors:
            too_large = any(error["code"] == "TOO_LARGE" for error in errors)
            raise RestRefusal(
                413 if too_large else 422, errors[0]["message"],
                "PAYLOAD_TOO_LARGE" if too_large else "UNPROCESSABLE_ENTITY",
                details=[{"message": e["message"],
                          "extensions": {"code": e["code"], "field": e["field"]}}
                         for e in errors],
                extra={"job_id": payload["jobId"]},
            )
        evidence = payload["evidence"]
        return {
            "success": True,
            "job_id": payload["jobId"],
            "evidence_id": evidence["id"] if evidence else None,
            "evidence": evidence,
            "metrics": payload["metrics"],
            "findings": payload["findings"],
            "warnings": payload["warnings"],
        }

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        payload = non_null(next(iter(value_schema["properties"].values())))
        properties = payload["properties"]
        return object_schema({
            "success": {"const": True},
            "job_id": properties["jobId"],
            "evidence_id": {"type": ["string", "null"]},
            "evidence": properties["evidence"],
            "metrics": properties["metrics"],
            "findings": properties["findings"],
            "warnings": properties["warnings"],
        })



#: OpenAPI's example request body.
ARTIFACT_EXAMPLE: dict[str, Any] = {
    "content": '{"status": "success", "duration_seconds": 312.5, "commit": "4f9c2e1", '
               '"ref": "refs/heads/main", "pipeline_id": "1234", "environment": "staging"}',
    "format": "build",
    "project": "github.com/acme/app",
}

ROUTES: tuple[RestRoute, ...] = (
    *(
        RestRoute(
            "POST", path, operation, variables, (), Upload(), "legacy", summary,
            body_input="ArtifactInput", legacy=True, raw_body_types=RAW_ARTIFACT_TYPES,
            query_parameters=UPLOAD_PARAMETERS, body_example=ARTIFACT_EXAMPLE,
        )
        for path, operation, variables, summary in (
            ("/api/cicd/build", "RecordBuild", _artifact_variables,
             "Record a CI build (ARCOS build JSON: status, duration, commit, pipeline id)."),
            ("/api/cicd/test", "SubmitTestArtifact", _test_artifact_variables,
             "A JUnit test report, or a coverage report (Cobertura, coverage.py JSON, LCOV)."),
            ("/api/cicd/deploy", "RecordDeployment", _artifact_variables,
             "Record a deployment (ARCOS build JSON with an environment)."),
            ("/api/security/scan", "SubmitSecurityScan", _artifact_variables,
             "A SARIF 2.1.0 static-analysis log; its findings are tracked across scans."),
            ("/api/security/vulnerability", "SubmitVulnerabilityReport", _artifact_variables,
             "A vulnerability report: CycloneDX with vulnerabilities, OSV, pip-audit, npm audit."),
            ("/api/security/dependencies", "SubmitSbom", _artifact_variables,
             "An SBOM: CycloneDX 1.4-1.6 or SPDX 2.3 JSON."),
        )
    ),
    RestRoute(
        "GET", "/api/cicd/status/{job_id}", "IngestionJob", _job_variables,
        ("ingestionJob",), Legacy("job"), "legacy",
        "The status and result of one upload, by the job_id every upload answers with.",
        subject=lambda call: f"upload job {call.path('job_id')!r}", legacy=True,
    ),
)

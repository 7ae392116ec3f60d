"""A tour of the ARCOS community platform: share a quality pattern, import a STIX 2.1
bundle, compare a project with a benchmark, and print a compliance checklist.

    .venv/bin/python examples/community.py --project github.com/acme/app

The token (--token or $ARCOS_TOKEN) needs community:read and community:write, plus
evidence:read for the project's metrics and compliance status (an admin token has all).
Running it twice is safe: the STIX objects have fixed ids, so the second import reports
them as already known. Only httpx is needed. Exit code 1 when ARCOS refuses a step.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Sequence
from typing import Any

import httpx

SHARE_PATTERN = """
mutation($input: SharePatternInput!) {
  sharePattern(input: $input) {
    pattern { id name category visibility author { name reputation } }
    errors { field message code }
  }
}"""

ADD_BENCHMARK = """
mutation($input: AddBenchmarkInput!) {
  addBenchmark(input: $input) { benchmark { id name } errors { field message code } }
}"""

COMPARE = """
query($benchmark: ID!, $project: String!) {
  compareToBenchmark(benchmark: $benchmark, project: $project) {
    better worse equal notCompared
    metrics { name status verdict percentile delta explanation }
  }
}"""

CHECKLIST = """
query($framework: String!, $project: String, $format: ChecklistFormat!) {
  complianceChecklist(framework: $framework, project: $project, format: $format)
}"""

#: Fixed ids (uuid5 of a name), so importing again is recognised as the same objects.
_NAMESPACE = uuid.UUID("6f1d7c52-3f0a-4a8e-9a43-6c1b2a7e9d10")
_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
_WHEN = "2026-11-02T09:00:00.000Z"


def stix_id(kind: str, name: str) -> str:
    return f"{kind}--{uuid.uuid5(_NAMESPACE, name)}"


def example_bundle() -> dict[str, Any]:
    """An indicator of a typosquatted package, the malware it indicates, and the link."""
    common = {"spec_version": "2.1", "created": _WHEN, "modified": _WHEN,
              "object_marking_refs": [_GREEN]}
    indicator = {
        "type": "indicator", "id": stix_id("indicator", "reqeusts download"), **common,
        "name": "Download of the typosquatted package 'reqeusts'",
        "pattern": "[url:value = 'https://files.example.net/reqeusts-2.31.0.tar.gz']",
        "pattern_type": "stix", "valid_from": _WHEN,
    }
    malware = {
        "type": "malware", "id": stix_id("malware", "reqeusts stealer"), **common,
        "name": "reqeusts credential stealer", "is_family": False,
    }
    link = {
        "type": "relationship", "id": stix_id("relationship", "indicates stealer"), **common,
        "relationship_type": "indicates", "source_ref": indicator["id"],
        "target_ref": malware["id"],
    }
    return {"type": "bundle", "id": stix_id("bundle", "community example"),
            "objects": [indicator, malware, link]}


class Refusal(Exception):
    """ARCOS refused a step; the message says which and why."""


class Arcos:
    """GraphQL and REST calls to one server with one token."""

    def __init__(self, base_url: str, token: str | None, timeout: float) -> None:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers,
                                 timeout=timeout)

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.http.post("/graphql", json={"query": query, "variables": variables})
        try:
            body = response.json()
        except ValueError:
            raise Refusal(f"HTTP {response.status_code}: {response.text[:300]}") from None
        if body.get("errors"):
            raise Refusal("; ".join(
                f"[{(e.get('extensions') or {}).get('code', 'ERROR')}] {e.get('message')}"
                for e in body["errors"]))
        data: dict[str, Any] = body["data"]
        return data

    def mutation(self, query: str, field: str, **variables: Any) -> dict[str, Any]:
        """A mutation's payload; its user errors become a Refusal naming each field."""
        payload: dict[str, Any] = self.graphql(query, **variables)[field]
        if payload["errors"]:
            raise Refusal(f"{field}: " + "; ".join(
                f"{e['field'] or 'input'}: {e['message']}" for e in payload["errors"]))
        return payload

    def post(self, path: str, document: Any) -> dict[str, Any]:
        response = self.http.post(path, json=document)
        body: dict[str, Any] = response.json()
        if response.status_code >= 400:
            raise Refusal(f"POST {path}: HTTP {response.status_code}: {json.dumps(body)[:500]}")
        return body


def share_pattern(arcos: Arcos) -> None:
    pattern = arcos.mutation(SHARE_PATTERN, "sharePattern", input={
        "name": "Coverage gate on every merge", "category": "TESTING",
        "description": "Fail the pipeline when line coverage drops below 80%.",
        "pattern": {"metrics": ["coverage.line_rate"], "threshold": 0.8, "when": "merge"},
        "tags": ["coverage", "ci"], "visibility": "COMMUNITY",
    })["pattern"]
    print(f"shared pattern {pattern['name']!r} ({pattern['id']}), visible to the "
          f"{pattern['visibility'].lower()}")


def import_bundle(arcos: Arcos) -> None:
    done = arcos.post("/api/community/threats/stix", example_bundle())["import"]
    print(f"imported STIX bundle: {done['total']} objects, {done['imported']} new, "
          f"{done['known']} already known")


def compare_with_benchmark(arcos: Arcos, project: str) -> None:
    benchmark = arcos.mutation(ADD_BENCHMARK, "addBenchmark", input={
        "name": "Web services (example figures)", "industry": "software",
        "projectType": "web_service", "visibility": "PRIVATE",
        "metrics": [
            {"name": "coverage.line_rate", "direction": "HIGHER_IS_BETTER", "p25": 0.55,
             "p50": 0.7, "p75": 0.82, "p90": 0.9, "mean": 0.69, "sampleSize": 120},
            {"name": "tests.pass_rate", "direction": "HIGHER_IS_BETTER", "p25": 0.95,
             "p50": 0.98, "p75": 1.0, "p90": 1.0, "mean": 0.97, "sampleSize": 120},
        ],
    })["benchmark"]
    comparison = arcos.graphql(COMPARE, benchmark=benchmark["id"],
                               project=project)["compareToBenchmark"]
    print(f"{project} against {benchmark['name']!r}: {comparison['better']} better, "
          f"{comparison['worse']} worse, {comparison['equal']} equal, "
          f"{comparison['notCompared']} not compared")
    for metric in comparison["metrics"]:
        print(f"  {metric['name']}: {metric['explanation']}")


def print_checklist(arcos: Arcos, framework: str, project: str, fmt: str) -> None:
    text = arcos.graphql(CHECKLIST, framework=framework, project=project,
                         format=fmt.upper())["complianceChecklist"]
    print(f"\n{framework} checklist for {project}:\n")
    print(text)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server's base URL")
    parser.add_argument("--project", default="github.com/acme/app",
                        help="project slug whose metrics and evidence are used")
    parser.add_argument("--framework", default="soc2",
                        help="compliance template key (soc2, pci-dss, hipaa, iso27001, gdpr, "
                        "nist-800-53, cis-controls, fedramp) or one of yours")
    parser.add_argument("--format", choices=("markdown", "csv"), default="markdown")
    parser.add_argument("--token", default=os.environ.get("ARCOS_TOKEN"),
                        help="API token (default: $ARCOS_TOKEN)")
    parser.add_argument("--timeout", type=float, default=30.0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    arcos = Arcos(args.url, args.token, args.timeout)
    try:
        share_pattern(arcos)
        import_bundle(arcos)
        compare_with_benchmark(arcos, args.project)
        print_checklist(arcos, args.framework, args.project, args.format)
    except Refusal as refusal:
        print(f"community: ARCOS refused: {refusal}", file=sys.stderr)
        return 1
    except httpx.HTTPError as error:
        print(f"community: cannot reach {args.url}: {error!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

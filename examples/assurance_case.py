"""An assurance case for this repository's own CI evidence: post it as gsn2x YAML, then
print its live status as a tree, every element with the evidence that decided it.

    examples/ci_pipeline.sh                      # feeds the project its CI evidence first
    .venv/bin/python examples/assurance_case.py --project github.com/example/arcos

The token (--token or $ARCOS_TOKEN) needs evidence:write to post the case and
evidence:read to read its status (an admin token has both). `--case <id>` prints the
status of a case already stored instead; `--yaml <file>` posts your own gsn2x YAML. Only
httpx is needed. Exit code 1 when ARCOS refuses a step or cannot be reached.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

#: ARCOS's own release argument, over what examples/ci_pipeline.sh posts.
CASE_YAML = """\
module: {name: ARCOS is fit to release, brief: The argument over this repository's CI}
G1:
  text: ARCOS at this commit is fit to release.
  supportedBy: [S1]
  inContextOf: [C1, A1]
C1: {text: "This repository's CI: pytest under coverage.py, ruff and Bandit (SARIF)."}
A1: {text: The CI runner that produced the reports was not tampered with.}
S1:
  text: Argue over testing, coverage, static analysis and dependencies.
  supportedBy: [G2, G3, G4, G5]
G2:
  text: The test suite passes.
  supportedBy: [Sn1]
G3:
  text: The tests exercise the code.
  supportedBy: [Sn2]
G4:
  text: Static analysis finds nothing serious.
  supportedBy: [Sn3, Sn4]
G5:
  text: Every third-party component is known and free of known critical vulnerabilities.
  undeveloped: true
Sn1:
  text: JUnit report of the suite.
  arcos: {metric: tests.pass_rate, predicate: ">= 0.95", max_age_days: 7}
Sn2:
  text: coverage.py line coverage.
  arcos: {metric: coverage.line_rate, predicate: ">= 0.8", max_age_days: 7}
Sn3:
  text: No critical static-analysis findings are open.
  arcos: {metric: findings.critical, predicate: "== 0", max_age_days: 7}
Sn4:
  text: No high static-analysis findings are open.
  arcos: {metric: findings.high, predicate: "== 0", max_age_days: 7}
"""


class Refusal(Exception):
    """ARCOS answered with an error; the message says what it refused."""


class Arcos:
    def __init__(self, url: str, token: str | None, timeout: float) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                errors = response.json().get("errors", [])
                detail = "; ".join(error["message"] for error in errors) or response.text
            except ValueError:
                detail = response.text
            raise Refusal(f"{method} {path} answered {response.status_code}: {detail}")
        return response


def post_case(arcos: Arcos, project: str, yaml_text: str) -> str:
    """Store the case; prints its well-formedness and any advice; returns its id."""
    created = arcos.call("POST", "/api/v3/cases", params={"project": project},
                         content=yaml_text.encode(),
                         headers={"content-type": "application/yaml"}).json()
    print(f"stored case {created['caseId']} ({created['wellformedness']}, version "
          f"{created['version']})")
    for violation in created["validation"]["violations"]:
        print(f"  {violation['text']}")
    return str(created["caseId"])


def print_tree(arcos: Arcos, case_id: str) -> str:
    """Print every element under the root with its status and evidence; returns the
    case's overall status."""
    document = arcos.call("GET", f"/api/v3/cases/{case_id}", params={"format": "json"}).json()
    status = arcos.call("GET", f"/api/v3/cases/{case_id}/status").json()["status"]
    states = {element["id"]: element for element in status["elements"]}
    elements = {element["id"]: element for element in document["elements"]}
    referred = {t for e in elements.values() for t in (*e["supportedBy"], *e["inContextOf"])}
    print(f"\n{document['title']}: {status['status']}")

    def show(element_id: str, depth: int) -> None:
        element = elements[element_id]
        state = states.get(element_id)
        label = state["status"] if state else element["type"]
        line = f"{'  ' * depth}{element_id} [{label}] {element['text']}"
        if state and element["type"] == "solution":
            evidence = ", ".join(i[:8] for i in state["evidenceIds"]) or "none"
            line += f"\n{'  ' * (depth + 2)}{state['reason']} (evidence: {evidence})"
        print(line)
        for child in (*element["inContextOf"], *element["supportedBy"]):
            if child in elements:
                show(child, depth + 1)

    for root in (i for i in elements if i not in referred):
        show(root, 0)
    if status["openItems"]:
        print(f"\nopen: {', '.join(status['openItems'])}")
    return str(status["status"])


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server's base URL")
    parser.add_argument("--project", default="github.com/example/arcos",
                        help="the project whose evidence decides the case")
    parser.add_argument("--case", help="print the status of this stored case instead")
    parser.add_argument("--yaml", type=Path, help="post this gsn2x YAML file instead")
    parser.add_argument("--token", default=os.environ.get("ARCOS_TOKEN"),
                        help="API token (default: $ARCOS_TOKEN)")
    parser.add_argument("--timeout", type=float, default=30.0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    arcos = Arcos(args.url, args.token, args.timeout)
    try:
        case_id = args.case or post_case(
            arcos, args.project, args.yaml.read_text() if args.yaml else CASE_YAML)
        print_tree(arcos, case_id)
    except Refusal as refusal:
        print(f"assurance_case: ARCOS refused: {refusal}", file=sys.stderr)
        return 1
    except httpx.HTTPError as error:
        print(f"assurance_case: cannot reach {args.url}: {error!r}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"assurance_case: cannot read {args.yaml}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

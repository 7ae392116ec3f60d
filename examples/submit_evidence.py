"""Submit one evidence item to ARCOS with the submitEvidence mutation and print what was stored.

Only httpx is needed: a GraphQL request is a JSON POST. Exit code 1 when ARCOS refuses it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import httpx

SUBMIT_EVIDENCE = """
mutation SubmitEvidence($input: SubmitEvidenceInput!) {
  submitEvidence(input: $input) {
    evidence {
      id type source project { slug } commitSha ref data metadata sha256 submittedBy createdAt
    }
    replayed
    errors { field message code }
  }
}
"""


def json_object(text: str) -> dict[str, Any]:
    """argparse type for --data: the text must be a JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object such as '{\"passed\": 12}'")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Submit one evidence item to ARCOS and print the stored evidence."
    )
    parser.add_argument(
        "--url", default="http://127.0.0.1:8000/graphql", help="the GraphQL endpoint"
    )
    parser.add_argument("--type", required=True, help="what it is, e.g. test_results")
    parser.add_argument("--source", required=True, help="what produced it, e.g. jenkins")
    parser.add_argument("--project", help="project slug such as github.com/owner/repo")
    parser.add_argument(
        "--data", type=json_object, default={}, help="the content, a JSON object (default {})"
    )
    parser.add_argument(
        "--idempotency-key", help="retry-safe key: resubmitting with it never stores twice"
    )
    parser.add_argument(
        "--token", default=os.environ.get("ARCOS_TOKEN"),
        help="API token, sent as 'Authorization: Bearer <token>' (default: $ARCOS_TOKEN)",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for ARCOS (default 30)"
    )
    return parser.parse_args(argv)


def build_input(args: argparse.Namespace) -> dict[str, Any]:
    """The SubmitEvidenceInput; options left out are not sent at all."""
    fields: dict[str, Any] = {"type": args.type, "source": args.source, "data": args.data}
    if args.project is not None:
        fields["project"] = args.project
    if args.idempotency_key is not None:
        fields["idempotencyKey"] = args.idempotency_key
    return fields


def submit(args: argparse.Namespace) -> dict[str, Any]:
    """POST the mutation and return the decoded JSON body (raises on transport failures)."""
    headers = {"Accept": "application/json"}
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    response = httpx.post(
        args.url,
        json={"query": SUBMIT_EVIDENCE, "variables": {"input": build_input(args)}},
        headers=headers,
        timeout=args.timeout,
    )
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
        raise RuntimeError(f"HTTP {response.status_code} from {args.url}: {response.text[:500]}")
    return body


def report(body: dict[str, Any]) -> int:
    """Print the stored evidence (stdout) or every error (stderr); return the exit code."""
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code", "ERROR")
        print(f"error [{code}]: {error.get('message')}", file=sys.stderr)
    payload = (body.get("data") or {}).get("submitEvidence")
    if payload is None:
        return 1
    for error in payload["errors"]:
        field = error["field"] or "input"
        print(f"refused [{error['code']}] {field}: {error['message']}", file=sys.stderr)
    if payload["errors"] or payload["evidence"] is None:
        return 1
    if payload["replayed"]:
        print("replayed: this idempotency key was used before; nothing new stored",
              file=sys.stderr)
    print(json.dumps(payload["evidence"], indent=2, sort_keys=True))
    return 1 if body.get("errors") else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        body = submit(args)
    except httpx.HTTPError as error:
        print(f"submit_evidence: cannot reach {args.url}: {error!r}", file=sys.stderr)
        return 1
    except RuntimeError as error:
        print(f"submit_evidence: {error}", file=sys.stderr)
        return 1
    return report(body)


if __name__ == "__main__":
    sys.exit(main())

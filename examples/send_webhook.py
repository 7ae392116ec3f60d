"""Sign and send a GitHub-style webhook delivery to a running ARCOS, the way GitHub does:
HMAC-SHA256 of the exact body bytes in X-Hub-Signature-256."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import uuid

import httpx

PUSH = {
    "ref": "refs/heads/main",
    "before": "0000000000000000000000000000000000000000",
    "after": "4f9c2e1b7d3a5c6e8f0a1b2c3d4e5f60718293a4",
    "forced": False,
    "repository": {"full_name": "acme/app", "name": "app", "owner": {"login": "acme"}},
    "pusher": {"name": "octocat"},
    "sender": {"login": "octocat"},
    "commits": [{
        "id": "4f9c2e1b7d3a5c6e8f0a1b2c3d4e5f60718293a4",
        "message": "Fix the flaky test",
        "timestamp": "2026-11-25T10:00:00Z",
        "author": {"name": "Octo Cat"},
    }],
    "head_commit": {"id": "4f9c2e1b7d3a5c6e8f0a1b2c3d4e5f60718293a4"},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000/api/webhooks/github")
    parser.add_argument(
        "--secret", default=os.environ.get("ARCOS_GITHUB_WEBHOOK_SECRET"),
        help="the ARCOS_GITHUB_WEBHOOK_SECRET value (default: that variable)",
    )
    parser.add_argument("--event", default="push", help="X-GitHub-Event (default push)")
    parser.add_argument("--payload", help="a JSON file to send instead of the sample push")
    parser.add_argument("--delivery", default=None, help="X-GitHub-Delivery (default: new)")
    args = parser.parse_args()
    if not args.secret:
        parser.error("give --secret or export ARCOS_GITHUB_WEBHOOK_SECRET (the server's value)")

    payload = PUSH
    if args.payload:
        with open(args.payload, encoding="utf-8") as handle:
            payload = json.load(handle)
    body = json.dumps(payload).encode("utf-8")
    signature = hmac.new(args.secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/arcos-example",
        "X-GitHub-Event": args.event,
        "X-GitHub-Delivery": args.delivery or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
        "X-Hub-Signature-256": f"sha256={signature}",
    }
    try:
        response = httpx.post(args.url, content=body, headers=headers, timeout=15)
    except httpx.HTTPError as error:
        print(f"could not reach {args.url}: {error}", file=sys.stderr)
        return 2
    print(response.status_code, json.dumps(response.json(), indent=2))
    return 0 if response.status_code < 300 else 1


if __name__ == "__main__":
    sys.exit(main())

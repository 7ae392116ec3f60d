"""Each evidence item is encoded as canonical JSON once and hashed once, whichever adapter
brings it in; a webhook body is hashed once too, also when it is its own dedupe key.

The encoder (`canonical_text`) and the hash helper (`sha256_hex`) are replaced, in every
arcos module that looks them up, by counting wrappers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from conftest import running_app
from test_webhooks import BITBUCKET_PUSH, GITHUB_SECRET, PUSH, github_headers

from arcos.evidence import canonical
from arcos.webhooks.models import WebhookDelivery

BITBUCKET_SECRET = "bitbucket-secret-0123456789"
ITEM = {"type": "test_results", "source": "pytest", "data": {"passed": 3, "name": "é"},
        "metadata": {"runner": "ci-1"}, "project": "github.com/acme/app",
        "commitSha": "abcdef1"}
SUBMIT = """
mutation($i: SubmitEvidenceInput!) {
  submitEvidence(input: $i) { evidence { id sha256 data metadata } replayed errors { code } }
}"""
JUNIT = (b'<?xml version="1.0"?><testsuite name="s" tests="2" failures="0">'
         b'<testcase classname="c" name="a"/><testcase classname="c" name="b"/></testsuite>')


class Calls:
    """What the encoder and the hash helper were called with since the last `reset`."""

    def __init__(self) -> None:
        self.encoded: list[Any] = []
        self.hashed: list[bytes] = []

    def reset(self) -> None:
        self.encoded.clear()
        self.hashed.clear()

    def check(self, items: int, bodies: int = 0) -> None:
        """`items` evidence items (data and metadata each encoded once, data hashed once)
        and `bodies` webhook bodies (hashed once) went through."""
        assert len(self.encoded) == 2 * items, self.encoded
        assert len({id(value) for value in self.encoded}) == 2 * items
        digests = Counter(hashlib.sha256(data).hexdigest() for data in self.hashed)
        assert len(self.hashed) == items + bodies, self.hashed
        assert all(count == 1 for count in digests.values()), digests


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    seen = Calls()
    encode, digest = canonical.canonical_text, canonical.sha256_hex

    def counting_encode(value: Any) -> str:
        seen.encoded.append(value)
        return encode(value)

    def counting_digest(data: bytes) -> str:
        seen.hashed.append(data)
        return digest(data)

    replacements: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
        (encode, counting_encode), (digest, counting_digest),
    ]
    for name, module in list(sys.modules.items()):
        if not name.startswith("arcos") or module is None:
            continue
        for attribute, value in list(vars(module).items()):
            for original, counting in replacements:
                if value is original:
                    monkeypatch.setattr(module, attribute, counting)
    return seen


@pytest.fixture
async def http(settings):
    hooks = settings.replace(github_webhook_secret=GITHUB_SECRET,
                             bitbucket_webhook_secret=BITBUCKET_SECRET)
    async with running_app(hooks) as running, running.client(running.admin_token) as client:
        yield client


async def test_a_graphql_submission_is_encoded_and_hashed_once(http, calls):
    calls.reset()
    response = await http.post("/graphql", json={"query": SUBMIT, "variables": {"i": ITEM}})
    payload = response.json()["data"]["submitEvidence"]
    assert payload["errors"] == [], payload
    calls.check(items=1)


async def test_an_idempotent_replay_encodes_only_the_stored_row(http, calls):
    item = {**ITEM, "idempotencyKey": "ci-77"}
    first = await http.post("/graphql", json={"query": SUBMIT, "variables": {"i": item}})
    assert first.json()["data"]["submitEvidence"]["errors"] == []
    calls.reset()
    again = await http.post("/graphql", json={"query": SUBMIT, "variables": {"i": item}})
    assert again.json()["data"]["submitEvidence"]["replayed"] is True
    # The request's data and metadata once each, the stored metadata once to compare with
    # the draft's encoding (not the draft's metadata a second time, nor hashed).
    assert len(calls.encoded) == 3, calls.encoded
    assert len(calls.hashed) == 1, calls.hashed


async def test_a_rest_submission_is_encoded_and_hashed_once(http, calls):
    calls.reset()
    response = await http.post("/api/v1/evidence", json=ITEM)
    assert response.status_code == 201, response.text
    calls.check(items=1)


async def test_a_batch_encodes_and_hashes_each_item_once(http, calls):
    items = [{**ITEM, "data": {"passed": n}} for n in range(3)]
    calls.reset()
    response = await http.post("/api/v2/evidence/batch", json={"items": items})
    assert response.status_code in (200, 201), response.text
    calls.check(items=3)


async def test_a_webhook_delivery_hashes_its_body_once(http, calls):
    body = json.dumps(PUSH).encode()
    calls.reset()
    response = await http.post("/api/webhooks/github", content=body,
                               headers=github_headers(body))
    assert response.status_code == 200, response.text
    items = len(response.json()["delivery"]["evidenceIds"])
    assert items >= 1
    calls.check(items=items, bodies=1)


async def test_a_webhook_keyed_by_its_body_hashes_it_once(http, calls):
    """A Bitbucket Data Center delivery without a request id is keyed by its body's
    digest: the receiver's hash is the one the delivery row keeps."""
    body = json.dumps(BITBUCKET_PUSH).encode()
    signature = "sha256=" + hmac.new(BITBUCKET_SECRET.encode(), body, hashlib.sha256).hexdigest()
    calls.reset()
    response = await http.post("/api/webhooks/bitbucket", content=body, headers={
        "content-type": "application/json", "x-event-key": "repo:push",
        "x-hub-signature": signature,
    })
    assert response.status_code == 200, response.text
    delivery = response.json()["delivery"]
    calls.check(items=len(delivery["evidenceIds"]), bodies=1)
    stored = await WebhookDelivery.get(id=int(delivery["deliveryId"]))
    digest = hashlib.sha256(body).hexdigest()
    assert (stored.dedupe_key, stored.body_sha256) == ("sha256:" + digest, digest)


async def test_an_upload_is_encoded_and_hashed_once(http, calls):
    calls.reset()
    response = await http.post(
        "/api/cicd/test", content=JUNIT, params={"project": "github.com/acme/app"},
        headers={"content-type": "application/xml"},
    )
    assert response.status_code == 201, response.text
    calls.check(items=1)
    calls.reset()
    build = await http.post("/api/cicd/build", json={"status": "success", "commit": "4f9c2e1"},
                            params={"project": "github.com/acme/app", "run": str(uuid.uuid4())})
    assert build.status_code == 201, build.text
    calls.check(items=1)

"""The visibility rule and the scrubber, on their own (the kinds' tests exercise them through
every read path)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from arcos.auth.caller import Caller
from arcos.auth.scopes import ADMIN as ADMIN_SCOPE
from arcos.community.scopes import COMMUNITY_READ, COMMUNITY_WRITE
from arcos.community.scrub import Scrubber
from arcos.community.sharing import (
    Visibility,
    author_shown,
    check_not_own,
    may_change,
    may_read,
)
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.problems import Refused

OWNER = Caller("alice", frozenset({COMMUNITY_READ, COMMUNITY_WRITE}), True)
MEMBER = Caller("bob", frozenset({COMMUNITY_READ}), True)
ANONYMOUS = Caller.anonymous(allow_read=True)
NOBODY = Caller.anonymous(allow_read=False)
ADMIN = Caller("root", frozenset({ADMIN_SCOPE}), True)
NO_COMMUNITY = Caller("carol", frozenset({EVIDENCE_READ}), True)


def _item(visibility: Visibility, **state: Any) -> Any:
    fields = {"owner": "alice", "visibility": visibility, "anonymized": False,
              "hidden": False, "withdrawn": False, **state}
    return SimpleNamespace(**fields)


# (caller, PUBLIC, COMMUNITY, PRIVATE)
MATRIX = [
    (OWNER, True, True, True),
    (MEMBER, True, True, False),
    (ANONYMOUS, True, False, False),
    (NOBODY, False, False, False),
    (NO_COMMUNITY, False, False, False),
    (ADMIN, True, True, True),
]


@pytest.mark.parametrize(("caller", "public", "community", "private"), MATRIX)
def test_who_reads_what(caller: Caller, public: bool, community: bool, private: bool) -> None:
    assert may_read(_item(Visibility.PUBLIC), caller) is public
    assert may_read(_item(Visibility.COMMUNITY), caller) is community
    assert may_read(_item(Visibility.PRIVATE), caller) is private


def test_withdrawn_items_are_read_by_nobody_and_hidden_ones_by_admins_only() -> None:
    for caller, *_ in MATRIX:
        assert not may_read(_item(Visibility.PUBLIC, withdrawn=True), caller)
    hidden = _item(Visibility.PUBLIC, hidden=True)
    assert [may_read(hidden, caller) for caller in (OWNER, MEMBER, ANONYMOUS, ADMIN)] == [
        False, False, False, True]


def test_owner_and_admin_change_an_item_and_anonymity_hides_the_author_from_others() -> None:
    item = _item(Visibility.PUBLIC, anonymized=True)
    assert may_change(item, OWNER) and may_change(item, ADMIN)
    assert not may_change(item, MEMBER) and not may_change(item, ANONYMOUS)
    assert author_shown(item, MEMBER) is None and author_shown(item, OWNER) is None
    assert author_shown(item, ADMIN) == "alice"
    assert author_shown(_item(Visibility.PUBLIC), MEMBER) == "alice"
    with pytest.raises(Refused, match="your own item"):
        check_not_own(item, OWNER, "upvote")
    check_not_own(item, MEMBER, "upvote")


HOSTILE = {
    "Mail alice.smith+ci@corp.example.com now": "Mail [redacted:email] now",
    "see https://grafana.acme.internal/d/abc?token=x for it": "see [redacted:url] for it",
    "pushed to github.com/acme-corp/payments-api today": "pushed to [redacted:repo] today",
    "clone git@gitlab.com:acme/secret-svc.git": "clone [redacted:repo]",
    "db at 10.20.30.40 and fe80::1ff:fe23:4567:890a": "db at [redacted:ip] and [redacted:ip]",
    "ping build01.acme.corp please": "ping [redacted:host] please",
    "thanks @jdoe-ops!": "thanks [redacted:handle]!",
    "token ghp_0123456789abcdefghijABCDEFGHIJ012345 leaked": "token [redacted:secret] leaked",
    "key AKIAIOSFODNN7EXAMPLE": "key [redacted:secret]",
    "password=hunter2 in env": "password=[redacted:secret] in env",
    "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig_nat-ure here":
        "jwt [redacted:secret] here",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----":
        "[redacted:secret]",
    "Project Falcon for Initech": "Project [redacted:name] for [redacted:name]",
    "curl -H 'Authorization: Bearer abcdef123456'": "curl -H 'Authorization: Bearer "
                                                    "[redacted:secret]'",
    "ask Jane  Doe, jane_doe or JaneDoe": "ask [redacted:name], [redacted:name] or "
                                          "[redacted:name]",
}
KEPT = [
    "Run pytest on setup.py and check tests.pass_rate >= 0.95 in CI/CD.",
    "Version 1.2.3 of requests; coverage.line_rate rose by 0.05.",
    "Use e.g. mutation testing; see section 4.2.1.",
]


@pytest.mark.parametrize(("hostile", "scrubbed"), list(HOSTILE.items()))
def test_identifying_spans_are_scrubbed_with_a_label(hostile: str, scrubbed: str) -> None:
    assert Scrubber(["Falcon", "initech", "Jane Doe"]).text(hostile) == scrubbed


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_technical_prose_is_left_alone(text: str) -> None:
    assert Scrubber(["Falcon"]).text(text) == text


def test_json_is_scrubbed_in_keys_and_values_at_any_depth() -> None:
    value = {"owner@acme.com": [{"note": "ask @mallory", "n": 3, "ok": True}], "x": None}
    assert Scrubber().json(value) == {
        "[redacted:email]": [{"note": "ask [redacted:handle]", "n": 3, "ok": True}], "x": None}


def test_json_problem_names_unstorable_text_and_non_finite_numbers() -> None:
    from arcos.storable import json_problem

    assert json_problem({"a": [1, 2.5, "ok", {"b": None}]}) is None
    assert "NUL" in (json_problem({"a": ["x\x00"]}) or "")
    assert "surrogate" in (json_problem({"\ud800": 1}) or "")
    assert "finite" in (json_problem([{"x": float("inf")}]) or "")
    assert "finite" in (json_problem(float("nan")) or "")

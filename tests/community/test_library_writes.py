"""Sharing a library item refuses a draft without a required field, naming every one a new
item of its kind must have (services called directly: GraphQL's non-null inputs never let
one through, but other callers of the services can)."""

from __future__ import annotations

from typing import Any

import pytest

from arcos.community.library_input import PatternDraft, PracticeDraft
from arcos.community.library_writes import LibraryKind
from arcos.community.patterns import PATTERN_KIND
from arcos.community.practices import PRACTICE_KIND
from arcos.problems import Problem, ProblemCode


@pytest.mark.parametrize(("kind", "draft", "message"), [
    (PATTERN_KIND, PatternDraft(name="Ratchet coverage", category="testing",
                                description="Never let line coverage fall."),
     "name, category, description and pattern are required"),
    (PRACTICE_KIND, PracticeDraft(title="Review every change"),
     "title, category and description are required"),
])
def test_a_draft_without_a_required_field_is_refused_naming_them_all(
    kind: LibraryKind[Any, Any], draft: Any, message: str
) -> None:
    refused = kind.missing(draft)
    assert refused is not None
    assert refused.problems == [Problem(None, message, ProblemCode.REQUIRED)]


@pytest.mark.parametrize(("kind", "draft"), [
    (PATTERN_KIND, PatternDraft(name="n", category="testing", description="d", pattern={})),
    (PRACTICE_KIND, PracticeDraft(title="t", category="testing", description="d")),
])
def test_a_draft_with_every_required_field_is_not_refused(
    kind: LibraryKind[Any, Any], draft: Any
) -> None:
    assert kind.missing(draft) is None

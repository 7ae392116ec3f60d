"""The original REST envelope `{"<kind>": {…}, "permission": …, "anonymize": …}`, read the
same way by every share route (benchmarks, patterns, practices, templates, threats)."""

from __future__ import annotations

from typing import Any

import pytest

from arcos.community.rest_envelope import PERMISSIONS, Envelope, choice, tlp_of
from arcos.community.sharing import Visibility
from arcos.community.threats_tlp import Tlp
from arcos.rest.request import RestCall
from arcos.web.refusal import RestRefusal

ENVELOPE = Envelope("thing", frozenset({"name", "tags"}))


async def _read(body: dict[str, Any], envelope: Envelope = ENVELOPE):
    return await envelope.read(RestCall(request=None, body=body))  # type: ignore[arg-type]


async def test_a_full_envelope_is_read_into_its_graphql_sharing_fields() -> None:
    shared = await _read({"thing": {"name": "n"}, "permission": "Public", "anonymize": True})
    assert shared.item == {"name": "n"}
    assert shared.sharing(Visibility.PRIVATE) == {"visibility": "PUBLIC", "anonymize": True}


async def test_a_left_out_permission_takes_the_routes_default() -> None:
    shared = await _read({"thing": {}})
    assert shared.visibility is None and shared.anonymize is False
    assert shared.sharing(Visibility.PRIVATE)["visibility"] == "PRIVATE"
    assert shared.sharing(Visibility.COMMUNITY)["visibility"] == "COMMUNITY"


@pytest.mark.parametrize(("body", "words"), [
    ({"thing": {}, "extra": 1}, 'send {"thing": {…}, "permission": "public|community|private", '
     '"anonymize": false}; unknown fields: extra'),
    ({"things": {}}, 'send {"thing": {…}'),
    ({"thing": []}, 'send {"thing": {…}'),
    ({"thing": {"colour": "red"}}, "unknown fields in thing: colour; known: name, tags"),
    ({"thing": {}, "permission": "everyone"},
     "permission must be one of public, community, private (got 'everyone')"),
    ({"thing": {}, "permission": None}, "permission must be one of"),
    ({"thing": {}, "anonymize": "yes"}, "anonymize must be true or false"),
])
async def test_a_bad_envelope_is_a_400_saying_what_to_send(body: dict[str, Any],
                                                          words: str) -> None:
    with pytest.raises(RestRefusal) as refused:
        await _read(body)
    assert refused.value.status == 400 and words in str(refused.value)


async def test_items_are_left_to_graphql_when_their_fields_are_not_named() -> None:
    shared = await _read({"thing": {"colour": "red"}}, Envelope("thing"))
    assert shared.item == {"colour": "red"}


def test_permission_words_are_the_visibilities_and_pick_the_least_restricted_tlp() -> None:
    assert PERMISSIONS == ("public", "community", "private")
    assert [tlp_of(v) for v in Visibility] == [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER]


def test_choice_answers_the_graphql_enum_value() -> None:
    assert choice("Higher_Is_Better", ("higher_is_better",), "direction") == "HIGHER_IS_BETTER"
    with pytest.raises(RestRefusal, match="direction must be one of higher_is_better"):
        choice(3, ("higher_is_better",), "direction")

"""The shared kinds of the community, and the tallies its statistics add up.

Generic operations — withdrawing, hiding, `communityStats` — work over this list rather
than knowing each kind, so a new kind joins them by adding one line here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tortoise.expressions import Q

from arcos.auth.caller import Caller
from arcos.community.benchmarks_models import Benchmark
from arcos.community.library_models import BestPractice, QualityPattern
from arcos.community.library_reads import ratings_tally, upvotes_tally
from arcos.community.sharing import SharedItem, readable
from arcos.community.templates_models import ComplianceTemplate, IndustryTemplate
from arcos.community.threats_access import (
    readable_imports,
    readable_intel,
    readable_stix_objects,
)
from arcos.community.threats_models import StixObject, Threat


@dataclass(frozen=True)
class SharedKind:
    """One kind of shared item: its name in statistics, its model, its GraphQL type."""

    name: str
    model: type[SharedItem]
    #: The GraphQL type name its global ids carry.
    type_name: str
    #: The rows a caller reads, as the kind's own lists filter them: the community rule,
    #: or a kind's wider one (threat intelligence adds named TLP recipients).
    readable: Callable[[Caller], Q] = readable


@dataclass(frozen=True)
class Tally:
    """A count `communityStats` reports beyond items (votes cast, bundles imported); it
    must count only what concerns items the caller may read."""

    name: str
    #: "votes" or "imports": which total of communityStats it adds to.
    category: str
    count: Callable[[Caller], Awaitable[int]]


KINDS: tuple[SharedKind, ...] = (
    SharedKind("pattern", QualityPattern, "QualityPattern"),
    SharedKind("practice", BestPractice, "BestPractice"),
    SharedKind("threat", Threat, "Threat", readable_intel),
    SharedKind("stix_object", StixObject, "StixObject", readable_stix_objects),
    SharedKind("industry_template", IndustryTemplate, "IndustryTemplate"),
    SharedKind("compliance_template", ComplianceTemplate, "ComplianceTemplate"),
    SharedKind("benchmark", Benchmark, "Benchmark"),
)
TALLIES: tuple[Tally, ...] = (
    Tally("pattern_ratings", "votes", ratings_tally),
    Tally("practice_upvotes", "votes", upvotes_tally),
    Tally("stix_imports", "imports", readable_imports),
)


def kind_of_type(type_name: str) -> SharedKind | None:
    """The kind whose global ids carry `type_name`."""
    return next((kind for kind in KINDS if kind.type_name == type_name), None)

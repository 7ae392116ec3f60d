"""Pure functions that turn one verified webhook delivery's JSON into evidence drafts,
one module per provider (github, gitlab, bitbucket, cicd)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from arcos.evidence.drafts import EvidenceDraft
from arcos.webhooks.mapping import bitbucket, cicd, github, gitlab

#: Provider name (as used in webhook URLs and as evidence source) → its mapping module.
#: Each module has EVENTS, PING_EVENTS and normalize(event, payload).
MAPPINGS: dict[str, ModuleType] = {
    "github": github,
    "gitlab": gitlab,
    "bitbucket": bitbucket,
    "cicd": cicd,
}


def normalize(provider: str, event: str, payload: dict[str, Any]) -> list[EvidenceDraft]:
    """The drafts for one delivery to `provider`; [] for unknown providers and events."""
    module = MAPPINGS.get(provider)
    if module is None:
        return []
    drafts: list[EvidenceDraft] = module.normalize(event, payload)
    return drafts


def is_ping(provider: str, event: str) -> bool:
    """Whether `event` only checks that the hook is reachable (answer 200, store nothing)."""
    module = MAPPINGS.get(provider)
    return module is not None and event in module.PING_EVENTS


__all__ = ["MAPPINGS", "bitbucket", "cicd", "github", "gitlab", "is_ping", "normalize"]

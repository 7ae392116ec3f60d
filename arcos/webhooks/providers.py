"""The providers ARCOS accepts deliveries from, each with its checks and its mapping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

from arcos.webhooks import bitbucket, cicd, github, gitlab
from arcos.webhooks.deliveries import IncomingDelivery
from arcos.webhooks.mapping import bitbucket as bitbucket_mapping
from arcos.webhooks.mapping import cicd as cicd_mapping
from arcos.webhooks.mapping import github as github_mapping
from arcos.webhooks.mapping import gitlab as gitlab_mapping
from arcos.webhooks.service import EvidenceMapping

Verify = Callable[[Mapping[str, str], bytes, dict[str, list[str]], float], None]


@dataclass(frozen=True)
class Provider:
    name: str
    authentication: str
    secret_settings: tuple[str, ...]
    identify: Callable[[Mapping[str, str], bytes], IncomingDelivery]
    verify: Verify | None  # None: bearer-token authenticated (CI/CD)
    mapping: ModuleType
    #: Without any of these headers `verify` needs no body: it is run before reading one.
    signed_body_headers: tuple[str, ...] = ()

    def signs_body(self, headers: Mapping[str, str]) -> bool:
        """Whether this delivery claims a signature over its body."""
        return any(headers.get(name) for name in self.signed_body_headers)

    @property
    def signed(self) -> bool:
        """Whether deliveries arrive signed by the provider (not by a bearer token)."""
        return self.verify is not None

    @property
    def path(self) -> str:
        return f"/api/webhooks/{self.name}"

    @property
    def submitter(self) -> str:
        """Who evidence from signature-verified deliveries is recorded as."""
        return f"{self.name}-webhook"

    @property
    def evidence_mapping(self) -> EvidenceMapping:
        return EvidenceMapping.of(self.mapping)


PROVIDERS: dict[str, Provider] = {
    module.NAME: Provider(
        name=module.NAME,
        authentication=module.AUTHENTICATION,
        secret_settings=module.SECRET_SETTINGS,
        identify=module.identify,
        verify=getattr(module, "verify", None),
        mapping=mapping,
        signed_body_headers=getattr(module, "SIGNED_BODY_HEADERS", ()),
    )
    for module, mapping in (
        (github, github_mapping),
        (gitlab, gitlab_mapping),
        (bitbucket, bitbucket_mapping),
        (cicd, cicd_mapping),
    )
}


def evidence_mapping_for(provider: str) -> EvidenceMapping:
    return PROVIDERS[provider].evidence_mapping

"""Every domain this server runs. Adding a domain is adding its folder (with a `domain.py`
declaring its `Domain`) and one line here.

The order is the order of the root types' fields in the schema (schema.graphql) and of the
REST table's rows.
"""

from __future__ import annotations

from arcos.assurance.domain import ASSURANCE
from arcos.auth.domain import AUTH
from arcos.community.domain import COMMUNITY
from arcos.evidence.domain import EVIDENCE
from arcos.intake.domain import INTAKE
from arcos.plugins.domain import PLUGINS
from arcos.registry import Registry
from arcos.webhooks.domain import WEBHOOKS

REGISTRY = Registry((
    EVIDENCE,
    AUTH,
    WEBHOOKS,
    INTAKE,
    PLUGINS,
    COMMUNITY,
    ASSURANCE,
))

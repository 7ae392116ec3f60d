"""Access control's entry in the registry (arcos/domains.py): its token table and the
viewer / token fields. It owns no REST rows and no node types; its app service caches principals."""

from __future__ import annotations

from arcos.auth.principal_cache import PRINCIPAL_CACHE, principal_cache
from arcos.auth.schema import AuthMutations, AuthQueries
from arcos.auth.service import TOPICS
from arcos.registry import Domain, ServiceFactory

AUTH = Domain(
    name="auth",
    models=("arcos.auth.models",),
    query=AuthQueries,
    mutation=AuthMutations,
    topics=TOPICS,
    services=(ServiceFactory(PRINCIPAL_CACHE, principal_cache),),
)

"""One way to turn what a transport carries (a header, a connection_init payload) into a
Caller, so HTTP, websockets and the REST adapters authenticate identically."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from arcos.auth.caller import Caller
from arcos.auth.principal_cache import PRINCIPAL_CACHE, PrincipalCache
from arcos.auth.service import AuthenticationFailed, authenticate
from arcos.auth.token_format import bearer_token

if TYPE_CHECKING:
    from arcos.graphql.context import AppServices

WWW_AUTHENTICATE = 'Bearer realm="arcos"'


async def caller_from_authorization(
    value: str | None, anonymous_read: bool, principals: PrincipalCache | None = None
) -> Caller:
    """The caller for an Authorization value; anonymous when absent. `principals`: the
    app's principal cache (see `principals_of`); None reads the token every time.

    A value that is present but unusable is refused, never treated as anonymous.
    """
    if value is None or not value.strip():
        return Caller.anonymous(anonymous_read)
    token = bearer_token(value)
    if token is None:
        raise AuthenticationFailed("the Authorization value must be 'Bearer <token>'")
    return await authenticate(token, principals)


def principals_of(services: AppServices) -> PrincipalCache | None:
    """The principal cache of the app that owns `services`, when it runs one."""
    cache = services.domain_services.get(PRINCIPAL_CACHE)
    return cache if isinstance(cache, PrincipalCache) else None


def authorization_from_params(params: Mapping[str, Any] | None) -> str | None:
    """The Authorization value a websocket client put in its connection_init payload."""
    if not isinstance(params, Mapping):
        return None
    for key in ("authorization", "Authorization"):
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None

"""One way to turn what a transport carries (a header, a connection_init payload) into a
Caller, so HTTP, websockets and the REST adapters authenticate identically."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arcos.auth.caller import Caller
from arcos.auth.service import AuthenticationFailed, authenticate
from arcos.auth.token_format import bearer_token

WWW_AUTHENTICATE = 'Bearer realm="arcos"'


async def caller_from_authorization(value: str | None, anonymous_read: bool) -> Caller:
    """The caller for an Authorization value; anonymous when absent.

    A value that is present but unusable is refused, never treated as anonymous.
    """
    if value is None or not value.strip():
        return Caller.anonymous(anonymous_read)
    token = bearer_token(value)
    if token is None:
        raise AuthenticationFailed("the Authorization value must be 'Bearer <token>'")
    return await authenticate(token)


def authorization_from_params(params: Mapping[str, Any] | None) -> str | None:
    """The Authorization value a websocket client put in its connection_init payload."""
    if not isinstance(params, Mapping):
        return None
    for key in ("authorization", "Authorization"):
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None

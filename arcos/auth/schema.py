"""Who-am-I and token administration over GraphQL (the CLI's operations, for admins)."""

from datetime import datetime

import strawberry
from strawberry.types import Info

from arcos.auth import models, service
from arcos.auth.expiry import BadDuration, parse_duration
from arcos.auth.permissions import Public, requires
from arcos.auth.scopes import ADMIN as ADMIN_SCOPE
from arcos.auth.scopes import UnknownScope
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import UserError
from arcos.graphql.metadata import column_bound
from arcos.problems import ProblemCode
from arcos.store.unit_of_work import Writer

ADMIN = [requires(ADMIN_SCOPE)]

PrincipalKind = strawberry.enum(models.PrincipalKind, name="PrincipalKind")


@strawberry.type(description="The caller of this request.")
class Viewer:
    authenticated: bool
    name: str = strawberry.field(description="Principal name; `anonymous` without a token.")
    kind: str | None
    scopes: list[str]
    token_name: str | None


@strawberry.type(name="ApiToken", description="An API token; its secret is never shown again.")
class ApiTokenType:
    token_id: int = strawberry.field(name="tokenId")
    name: str
    principal: str
    principal_kind: PrincipalKind  # type: ignore[valid-type]
    display_prefix: str = strawberry.field(description="First characters, to recognise it.")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @strawberry.field(description="Neither revoked nor expired.")
    def active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > datetime.now(self.created_at.tzinfo)

    @classmethod
    def from_model(cls, token: models.ApiToken) -> "ApiTokenType":
        return cls(
            token_id=token.id, name=token.name, principal=token.principal.name,
            principal_kind=token.principal.kind, display_prefix=token.display_prefix,
            scopes=list(token.scopes), created_at=token.created_at, expires_at=token.expires_at,
            last_used_at=token.last_used_at, revoked_at=token.revoked_at,
        )


@strawberry.input
class CreateApiTokenInput:
    name: str = strawberry.field(description="Unique token name, e.g. jenkins-main.")
    scopes: list[str] = strawberry.field(description="e.g. [\"evidence:write\"].")
    principal: str | None = strawberry.field(
        default=None, description="Who the token acts for; created when new. Default: name."
    )
    principal_kind: PrincipalKind = models.PrincipalKind.CI  # type: ignore[valid-type]
    expires_in: str | None = strawberry.field(
        default=None, description="Lifetime such as 30d, 12h or 90m; none means no expiry."
    )


@strawberry.type
class CreateApiTokenPayload:
    token: str | None = strawberry.field(
        description="The secret: shown this once only, store it now."
    )
    api_token: ApiTokenType | None
    errors: list[UserError]


@strawberry.input
class RevokeApiTokenInput:
    token: str = strawberry.field(
        description="The token's tokenId or name.",
        metadata=column_bound(models.ApiToken, "name"),
    )


@strawberry.type
class RevokeApiTokenPayload:
    api_token: ApiTokenType | None
    errors: list[UserError]


@strawberry.type
class AuthQueries:
    @strawberry.field(description="Who you are and what you may do.", permission_classes=[Public])
    def viewer(self, info: Info[ArcosContext, None]) -> Viewer:
        caller = info.context.caller
        return Viewer(
            authenticated=caller.authenticated, name=caller.name, kind=caller.kind,
            scopes=info.context.scopes.held_by(caller), token_name=caller.token_name,
        )

    @strawberry.field(description="Every API token (admins).", permission_classes=ADMIN)
    async def api_tokens(self) -> list[ApiTokenType]:
        return [ApiTokenType.from_model(token) for token in await service.list_tokens()]


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Issue an API token (admins).", permission_classes=ADMIN)
    async def create_api_token(
        self, info: Info[ArcosContext, None], input: CreateApiTokenInput
    ) -> CreateApiTokenPayload:
        try:
            scopes = info.context.scopes.parse(input.scopes)
            expires_in = (
                parse_duration(input.expires_in) if input.expires_in is not None else None
            )
            issued = await service.create_token(
                input.name, scopes, _writer(info), input.principal, input.principal_kind,
                expires_in,
            )
        except UnknownScope as error:
            return _refused(CreateApiTokenPayload, "scopes", str(error))
        except BadDuration as error:
            return _refused(CreateApiTokenPayload, "expiresIn", str(error))
        except service.TokenError as error:
            return _refused(CreateApiTokenPayload, error.field, str(error))
        issued.token.principal = issued.principal
        return CreateApiTokenPayload(
            token=issued.secret, api_token=ApiTokenType.from_model(issued.token), errors=[]
        )

    @strawberry.mutation(description="Revoke an API token (admins).", permission_classes=ADMIN)
    async def revoke_api_token(
        self, info: Info[ArcosContext, None], input: RevokeApiTokenInput
    ) -> RevokeApiTokenPayload:
        try:
            token = await service.revoke_token(input.token, _writer(info))
        except service.TokenError as error:
            return RevokeApiTokenPayload(api_token=None, errors=[
                UserError(field="token", message=str(error), code=ProblemCode.NOT_FOUND)
            ])
        return RevokeApiTokenPayload(api_token=ApiTokenType.from_model(token), errors=[])


def _writer(info: Info[ArcosContext, None]) -> Writer:
    """The app's write path, which token changes take like every other write."""
    return info.context.write_context().writer


def _refused(
    payload: type[CreateApiTokenPayload], field: str | None, message: str
) -> CreateApiTokenPayload:
    return payload(
        token=None, api_token=None,
        errors=[UserError(field=field, message=message, code=ProblemCode.INVALID)],
    )

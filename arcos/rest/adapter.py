"""Runs a REST route: authenticate, build variables, execute the route's prepared GraphQL
operation with the caller's context, map the outcome to HTTP."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any

from graphql import OperationType
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType as StrawberryOperationType

from arcos.auth.caller import Caller
from arcos.auth.service import AuthenticationFailed
from arcos.auth.transport import caller_from_authorization, principals_of
from arcos.graphql.bounds import bounded_sites, first_overlong_argument
from arcos.graphql.context import AppServices, ArcosContext, ParsedText
from arcos.graphql.core_schema import core_schema
from arcos.graphql.direct_mutation import DirectMutations
from arcos.graphql.document_cache import document_cache
from arcos.graphql.errors import ArcosError
from arcos.graphql.limits import validation_rules
from arcos.rest.body_schema import BodyCheck
from arcos.rest.formats import render
from arcos.rest.operations import PreparedOperation
from arcos.rest.outcome import STATUS_BY_CODE, data_or_refusal, refuse_user_errors, value_at
from arcos.rest.request import RestCall
from arcos.rest.table import RestRoute
from arcos.web.problems import error_response
from arcos.web.refusal import RestRefusal

Endpoint = Callable[[Request], Awaitable[Response]]


class RestAdapter:
    """Executes prepared operations on behalf of HTTP callers; one per app."""

    def __init__(
        self, schema: Any, operations: dict[str, PreparedOperation], services: AppServices
    ) -> None:
        self.schema = schema
        self.operations = operations
        self.services = services
        self.settings = services.settings
        self.json_threads = services.json_threads
        self.principals = principals_of(services)
        #: Mutations compiled to run without the generic pipeline (tests count them).
        self.direct = DirectMutations(schema, validation_rules(self.settings.expose_schema))

    async def caller(self, request: Request) -> Caller:
        """The caller behind a request; a bad credential is a 401 RestRefusal."""
        try:
            return await caller_from_authorization(
                request.headers.get("authorization"), self.settings.anonymous_read,
                self.principals,
            )
        except AuthenticationFailed as failure:
            raise RestRefusal(401, str(failure), "UNAUTHENTICATED") from None

    def context(
        self, caller: Caller, request: Request, operation: PreparedOperation
    ) -> ArcosContext:
        return ArcosContext.of(
            self.services, caller, request=request, prepared_document=operation.document
        )

    async def execute(
        self, name: str, variables: dict[str, Any], caller: Caller, request: Request,
        parsed: ParsedText | None = None,
    ) -> ExecutionResult:
        """Run one prepared operation, allowing only its own operation type. `parsed`: a
        JSON text among the variables that the route has already parsed."""
        operation = self.operations[name]
        context = self.context(caller, request, operation)
        context.parsed_text = parsed
        if operation.operation_type is OperationType.MUTATION:
            plan = self.direct.plan(operation.document, operation.name)
            result = await plan.run(context, variables) if plan is not None else None
            if result is not None:
                return result
        return await self.schema.execute(
            operation.source,
            variable_values=variables,
            context_value=context,
            operation_name=operation.name,
            allowed_operation_types={StrawberryOperationType(operation.operation_type.value)},
        )

    async def subscribe(
        self, name: str, variables: dict[str, Any], caller: Caller, request: Request
    ) -> AsyncIterator[ExecutionResult] | ExecutionResult:
        """Start a prepared subscription after checking its root fields' permissions.

        Strawberry checks a subscription's permissions only when the first event is
        pulled, and reports refused arguments as its first event; an HTTP stream must
        refuse with 401/403 (or 400) before it sends its headers.
        """
        operation = self.operations[name]
        context = self.context(caller, request, operation)
        await self._check_root_permissions(operation, context)
        find_sites = document_cache(self.schema).remembered(bounded_sites)
        sites = find_sites(core_schema(self.schema), operation.document)
        overlong = first_overlong_argument(sites, variables)
        if overlong is not None:
            return ExecutionResult(data=None, errors=[overlong])
        return await self.schema.subscribe(
            operation.source,
            variable_values=variables,
            context_value=context,
            operation_name=operation.name,
        )

    def authorize(self, name: str, caller: Caller) -> None:
        """Refuse (401/403) a caller whose scopes cannot run operation `name`, before its
        body is read: the permission classes run again, in full, when it executes."""
        operation = self.operations[name]
        root_type = operation.operation_type.value.capitalize()
        for field_name in operation.root_fields:
            field = self.schema.get_field_for_type(field_name, root_type)
            for permission_class in field.permission_classes if field else ():
                check_caller = getattr(permission_class, "check_caller", None)
                if check_caller is None:
                    continue  # Public
                try:
                    check_caller(caller)
                except ArcosError as refusal:
                    raise _refusal(refusal) from None

    async def _check_root_permissions(
        self, operation: PreparedOperation, context: ArcosContext
    ) -> None:
        root_type = operation.operation_type.value.capitalize()
        for field_name in operation.root_fields:
            field = self.schema.get_field_for_type(field_name, root_type)
            for permission_class in field.permission_classes if field else ():
                try:
                    allowed = permission_class().has_permission(
                        None, SimpleNamespace(context=context)
                    )
                    if inspect.isawaitable(allowed):
                        await allowed
                except ArcosError as refusal:
                    raise _refusal(refusal) from None

    def endpoint(self, route: RestRoute) -> Endpoint:
        """The Starlette endpoint for one table row."""
        check_body = BodyCheck(route.body_schema) if route.body_schema is not None else None

        async def handle(request: Request) -> Response:
            call = RestCall(request, parse_pool=self.services.parse_pool,
                            json_threads=self.json_threads)
            try:
                caller = await self.caller(request)
                self.authorize(route.operation, caller)  # before any body is read
                variables = await route.variables(call)
                if check_body is not None and not _raw_body(request, route):
                    # After the row's own reading, whose messages say more; this catches
                    # what it let through (GraphQL would coerce "x" to ["x"]).
                    await check_body.ready()
                    check_body(await call.json_object())
                result = await self.execute(route.operation, variables, caller, request)
                data = data_or_refusal(result)
                if route.payload_path is not None:
                    refuse_user_errors(value_at(data, route.payload_path))
                body = route.shape.body(value_at(data, route.result_path), route.subject(call))
                response = await render(body, route, call)
            except RestRefusal as refusal:
                response = refusal_response(refusal, legacy=route.legacy)
            finally:
                call.close()
            response.headers["API-Version"] = route.version
            return response

        handle.__name__ = f"{route.method.lower()}_{route.operation}"
        return handle


def _raw_body(request: Request, route: RestRoute) -> bool:
    """Whether the body is one of the row's raw media types (YAML, …), not its JSON form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type in route.raw_body_types


def _refusal(refusal: ArcosError) -> RestRefusal:
    return RestRefusal(STATUS_BY_CODE.get(refusal.code, 403), str(refusal), refusal.code)


def refusal_response(refusal: RestRefusal, legacy: bool = False) -> Response:
    """The JSON error body: `{"errors": [...]}`, plus the original API's envelope."""
    envelope = {"success": False, "error": refusal.message} if legacy else {}
    return error_response(
        refusal.status, refusal.errors(), refusal.headers, {**envelope, **refusal.extra}
    )

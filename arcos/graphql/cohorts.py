"""One execution per cohort of equal subscriptions, and one serialisation per event.

A thousand clients subscribed to `evidenceAdded` with the same document used to cost a
thousand executions and a thousand JSON encodings of every event. Subscriptions that would
produce the same results — the same document, operation name and variables, for callers
who may see the same things — now form a *cohort* (Hasura's multiplexing): it runs one
strawberry stream, encodes each result's `next` payload once, and every member's operation
splices its own id around those bytes.

What a cohort's results may depend on is declared on the subscription field (metadata
`COHORT`, arcos/graphql/metadata.py): by default the caller's principal (name, kind) and
scopes; `SCOPES_ONLY` for a field whose results depend on scopes alone (so every caller
with the same scopes shares); `NOT_SHARED` keeps a field per subscriber. A field may also
name arguments (`PER_SUBSCRIBER_ARGUMENTS`) that make it per subscriber when given: a
resume cursor (`after`) replays a history of its own. Anything else — queries and
mutations over a websocket, a document that does not parse or validate the usual way,
more than one root selection — runs per subscriber as before.

The cohort's stream runs with a caller carrying the cohort's scopes but no token and no
place in the connection counts; each member keeps what is its own:

- its place in ARCOS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL's count, one per broker subscription
  the cohort holds (claimed as the stream subscribes, or at once when it already has),
  refused with the usual TOO_MANY_OPERATIONS error, given back when the member leaves;
- the check of the root field's scopes and of its token before it joins: a member whose
  check fails runs per subscriber instead, so it gets exactly today's refusal, never data;
- the token re-check every ARCOS_AUTH_RECHECK_SECONDS, ending only its own stream;
- a bounded queue (ARCOS_SUBSCRIBER_QUEUE_SIZE): a member that falls behind is cut off with
  SUBSCRIBER_TOO_SLOW while the others go on; the cohort never waits for a member.

A member whose socket can take a message at once (the server's `send_now`, see
arcos/web/ws_protocol.py) and that has nothing of its own still unsent gets each small event
written straight to its socket by the cohort's task, in the same pass over the members,
as `websockets.broadcast` does: no task of its own woken per event, and the message's bytes
built once per distinct operation id, not once per member. Whatever cannot go at once — the
transport's buffer is full, the message is large (the send lane's), something earlier is
still queued, or a revocation of its token was signalled (from then on, for good) —
goes through the member's queue and task as before, so each member's messages keep their
order, a slow one is still cut off by its queue's bound, and a signalled revocation is
checked before anything more is sent. (A token found revoked only by the periodic re-check
may still receive what is published while that check's read is in flight.)

The last member to leave closes the cohort's stream. `/healthz` keeps counting one broker
subscription per member and subscription (`shared_subscriptions`), as if each ran alone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    GraphQLError,
    NullValueNode,
    OperationType,
    VariableNode,
    get_operation_ast,
    parse,
)
from starlette.websockets import WebSocket
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from arcos.auth.caller import Caller
from arcos.auth.live import recheck_token, while_token_valid
from arcos.auth.principal_cache import PRINCIPAL_CACHE
from arcos.broker import SubscriberTooSlow
from arcos.graphql.context import AppServices, ArcosContext
from arcos.graphql.core_schema import core_schema
from arcos.graphql.document_cache import MAX_CACHED_DOCUMENT_CHARS, document_cache
from arcos.graphql.errors import ArcosError, ErrorCode, coded
from arcos.graphql.live_events import claim_place
from arcos.graphql.metadata import (
    COHORT,
    NOT_SHARED,
    PER_SUBSCRIBER_ARGUMENTS,
    SCOPES_ONLY,
)
from arcos.web.preencoded import encode

if TYPE_CHECKING:
    from arcos.web.connection_limits import Claim

logger = logging.getLogger("arcos.graphql")

#: strawberry's own definition of a graphql-core field (see arcos/graphql/core_schema.py).
STRAWBERRY_DEFINITION = "strawberry-definition"


@dataclass(frozen=True)
class PreExecution:
    """The stream's first result was a refusal before execution: every member gets it as
    its own first result (they share document, variables and scopes, so each would have)."""

    result: PreExecutionError


@dataclass(frozen=True)
class Failed:
    """This member's stream ends with `error` (too slow, token revoked, no place left)."""

    error: GraphQLError


class _End:
    """The cohort's stream ended."""


END = _End()

#: What a member's operation receives: a `next` payload's JSON text, or how it ends.
Item = str | PreExecution | Failed | _End


class Outgoing:
    """One event's `next` payload as the members' sockets get it: the whole message's UTF-8
    bytes are built once per distinct (prefix, suffix) — members whose clients number their
    operations alike share one bytes object — and only for the event at hand."""

    __slots__ = ("_messages", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._messages: dict[tuple[str, str], bytes] = {}

    def message(self, prefix: str, suffix: str) -> bytes:
        key = (prefix, suffix)
        message = self._messages.get(key)
        if message is None:
            message = self._messages[key] = (prefix + self.text + suffix).encode()
        return message


#: Writes an event to a member's socket now and says so, or says it cannot (see Member).
DirectWriter = Callable[[Outgoing], bool]


def failure(error: ArcosError) -> Failed:
    """`error` as strawberry would have reported it raised from the source stream."""
    return Failed(coded(GraphQLError(str(error), original_error=error)))


def next_payload(result: ExecutionResult) -> str:
    """The JSON text of a `next` (graphql-transport-ws) or `data` (graphql-ws) payload, as
    strawberry builds both."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return encode(payload).text()


@dataclass(frozen=True)
class _Plan:
    """How a subscription may be shared: its root field's permission classes and the
    visibility its results depend on."""

    permission_classes: tuple[type, ...]
    scopes_only: bool


class Member:
    """One operation's place in a cohort: its queue, its claims, its end."""

    def __init__(self, cohort: Cohort, context: ArcosContext) -> None:
        self.cohort = cohort
        self.context = context
        self.queue_size = context.settings.subscriber_queue_size
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        self.ended = False
        self.claims: list[Claim] = []
        #: `next` payloads queued for the member's task and not yet sent by it.
        self.unsent = 0
        #: The member's socket writer while its operation runs (None: always queue).
        self.direct: DirectWriter | None = None
        #: Set when a revocation of the member's token is signalled: from then on it takes
        #: only the queue, whose reader re-checks the token before sending more.
        self.doubt: asyncio.Event | None = None

    def offer(self, item: Item, outgoing: Outgoing | None = None) -> None:
        if self.ended:
            return
        if isinstance(item, str):
            if outgoing is not None and self._write_now(outgoing):
                return
            if self.queue.qsize() >= self.queue_size:
                slow = SubscriberTooSlow(self.cohort.topic or "?", self.queue_size)
                self.end(failure(ArcosError(str(slow), ErrorCode.SUBSCRIBER_TOO_SLOW)))
                return
            self.unsent += 1
            self.cohort.hub.queued += 1
            self.queue.put_nowait(item)
            return
        self.end(item)

    def _write_now(self, outgoing: Outgoing) -> bool:
        """Write straight to the socket when nothing of this member's waits before it and
        no revocation is pending; False when the item must be queued."""
        direct = self.direct
        if direct is None or self.unsent or (self.doubt is not None and self.doubt.is_set()):
            return False
        try:
            return direct(outgoing)
        except Exception:  # one socket's failure is its member's alone: its task meets it
            logger.exception("a direct write to a subscriber failed; queueing instead")
            self.direct = None
            return False

    def end(self, item: Item) -> None:
        """End this member's stream with `item` after what it has queued."""
        if not self.ended:
            self.ended = True
            self.queue.put_nowait(item)

    def claim(self) -> None:
        """One more place in the caller's subscription count (the cohort subscribed to one
        more topic); without one, this member ends as it would have alone."""
        if self.ended:
            return
        try:
            claim = claim_place(self.context)
        except ArcosError as refused:
            self.end(failure(refused))
            return
        if claim is not None:
            self.claims.append(claim)

    def leave(self) -> None:
        self.ended = True
        self.cohort.remove(self)
        claims, self.claims = self.claims, []
        for claim in claims:
            claim.release()

    async def items(self, direct: DirectWriter | None = None) -> AsyncIterator[Item]:
        """The member's queued `next` payloads, then how it ended; while it runs, `direct`
        (when given) may write events straight to its socket instead (see the module
        docstring). Its token is watched as every other subscription's is
        (`while_token_valid`: re-checked every ARCOS_AUTH_RECHECK_SECONDS, and at once when
        the principal cache hears of a revocation), per member, since the shared stream runs
        without a token."""
        context = self.context
        principals = context.domain_services.get(PRINCIPAL_CACHE)
        token_id = context.caller.token_id
        watching = (
            principals.watch(token_id) if principals is not None and token_id is not None
            else nullcontext(None)
        )
        with watching as doubt:
            self.doubt = doubt
            self.direct = direct
            try:
                async for item in while_token_valid(
                    self._queued(), context.caller, context.settings.auth_recheck_seconds,
                    principals,
                ):
                    yield item
                    if not isinstance(item, str):
                        return
                    self.unsent -= 1
            except ArcosError as revoked:
                self.ended = True
                yield failure(revoked)
            finally:
                self.direct = None

    async def _queued(self) -> AsyncIterator[Item]:
        while True:
            yield await self.queue.get()


class Cohort:
    """One shared stream and its members."""

    def __init__(
        self, hub: SubscriptionCohorts, key: tuple[Any, ...], context: ArcosContext,
        query: str, variables: dict[str, Any] | None, operation_name: str | None,
    ) -> None:
        self.hub = hub
        self.key = key
        self.members: set[Member] = set()
        #: Broker subscriptions the stream holds now; each member counts as holding as many.
        self.live = 0
        #: The first topic the stream subscribed to (named in a too-slow member's error).
        self.topic: str | None = None
        #: Results executed (and encoded) by this cohort.
        self.executions = 0
        context.broker = _CountingBroker(context.broker, self)
        self.context = context
        self.task = asyncio.create_task(self._run(query, variables, operation_name))

    def join(self, context: ArcosContext) -> Member:
        member = Member(self, context)
        self.members.add(member)
        for _ in range(self.live):
            member.claim()
        return member

    def remove(self, member: Member) -> None:
        self.members.discard(member)
        if not self.members and self.hub.forget(self):
            self.task.cancel()

    def subscribed(self, topic: str) -> None:
        self.topic = self.topic or topic
        self.live += 1
        for member in list(self.members):
            member.claim()

    def _send(self, item: Item) -> None:
        outgoing = Outgoing(item) if isinstance(item, str) else None
        for member in list(self.members):
            member.offer(item, outgoing)

    async def _run(
        self, query: str, variables: dict[str, Any] | None, operation_name: str | None
    ) -> None:
        self.hub.running.add(self)
        ending: Item = END
        try:
            source = await self.hub.schema.stream(
                query, variable_values=variables, context_value=self.context,
                operation_name=operation_name,
            )
            async with aclosing(source):
                first = True
                async for result in source:
                    if first and isinstance(result, PreExecutionError):
                        ending = PreExecution(result)
                        return
                    first = False
                    if not isinstance(result, ExecutionResult):  # pragma: no cover
                        return  # incremental delivery: subscriptions never produce it
                    self.executions += 1
                    self.hub.executions += 1
                    self._send(next_payload(result))
        except Exception:
            logger.exception("a shared subscription failed")
        finally:
            self.hub.forget(self)
            self.hub.running.discard(self)
            self._send(ending)


class _CountingBroker:
    """The app's broker as a cohort's stream sees it: each subscription it holds is
    counted on the cohort (and claimed by every member)."""

    def __init__(self, broker: Any, cohort: Cohort) -> None:
        self._broker = broker
        self._cohort = cohort

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Any]]:
        async with self._broker.subscribe(topic) as events:
            self._cohort.subscribed(topic)
            try:
                yield events
            finally:
                self._cohort.live -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._broker, name)


class SubscriptionCohorts:
    """The app's cohorts of shared subscriptions (created by the GraphQL view)."""

    def __init__(self, schema: Any, services: AppServices) -> None:
        self.schema = schema
        self.services = services
        self.settings = services.settings
        self._cohorts: dict[tuple[Any, ...], Cohort] = {}
        #: Cohorts whose stream has not finished (joinable or not).
        self.running: set[Cohort] = set()
        #: Results executed by every cohort so far (what sharing saves is visible here).
        self.executions = 0
        #: `next` payloads that went through a member's queue and task rather than straight
        #: to its socket (what the direct writes save is visible here).
        self.queued = 0

    def shared_subscriptions(self) -> int:
        """Broker subscriptions the members would hold each on its own, beyond the ones the
        cohorts hold: added to the broker's count, it counts as if nothing were shared."""
        return sum((len(cohort.members) - 1) * cohort.live for cohort in self.running)

    def cohort_count(self) -> int:
        return len(self._cohorts)

    def forget(self, cohort: Cohort) -> bool:
        """Stop `cohort` taking new members; False when it already had."""
        if self._cohorts.get(cohort.key) is cohort:
            del self._cohorts[cohort.key]
            return True
        return False

    async def join(
        self, context: ArcosContext, query: str, variables: Mapping[str, Any] | None,
        operation_name: str | None,
    ) -> Member | None:
        """A place for `context`'s operation in the cohort of equal subscriptions (started
        when there is none), or None when the operation must run on its own."""
        caller = context.caller
        plan = self._plan(query, operation_name, variables)
        if plan is None or not self._may_join(caller, plan):
            return None
        if not await self._token_still_valid(context):
            return None
        try:
            canonical = json.dumps(variables or {}, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return None
        visibility: tuple[Any, ...] = (tuple(sorted(caller.scopes)), caller.authenticated)
        if not plan.scopes_only:
            visibility += (caller.name, caller.kind)
        key = (query, operation_name, canonical, visibility)
        cohort = self._cohorts.get(key)
        if cohort is None:
            shared = Caller(
                name=caller.name if not plan.scopes_only else "cohort",
                scopes=caller.scopes, authenticated=caller.authenticated,
                kind=caller.kind if not plan.scopes_only else None,
            )
            cohort_context = replace(
                context, caller=shared, request=None, response=None,
                connection_params=None, connection_limits=None, loaders={},
                parsed_text=None,
            )
            cohort = Cohort(
                self, key, cohort_context, query,
                json.loads(canonical) if variables else variables, operation_name,
            )
            self._cohorts[key] = cohort
        return cohort.join(context)

    def _plan(
        self, query: str, operation_name: str | None, variables: Mapping[str, Any] | None
    ) -> _Plan | None:
        if not isinstance(query, str) or len(query) > MAX_CACHED_DOCUMENT_CHARS:
            return None
        if "subscription" not in query:
            return None
        if variables is not None and not isinstance(variables, Mapping):
            return None
        try:
            document = document_cache(self.schema).remembered(parse)(
                query, max_tokens=self.settings.max_tokens
            )
        except (GraphQLError, RecursionError):
            return None
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
            return None
        selections = operation.selection_set.selections
        if len(selections) != 1 or not isinstance(selections[0], FieldNode):
            return None
        node = selections[0]
        root = core_schema(self.schema).subscription_type
        if node.directives or root is None or node.name.value not in root.fields:
            return None
        field = root.fields[node.name.value].extensions.get(STRAWBERRY_DEFINITION)
        metadata = getattr(field, "metadata", None) or {}
        sharing = metadata.get(COHORT)
        if field is None or sharing == NOT_SHARED:
            return None
        per_subscriber = {"after", *metadata.get(PER_SUBSCRIBER_ARGUMENTS, ())}
        for argument in node.arguments or ():
            if argument.name.value not in per_subscriber:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                if (variables or {}).get(value.name.value) is not None:
                    return None
            elif not isinstance(value, NullValueNode):
                return None
        return _Plan(tuple(field.permission_classes), sharing == SCOPES_ONLY)

    @staticmethod
    def _may_join(caller: Caller, plan: _Plan) -> bool:
        """Whether the root field's permission classes let `caller` in, checked without
        I/O; a caller they refuse (or that they cannot check so) runs on its own and gets
        its refusal exactly as before."""
        for permission in plan.permission_classes:
            check = getattr(permission, "check_caller", None)
            if check is None:
                return False
            try:
                check(caller)
            except ArcosError:
                return False
        return True

    @staticmethod
    async def _token_still_valid(context: ArcosContext) -> bool:
        """The permission classes' start-of-operation token re-check (at most every
        ARCOS_AUTH_RECHECK_SECONDS per socket), which the cohort's token-less stream skips."""
        caller = context.caller
        if caller.token_id is None or not isinstance(context.request, WebSocket):
            return True
        now = time.monotonic()
        if now - context.auth_checked_at < context.settings.auth_recheck_seconds:
            return True
        try:
            await recheck_token(caller)
        except ArcosError:
            return False
        context.auth_checked_at = now
        return True

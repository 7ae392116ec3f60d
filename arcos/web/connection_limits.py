"""How many live connections (websockets and SSE streams) one client may hold open,
counted per key in this process.

One read token once held 1,500 websockets with 20 subscriptions each (+755 MB). Each live
connection now takes a place in a count: per principal, or per client address for anonymous
readers, until it closes; a websocket also holds a place per address from its upgrade until
`connection_ack`. A full count refuses the connection (websocket close 4429, HTTP 429) with
a reason naming the setting to raise.

Subscriptions are counted too, across all of a principal's connections: every subscriber
gets its own copy of each event, so one large write costs the server a few copies of it per
subscription. Sockets times ARCOS_MAX_SUBSCRIPTIONS_PER_CONNECTION let one read token hold
64 x 20 = 1,280 of them, and one 4.4 MB event then cost about nine seconds of copying (7 ms
each); ARCOS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL (100) bounds that to under a second, whatever
the mix of sockets and streams.

Behind a reverse proxy every client has the proxy's address: raise the per-address limits
there, or have the proxy enforce its own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from arcos.auth.caller import Caller
from arcos.settings import Settings, env_name

#: Websocket close code for a refused connection: "too many" in the 44xx range.
TOO_MANY_CONNECTIONS = 4429


class ConnectionRefused(Exception):
    """A connection the limits do not admit; `reason` names the setting and fits a close
    frame (123 bytes)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Count:
    """Open connections per key, at most `limit` each."""

    setting: str
    limit: int
    what: str
    open: Counter[str] = field(default_factory=Counter)

    def claim(self, key: str) -> Claim:
        if self.open[key] >= self.limit:
            raise ConnectionRefused(
                f"too many {self.what} ({env_name(self.setting)}={self.limit}); close one"
            )
        self.open[key] += 1
        return Claim(self, key)

    def release(self, key: str) -> None:
        self.open[key] -= 1
        if self.open[key] <= 0:
            del self.open[key]


@dataclass
class Claim:
    """One place in a count; `release()` gives it back once, however often it is called."""

    count: Count
    key: str
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.count.release(self.key)


@dataclass
class Admission:
    """The places one websocket holds, given back together when it closes."""

    limits: ConnectionLimits
    address: str
    pending: Claim
    acknowledged: Claim | None = None

    def acknowledge(self, caller: Caller) -> None:
        """Move the socket from the pending count to its caller's live count; raises
        `ConnectionRefused` when that one is full. A second connection_init (the legacy
        protocol allows it) gives back the place the first one took."""
        if self.acknowledged is not None:
            self.acknowledged.release()
        self.acknowledged = self.limits.claim_live(caller, self.address)
        self.pending.release()

    def release(self) -> None:
        self.pending.release()
        if self.acknowledged is not None:
            self.acknowledged.release()


class ConnectionLimits:
    """The counts of one server process, shared by the websocket and SSE endpoints."""

    def __init__(self, settings: Settings) -> None:
        self.pending = Count(
            "ws_max_pending_per_address", settings.ws_max_pending_per_address,
            "websockets awaiting connection_ack per address",
        )
        self.principals = Count(
            "max_live_connections_per_principal", settings.max_live_connections_per_principal,
            "live connections per principal",
        )
        self.subscriptions = Count(
            "max_subscriptions_per_principal", settings.max_subscriptions_per_principal,
            "subscriptions per principal",
        )
        self.anonymous = Count(
            "max_anonymous_live_connections_per_address",
            settings.max_anonymous_live_connections_per_address,
            "anonymous live connections per address",
        )

    def admit_websocket(self, address: str) -> Admission:
        """A place for a new websocket from `address` until it is acknowledged."""
        return Admission(self, address, self.pending.claim(address))

    def claim_live(self, caller: Caller, address: str) -> Claim:
        """A place for an authenticated connection: per principal, or per address for an
        anonymous reader."""
        if caller.authenticated:
            return self.principals.claim(caller.name)
        return self.anonymous.claim(address)

    def claim_subscription(self, caller: Caller, address: str) -> Claim:
        """A place for one subscription: per principal, or per address for anonymous
        readers."""
        return self.subscriptions.claim(
            caller.name if caller.authenticated else f"anonymous@{address}"
        )

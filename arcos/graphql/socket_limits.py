"""How many websockets one client may hold open, counted per key in this process.

One read token once held 1,500 sockets with 20 subscriptions each (+755 MB). Each socket
now takes a place in up to two counts: per client address until `connection_ack`, then per
principal (or per address for anonymous readers) until it closes. A full count refuses the
socket with close code 4429 and a reason naming the setting to raise. With
`ARCOS_MAX_SUBSCRIPTIONS_PER_CONNECTION` this also bounds one principal's subscriptions to
sockets times subscriptions per socket, so there is no separate subscription count.

Behind a reverse proxy every client has the proxy's address: raise the per-address limits
there, or have the proxy enforce its own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from arcos.auth.caller import Caller
from arcos.graphql.errors import ErrorCode
from arcos.settings import Settings, env_name

#: Close code for a refused socket: "too many" in graphql-transport-ws's 44xx range.
TOO_MANY_SOCKETS = 4429


class SocketRefused(Exception):
    """A websocket the limits do not admit; `reason` fits a close frame (<= 123 bytes)."""

    code = TOO_MANY_SOCKETS

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def error(self) -> dict[str, object]:
        """The refusal as a GraphQL error, for protocols that send one before closing."""
        return {"message": self.reason, "extensions": {"code": ErrorCode.RATE_LIMITED.value}}


@dataclass
class SocketCount:
    """Open sockets per key, at most `limit` each."""

    setting: str
    limit: int
    what: str
    open: Counter[str] = field(default_factory=Counter)

    def claim(self, key: str) -> Claim:
        if self.open[key] >= self.limit:
            raise SocketRefused(
                f"too many websockets {self.what} ({env_name(self.setting)}={self.limit}); "
                "close one first"
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

    count: SocketCount
    key: str
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.count.release(self.key)


@dataclass
class Admission:
    """The places one websocket holds, given back together when it closes."""

    limits: SocketLimits
    address: str
    pending: Claim
    acknowledged: Claim | None = None

    def acknowledge(self, caller: Caller) -> None:
        """Move the socket from the pending count to its principal's (or address's) count;
        raises `SocketRefused` when that one is full. A second connection_init (the legacy
        protocol allows it) gives back the place the first one took."""
        if self.acknowledged is not None:
            self.acknowledged.release()
        if caller.authenticated:
            self.acknowledged = self.limits.principals.claim(caller.name)
        else:
            self.acknowledged = self.limits.anonymous.claim(self.address)
        self.pending.release()

    def release(self) -> None:
        self.pending.release()
        if self.acknowledged is not None:
            self.acknowledged.release()


class SocketLimits:
    """The three counts of one server process."""

    def __init__(self, settings: Settings) -> None:
        self.pending = SocketCount(
            "ws_max_pending_per_address", settings.ws_max_pending_per_address,
            "awaiting connection_ack per address",
        )
        self.principals = SocketCount(
            "ws_max_sockets_per_principal", settings.ws_max_sockets_per_principal,
            "per principal",
        )
        self.anonymous = SocketCount(
            "ws_max_anonymous_sockets_per_address",
            settings.ws_max_anonymous_sockets_per_address,
            "per anonymous address",
        )

    def admit(self, address: str) -> Admission:
        """A place for a new socket from `address`, or `SocketRefused`."""
        return Admission(self, address, self.pending.claim(address))

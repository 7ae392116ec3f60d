"""Watch evidence arrive live: subscribe to evidenceAdded over a websocket and print each
item as one JSON line until Ctrl-C. Speaks graphql-transport-ws or the legacy graphql-ws."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
OPERATION_ID = "evidence"

EVIDENCE_ADDED = """
subscription EvidenceAdded($type: String, $project: String) {
  evidenceAdded(type: $type, project: $project) {
    id type source project { slug } commitSha ref data metadata sha256 submittedBy createdAt
  }
}
"""


class WatchError(Exception):
    """A connection or protocol failure; main() prints it as one line and exits 1."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Print each new ARCOS evidence item as one JSON line until Ctrl-C."
    )
    parser.add_argument(
        "--url", default="ws://127.0.0.1:8000/graphql", help="the GraphQL websocket endpoint"
    )
    parser.add_argument("--type", help="only evidence of this type, e.g. test_results")
    parser.add_argument("--project", help="only evidence of this project slug")
    parser.add_argument(
        "--protocol", choices=[TRANSPORT_WS, LEGACY_WS], default=TRANSPORT_WS,
        help=f"websocket subprotocol (default {TRANSPORT_WS})",
    )
    parser.add_argument(
        "--token", default=os.environ.get("ARCOS_TOKEN"),
        help="API token, sent in connection_init as authorization: Bearer <token> "
        "(default: $ARCOS_TOKEN)",
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0,
        help="seconds to wait for the connection and its acknowledgement (default 10)",
    )
    return parser.parse_args(argv)


class Watcher:
    """One subscription on one websocket; the two protocols differ only in message names."""

    def __init__(self, websocket: ClientConnection, protocol: str, out: TextIO) -> None:
        self.websocket = websocket
        self.legacy = protocol == LEGACY_WS
        self.out = out

    async def send(self, message: dict[str, Any]) -> None:
        await self.websocket.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        """The next message that matters; keep-alives and pings are handled here."""
        while True:
            try:
                raw = await self.websocket.recv()
            except ConnectionClosed as closed:
                raise WatchError(_closed_reason(closed)) from None
            try:
                message = json.loads(raw)
            except ValueError:
                raise WatchError(f"the server sent non-JSON: {raw!r:.200}") from None
            if not isinstance(message, dict):
                raise WatchError(f"the server sent an unexpected message: {message!r:.200}")
            kind = message.get("type")
            if kind == "ka":
                continue
            if kind == "ping" and not self.legacy:
                await self.send({"type": "pong"})
                continue
            if kind == "pong":
                continue
            return message

    async def start(
        self, init_payload: dict[str, Any], variables: dict[str, Any], ack_within: float
    ) -> None:
        """connection_init, wait for the ack, then start the subscription."""
        await self.send({"type": "connection_init", "payload": init_payload})
        try:
            ack = await asyncio.wait_for(self.receive(), ack_within)
        except TimeoutError:
            raise WatchError(f"no connection_ack within {ack_within:g}s") from None
        if ack.get("type") == "connection_error":
            reason = (ack.get("payload") or {}).get("message") or "no reason given"
            raise WatchError(f"the server refused the connection: {reason}")
        if ack.get("type") != "connection_ack":
            raise WatchError(f"expected connection_ack, got {json.dumps(ack):.200}")
        await self.send({
            "id": OPERATION_ID,
            "type": "start" if self.legacy else "subscribe",
            "payload": {"query": EVIDENCE_ADDED, "variables": variables},
        })

    async def print_events(self) -> None:
        """Print each event until the server ends the subscription or reports an error."""
        result_type = "data" if self.legacy else "next"
        while True:
            message = await self.receive()
            kind = message.get("type")
            if kind == result_type:
                payload = message.get("payload") or {}
                if payload.get("errors"):
                    raise WatchError(f"subscription failed: {_describe(payload['errors'])}")
                evidence = (payload.get("data") or {}).get("evidenceAdded")
                print(json.dumps(evidence, sort_keys=True), file=self.out, flush=True)
            elif kind == "error":
                raise WatchError(f"subscription refused: {_describe(message.get('payload'))}")
            elif kind == "complete":
                raise WatchError("the server ended the subscription")
            elif kind == "connection_error":
                raise WatchError(f"connection error: {json.dumps(message.get('payload'))}")
            else:
                raise WatchError(f"unexpected message: {json.dumps(message):.200}")

    async def stop(self) -> None:
        """Tell the server we are done with the subscription (the socket closes after)."""
        with contextlib.suppress(ConnectionClosed):
            await self.send({"id": OPERATION_ID, "type": "stop" if self.legacy else "complete"})


#: Close codes graphql-transport-ws servers use, and what the user should do about them.
CLOSE_HINTS = {
    4400: "the server could not understand a message",
    4401: "the subscription was sent before the connection was acknowledged",
    4403: "the server refused the connection: pass a valid --token with the evidence:read scope",
    4406: "the server does not accept this --protocol",
    4408: "connection_init was not acknowledged in time",
    4429: "too many connection_init messages",
}


def _closed_reason(closed: ConnectionClosed) -> str:
    received = closed.rcvd
    if received is None:
        return "the connection was lost"
    hint = CLOSE_HINTS.get(received.code, "the server closed the connection")
    reason = f", {received.reason!r}" if received.reason else ""
    return f"{hint} (close code {received.code}{reason})"


def _describe(errors: Any) -> str:
    """GraphQL errors (one or a list) as `message [CODE]; ...`."""
    items = errors if isinstance(errors, list) else [errors]
    parts = []
    for error in items:
        if isinstance(error, dict):
            code = (error.get("extensions") or {}).get("code")
            parts.append(f"{error.get('message')}" + (f" [{code}]" if code else ""))
        else:
            parts.append(str(error))
    return "; ".join(parts)


async def watch(args: argparse.Namespace, out: TextIO = sys.stdout) -> None:
    """Subscribe and print events until SIGINT/SIGTERM (returns) or a failure (raises)."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # e.g. on Windows
            loop.add_signal_handler(signum, stopped.set)

    init_payload = {"authorization": f"Bearer {args.token}"} if args.token else {}
    variables = {"type": args.type, "project": args.project}
    async with connect(
        args.url, subprotocols=[Subprotocol(args.protocol)], open_timeout=args.timeout,
        close_timeout=2,
    ) as websocket:
        if websocket.subprotocol != args.protocol:
            raise WatchError(f"the server does not speak {args.protocol}")
        watcher = Watcher(websocket, args.protocol, out)
        await watcher.start(init_payload, variables, args.timeout)
        printing = asyncio.create_task(watcher.print_events())
        stopping = asyncio.create_task(stopped.wait())
        done, pending = await asyncio.wait(
            {printing, stopping}, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        if printing in done:
            printing.result()  # raises the WatchError that ended it
        await watcher.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(watch(args))
    except KeyboardInterrupt:
        return 0
    except WatchError as error:
        print(f"watch_evidence: {error}", file=sys.stderr)
        return 1
    except InvalidURI as error:
        print(f"watch_evidence: bad --url: {error}", file=sys.stderr)
        return 1
    except InvalidHandshake as error:
        print(f"watch_evidence: {args.url} refused the websocket: {error}", file=sys.stderr)
        return 1
    except (OSError, TimeoutError) as error:
        print(f"watch_evidence: cannot connect to {args.url}: {error!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

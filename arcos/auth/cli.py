"""`arcos token create | list | revoke`: token administration from a shell.

Each command opens the same store as `arcos serve` (`--database-url` or
ARCOS_DATABASE_URL) and works while the server runs: SQLite in WAL mode lets both write.
Unlike `arcos serve`, a token command never creates an SQLite store (unless told to with
`--create-store`): run in the wrong directory it would otherwise make an empty one and
issue a token no server knows.

Creating and revoking go through a unit of work like every server write, so a revocation
lands in the outbox (topic `auth.token_revoked`) in its own transaction, where a server
sharing the store finds it; the command's own broker has no subscribers. With Redis
configured (ARCOS_BROKER_URL), a revocation also changes the deployment's revocation
epoch before the command exits, so every instance refuses the token from its next
request (arcos/shared_state/epoch.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime

from arcos.auth import service
from arcos.auth.expiry import BadDuration, parse_duration
from arcos.auth.models import ApiToken, PrincipalKind
from arcos.auth.scopes import ScopeCatalogue, UnknownScope
from arcos.db import StoreUnavailable, sqlite_file, store
from arcos.settings import Settings, env_name
from arcos.shared_state import shared_redis
from arcos.shared_state.epoch import SharedEpoch
from arcos.store.unit_of_work import Writer, command_writer


def add_token_commands(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    known: ScopeCatalogue,
) -> None:
    """The `token` commands; `known` is every scope the server's domains declare."""
    token = commands.add_parser("token", help="create, list and revoke API tokens")
    actions = token.add_subparsers(dest="action", required=True)

    create = actions.add_parser("create", help="issue a token and print its secret once")
    create.add_argument("--name", required=True, help="unique token name, e.g. jenkins-main")
    create.add_argument(
        "--scope", action="append", required=True, dest="scopes", metavar="SCOPE",
        help="repeatable; one of: " + ", ".join(scope.value for scope in known),
    )
    create.add_argument("--principal", help="who the token acts for (default: --name)")
    create.add_argument(
        "--kind", default=PrincipalKind.CI.value, choices=[k.value for k in PrincipalKind],
        help="kind of a new principal (default: ci)",
    )
    create.add_argument("--expires-in", help="lifetime such as 30d, 12h, 90m (default: none)")
    create.add_argument(
        "--create-store", action="store_true",
        help="create the SQLite store if it does not exist yet (to issue a token before "
        "the server's first start)",
    )
    create.set_defaults(handler=_create, known_scopes=known)

    listing = actions.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(handler=_list)

    revoke = actions.add_parser("revoke", help="revoke a token by id or name")
    revoke.add_argument("token", metavar="ID_OR_NAME")
    revoke.set_defaults(handler=_revoke)

    for parser in (create, listing, revoke):
        parser.add_argument("--database-url", help="the store (ARCOS_DATABASE_URL)")


class CommandFailed(Exception):
    """A token command refused its input; the message goes to stderr, exit status 1."""


def run_token_command(args: argparse.Namespace) -> int:
    settings = Settings.from_env(database_url=args.database_url)
    try:
        if not getattr(args, "create_store", False):
            _require_existing_store(settings, from_flag=args.database_url is not None)
        return asyncio.run(_with_store(settings, args))
    except (CommandFailed, StoreUnavailable) as failure:
        print(f"arcos token: {failure}", file=sys.stderr)
        return 1


def _require_existing_store(settings: Settings, *, from_flag: bool) -> None:
    """Refuse to work on an SQLite store that does not exist, naming where it looked."""
    path = sqlite_file(settings)
    if path is None or path.exists():
        return
    variable = env_name("database_url")
    if from_flag:
        origin = "--database-url"
    elif variable in os.environ:
        origin = variable
    else:
        origin = f"the default {variable}, relative to {os.getcwd()}"
    raise CommandFailed(
        f"no ARCOS store at {path} (from {origin}). Point the command at the store "
        "`arcos serve` uses: run it in the server's directory, or pass "
        "--database-url sqlite://PATH (or set ARCOS_DATABASE_URL). "
        "`token create --create-store` makes a new store there."
    )


async def _with_store(settings: Settings, args: argparse.Namespace) -> int:
    shared = shared_redis(settings)
    try:
        async with store(settings), command_writer(settings, service.TOPICS) as writer:
            if shared is not None:
                epoch = SharedEpoch(shared, service.REVOCATION_EPOCH)
                writer.on_commit(service.TOKEN_REVOKED, lambda _: epoch.change())
            handler: Callable[[argparse.Namespace, Writer], Awaitable[int]] = args.handler
            return await handler(args, writer)
    finally:
        if shared is not None:
            await shared.close()


async def _create(args: argparse.Namespace, writer: Writer) -> int:
    try:
        scopes = args.known_scopes.parse(args.scopes)
        # An empty --expires-in is a mistake to refuse, not "never expires".
        expires_in = parse_duration(args.expires_in) if args.expires_in is not None else None
        issued = await service.create_token(
            args.name, scopes, writer, args.principal, PrincipalKind(args.kind), expires_in
        )
    except (UnknownScope, BadDuration, service.TokenError) as error:
        raise CommandFailed(str(error)) from None
    print(issued.secret)
    expiry = issued.token.expires_at.isoformat() if issued.token.expires_at else "never"
    print(
        f"token {issued.token.name!r} (id {issued.token.id}) for {issued.principal.name!r}, "
        f"scopes {', '.join(issued.token.scopes)}, expires {expiry}. "
        "The secret above is shown only this once.",
        file=sys.stderr,
    )
    return 0


async def _list(args: argparse.Namespace, writer: Writer) -> int:
    tokens = await service.list_tokens()
    if args.json:
        for token in tokens:
            print(json.dumps(_describe(token)))
        return 0
    print(f"{'ID':>4}  {'NAME':<24} {'PRINCIPAL':<16} {'PREFIX':<11} {'STATE':<8} SCOPES")
    for token in tokens:
        row = _describe(token)
        print(
            f"{row['id']:>4}  {row['name']:<24} {row['principal']:<16} "
            f"{row['prefix']:<11} {row['state']:<8} {','.join(row['scopes'])}"
        )
    return 0


async def _revoke(args: argparse.Namespace, writer: Writer) -> int:
    try:
        token = await service.revoke_token(args.token, writer)
    except service.TokenError as error:
        raise CommandFailed(str(error)) from None
    print(f"revoked token {token.name!r} (id {token.id})", file=sys.stderr)
    return 0


def _describe(token: ApiToken) -> dict[str, object]:
    now = datetime.now(token.created_at.tzinfo)
    if token.revoked_at is not None:
        state = "revoked"
    elif token.expires_at is not None and token.expires_at <= now:
        state = "expired"
    else:
        state = "active"
    return {
        "id": token.id, "name": token.name, "principal": token.principal.name,
        "prefix": token.display_prefix, "state": state, "scopes": list(token.scopes),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
    }

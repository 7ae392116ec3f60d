"""The `arcos` command: serve, export-schema, settings, migrate, token, and each domain's
own commands (Domain.cli; plugins).

The domains (and so the store and the token commands) are imported inside `main`, with
the garbage collector paused (arcos/startup_collector.py): building the parser is where
every command pays for them. `serve` with one worker keeps it paused until its app's
lifespan has started.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from functools import partial

from arcos.settings import Settings, SettingsError, documented_settings, env_name
from arcos.startup_collector import StartupPause, end_startup_pause


def main(argv: Sequence[str] | None = None) -> int:
    with StartupPause() as pause:
        parser = _parser()
        args = parser.parse_args(argv)
        if args.command == "serve":
            if args.workers == 1 and not args.reload:
                # The app starts in this process: its lifespan ends the pause.
                pause.hold_until_serving()
            else:
                pause.freeze_survivors()
    from arcos.auth.cli import run_token_command
    from arcos.db import StoreUnavailable

    try:
        if args.command == "token":
            return run_token_command(args)
        return int(args.handler(args) or 0)
    except SettingsError as error:
        print(f"arcos: {error}", file=sys.stderr)
        return 2
    except StoreUnavailable as error:
        print(f"arcos: {error}", file=sys.stderr)
        return 1
    finally:
        # A server whose app never started (or has stopped) cannot have ended the pause.
        end_startup_pause()


def _parser() -> argparse.ArgumentParser:
    from arcos.auth.cli import add_token_commands
    from arcos.domains import REGISTRY
    from arcos.migrate_cli import add_migrate_commands

    parser = argparse.ArgumentParser(
        prog="arcos", description="ARCOS: a GraphQL-first assurance-evidence server."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server (SQLite ./arcos.db by default)")
    serve.add_argument("--host", help="interface (ARCOS_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (ARCOS_PORT, default 8000)")
    serve.add_argument(
        "--database-url", help="sqlite://PATH or postgres://… (ARCOS_DATABASE_URL)"
    )
    serve.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    serve.add_argument(
        "--workers", type=int, default=1,
        help="worker processes (uvicorn workers; above 1 needs ARCOS_BROKER_URL)",
    )
    serve.set_defaults(handler=_serve)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument("--output", help="write to this file instead of stdout")
    export.set_defaults(handler=_export_schema)

    show = commands.add_parser("settings", help="list every ARCOS_* setting and its default")
    show.set_defaults(handler=_show_settings)

    add_migrate_commands(commands)  # migrate, make-migration (arcos/migrate_cli.py)
    add_token_commands(commands, REGISTRY.scopes)
    REGISTRY.add_commands(commands)  # each domain's own (Domain.cli)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from arcos.log_config import configure_logging
    from arcos.web.shutdown import DrainingHttpProtocol, exit_quietly_after_shutdown
    from arcos.web.worker_metrics import shared_metrics_dir
    from arcos.web.ws_protocol import ArcosWebSocketProtocol

    settings = Settings.from_env(
        host=args.host, port=args.port, database_url=args.database_url
    )
    check_workers(args.workers, settings, args.reload)
    log_config = configure_logging(settings)
    # Open the store once first: an unreachable database is one line here, rather than a
    # traceback from uvicorn's lifespan. This also creates a new SQLite store.
    asyncio.run(_check_store(settings))
    # uvicorn builds the app itself (needed for --reload), so hand it the settings as env.
    os.environ.update(settings.to_env())
    print(f"ARCOS on http://{settings.host}:{settings.port}/graphql", file=sys.stderr)
    exit_quietly_after_shutdown()
    with shared_metrics_dir() if args.workers > 1 else nullcontext():
        uvicorn.run(
            "arcos.app:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            reload=args.reload,
            workers=args.workers,
            log_level=settings.log_level.lower(),
            log_config=log_config,
            lifespan="on",
            # Graceful shutdown (arcos/web/shutdown.py): the HTTP protocol tells the app,
            # which ends SSE streams; websockets close with 1001; in-flight requests get
            # this long.
            http=DrainingHttpProtocol,
            timeout_graceful_shutdown=settings.shutdown_grace_seconds,
            # Our protocol bounds messages before connection_ack (see
            # arcos/web/ws_protocol.py); ws_max_size is the bound after it.
            ws=partial(ArcosWebSocketProtocol, max_init_bytes=settings.ws_max_init_bytes),
            ws_max_size=settings.ws_max_message_bytes,
            ws_per_message_deflate=settings.ws_compression,
        )
    return 0


def check_workers(workers: int, settings: Settings, reload: bool) -> None:
    """Refuse a worker count the deployment cannot serve correctly, saying why.

    Workers are separate processes: with the in-process broker a subscriber on one worker
    would never hear of evidence written through another, and each worker would grant its
    own rate-limit budget and trust its own token cache after a revocation through another.
    Redis (ARCOS_BROKER_URL) is what makes them one server."""
    if workers < 1:
        raise SettingsError("--workers must be 1 or more")
    if workers == 1:
        return
    if reload:
        raise SettingsError("--reload runs one worker; drop --workers or --reload")
    if not settings.broker_url:
        raise SettingsError(
            f"--workers {workers} needs {env_name('broker_url')}=redis://HOST:6379/0: each "
            "worker is its own process, and the in-process broker, rate limits and token "
            "caches are per process (a subscriber on one worker would never hear of writes "
            "through another, and each worker would grant its own write budget). Set "
            f"{env_name('broker_url')} to a Redis all workers share, or run one worker."
        )


async def _check_store(settings: Settings) -> None:
    from arcos.db import store

    async with store(settings):
        pass


def _export_schema(args: argparse.Namespace) -> int:
    from arcos.schema import schema_sdl

    sdl = schema_sdl()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(sdl)
    else:
        sys.stdout.write(sdl)
    return 0


def _show_settings(args: argparse.Namespace) -> int:
    for name, default, doc in documented_settings():
        print(f"{name}={default}\n    {doc}")
    return 0

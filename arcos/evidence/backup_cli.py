"""`arcos export` and `arcos import`: evidence backups as NDJSON (the evidence domain's
commands, Domain.cli).

Both open the store `arcos serve` uses (`--database-url` or ARCOS_DATABASE_URL) and work
while servers run on it. Export refuses an SQLite store that does not exist rather than
making an empty one; import creates it (restoring into a fresh store is what it is for).
Exit status: 0 done, 1 refused (the message names the line), 2 a bad setting.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from arcos.settings import Settings

if TYPE_CHECKING:
    from arcos.evidence.restore import ImportReport


def add_backup_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    export = commands.add_parser(
        "export", help="write every evidence item and relation as NDJSON (a backup)"
    )
    export.add_argument("--output", "-o", type=Path,
                        help="write to this file (complete or not at all) instead of stdout")
    export.set_defaults(handler=_export)
    restore = commands.add_parser(
        "import", help="read an `arcos export` file into the store, verifying every hash"
    )
    restore.add_argument("file", type=Path, help="the NDJSON file `arcos export` wrote")
    restore.add_argument("--check", action="store_true",
                         help="only verify the file; write nothing and open no store")
    restore.set_defaults(handler=_import)
    for parser in (export, restore):
        parser.add_argument("--database-url", help="the store (ARCOS_DATABASE_URL)")


def _export(args: argparse.Namespace) -> int:
    from arcos.db import sqlite_file, store
    from arcos.evidence.export import export_evidence

    settings = Settings.from_env(database_url=args.database_url)
    path = sqlite_file(settings)
    if path is not None and not path.exists():
        print(f"arcos export: no ARCOS store at {path}; pass --database-url (or set "
              "ARCOS_DATABASE_URL) to the store `arcos serve` uses", file=sys.stderr)
        return 1

    async def run() -> tuple[str, ...]:
        async with store(settings):
            if args.output is None:
                counts = await export_evidence(sys.stdout)
            else:
                partial = args.output.with_name(args.output.name + ".partial")
                try:
                    with partial.open("w", encoding="ascii") as out:
                        counts = await export_evidence(out)
                        os.fsync(out.fileno())
                    partial.replace(args.output)
                finally:
                    partial.unlink(missing_ok=True)
        print(f"arcos export: {counts.evidence} evidence items, {counts.relations} relations",
              file=sys.stderr)
        return counts.unverified

    unverified = asyncio.run(run())
    if unverified:
        print(f"arcos export: {len(unverified)} items' data, as the store returns it, no "
              f"longer hashes to their sha256 (first: {', '.join(unverified[:5])}); the file "
              "holds them, and `arcos import` will refuse their lines", file=sys.stderr)
        return 1
    return 0


def _import(args: argparse.Namespace) -> int:
    from arcos.db import store
    from arcos.evidence.events import EVIDENCE_ADDED
    from arcos.evidence.restore import ImportRefused, check_file, import_file
    from arcos.evidence.service import draft_limits
    from arcos.store.unit_of_work import command_writer

    settings = Settings.from_env(database_url=args.database_url)
    limits = draft_limits(settings)
    if not args.file.is_file():
        print(f"arcos import: {args.file} is not a file", file=sys.stderr)
        return 1

    async def run() -> None:
        async with store(settings), command_writer(settings, {EVIDENCE_ADDED}) as writer:
            report = await import_file(args.file, limits, writer, checked=True)
        print(f"arcos import: {_counts(report)}", file=sys.stderr)

    try:
        # Checked before the store is opened: a bad file neither writes nor creates one.
        checked = check_file(args.file, limits)
        if args.check:
            print(f"arcos import: {args.file} is a complete, intact export "
                  f"({checked.lines} lines)", file=sys.stderr)
            return 0
        asyncio.run(run())
    except ImportRefused as refused:
        written = ("nothing was written" if refused.written is None else
                   f"before its batch: {_counts(refused.written)}; importing again skips "
                   "those")
        print(f"arcos import: {args.file}: {refused} ({written})", file=sys.stderr)
        return 1
    return 0


def _counts(report: ImportReport) -> str:
    return (f"{report.lines} lines; evidence {report.evidence_written} written, "
            f"{report.evidence_present} already present; relations "
            f"{report.relations_written} written, {report.relations_present} already present")

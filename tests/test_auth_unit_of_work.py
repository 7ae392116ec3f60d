"""Token changes take the one write path: a unit of work, its retry and its outbox.

A revocation is an `auth.token_revoked` outbox event (what a principal cache will listen
to), written once however many revocations race; tokens for one new principal issued at
the same time both succeed (the retry finds the principal the other request created);
and a token name already taken stays a TokenError.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from arcos.auth.models import ApiToken, Principal
from arcos.auth.service import TOKEN_REVOKED, TokenError, create_token, revoke_token
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.store.outbox import OutboxEvent

READ = frozenset({EVIDENCE_READ})


async def revocation_events() -> list[OutboxEvent]:
    return await OutboxEvent.filter(topic=TOKEN_REVOKED).order_by("position")


async def test_a_revocation_is_one_outbox_event_however_many_race(app):
    writer = app.app.state.writer
    issued = await create_token("ci-bot", READ, writer)
    received: list[dict] = []

    async def listen(ready: asyncio.Event) -> None:
        async with writer.broker.subscribe(TOKEN_REVOKED) as events:
            ready.set()
            async for event in events:
                received.append(event)
                return

    ready = asyncio.Event()
    listener = asyncio.create_task(listen(ready))
    await ready.wait()
    revoked = await asyncio.gather(*(revoke_token("ci-bot", writer) for _ in range(4)))
    await asyncio.wait_for(listener, 5)

    assert len({token.revoked_at for token in revoked}) == 1  # the first time is kept
    rows = await revocation_events()
    assert [(row.key, json.loads(row.payload)) for row in rows] == [(
        str(issued.token.id),
        {"token_id": issued.token.id, "token_name": "ci-bot", "principal": "ci-bot"},
    )]
    assert received[0]["token_id"] == issued.token.id
    stored = await ApiToken.get(id=issued.token.id)
    assert stored.revoked_at == revoked[0].revoked_at
    # Revoking again changes nothing and publishes nothing.
    await revoke_token(str(issued.token.id), writer)
    assert len(await revocation_events()) == 1


async def test_an_unknown_token_is_refused_and_publishes_nothing(app):
    with pytest.raises(TokenError, match="no token"):
        await revoke_token("nobody", app.app.state.writer)
    assert await revocation_events() == []


async def test_tokens_for_one_new_principal_issued_at_once_both_succeed(app):
    """On PostgreSQL both transactions insert the principal; the loser's retry finds it.
    (Before the unit of work, the loser was refused as "a token named ... already
    exists", naming a token that did not exist.)"""
    writer = app.app.state.writer
    issued = await asyncio.gather(
        *(create_token(f"bot-{i}", READ, writer, "shared-team") for i in range(4))
    )
    assert sorted(token.token.name for token in issued) == [f"bot-{i}" for i in range(4)]
    assert await Principal.filter(name="shared-team").count() == 1
    assert {token.principal.id for token in issued} == {
        (await Principal.get(name="shared-team")).id
    }


async def test_a_taken_token_name_stays_a_token_error(app):
    writer = app.app.state.writer
    await create_token("taken", READ, writer)
    results = await asyncio.gather(
        *(create_token("taken", READ, writer, f"p{i}") for i in range(3)),
        return_exceptions=True,
    )
    assert all(isinstance(result, TokenError) and result.field == "name" for result in results)
    assert await ApiToken.filter(name="taken").count() == 1


def test_a_revocation_from_the_command_line_reaches_the_outbox(tmp_path: Path):
    store = tmp_path / "cli.db"
    url = f"sqlite://{store}"

    def arcos(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "arcos", "token", *args, "--database-url",
                               url], capture_output=True, text=True, timeout=60)

    created = arcos("create", "--create-store", "--name", "jenkins", "--scope", "admin")
    assert created.returncode == 0, created.stderr
    revoked = arcos("revoke", "jenkins")
    assert revoked.returncode == 0, revoked.stderr
    with sqlite3.connect(store) as connection:
        rows = connection.execute(
            "SELECT topic, key, payload FROM arcos_outbox ORDER BY position"
        ).fetchall()
    assert [(topic, json.loads(payload)["token_name"]) for topic, _, payload in rows] == [
        (TOKEN_REVOKED, "jenkins")
    ]

"""The outbox keeps ARCOS_OUTBOX_RETENTION_HOURS of events; resuming from a point that
was swept is refused with a message saying what to do instead of silently skipping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import running_app

from arcos.store.outbox import OutboxEvent

SUBMIT = ('mutation($n: Int!) { submitEvidence(input: {type: "build", source: "ci", '
          'data: {n: $n}}) { evidence { cursor } errors { message } } }')


async def test_sweep_drops_old_events_but_keeps_the_newest_and_resume_says_why(settings):
    async with running_app(settings.replace(outbox_retention_hours=1)) as running, \
            running.client(running.admin_token) as http:
        cursors = []
        for n in range(3):
            body = (await http.post("/graphql", json={"query": SUBMIT,
                                                      "variables": {"n": n}})).json()
            cursors.append(body["data"]["submitEvidence"]["evidence"]["cursor"])
        assert await OutboxEvent.all().count() == 3
        await OutboxEvent.all().update(created_at=datetime.now(UTC) - timedelta(hours=2))
        await running.app.state.housekeeping.run_once()
        # Everything is past the window, but the newest event stays (a reader resuming
        # from it must still find it).
        assert await OutboxEvent.all().count() == 1

        document = "subscription($after: String) { evidenceAdded(after: $after) { cursor } }"
        stream = await running.app.state.schema.subscribe(
            document, variable_values={"after": cursors[0]},
            context_value=await _context(running),
        )
        first = await anext(stream)
        await stream.aclose()
    [error] = first.errors
    assert error.extensions["code"] == "BAD_USER_INPUT"
    assert "ARCOS_OUTBOX_RETENTION_HOURS" in error.message
    assert "evidenceConnection" in error.message


async def _context(running):
    from arcos.auth.transport import caller_from_authorization
    from arcos.graphql.context import ArcosContext

    state = running.app.state
    caller = await caller_from_authorization(f"Bearer {running.admin_token}", False)
    return ArcosContext(settings=state.settings, broker=state.broker, caller=caller,
                        rate_limiter=state.rate_limiter, writer=state.writer)

"""`arcos serve`, sabotaged to die between a commit and its publication.

After ARCOS_TEST_CRASH_AFTER_COMMITS units of work that publish something have committed,
the process exits with CRASH_EXIT_CODE at once: the last unit's rows and outbox events are
committed, and no subscriber was told. Started by tests/test_outbox_crash.py through
conftest.start_server(command=...).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from arcos.cli import main
from arcos.store.outbox import Message
from arcos.store.relay import Relay

CRASH_EXIT_CODE = 70


def sabotage(limit: int) -> None:
    """Make the relay kill the process once `limit` publishing units have committed."""
    committed = Relay.committed
    publishing_commits = 0

    async def crash_on_the_last(self: Relay, messages: Iterable[Message]) -> None:
        nonlocal publishing_commits
        messages = list(messages)
        if messages:
            publishing_commits += 1
            if publishing_commits >= limit:
                os._exit(CRASH_EXIT_CODE)
        await committed(self, messages)

    Relay.committed = crash_on_the_last  # type: ignore[method-assign]


if __name__ == "__main__":
    sabotage(int(os.environ["ARCOS_TEST_CRASH_AFTER_COMMITS"]))
    sys.exit(main(["serve"]))

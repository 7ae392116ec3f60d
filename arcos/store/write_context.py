"""What every service write takes: who writes, under which settings, through which writer.

One object instead of a list of positional arguments, so a service that needs one more
app-owned thing does not change every caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from arcos.settings import Settings
from arcos.store.unit_of_work import Writer
from arcos.web.json_threads import INLINE, JsonThreads


@dataclass(frozen=True)
class WriteContext:
    #: The principal the write is recorded under (`submitted_by`, `created_by`).
    principal: str
    settings: Settings
    writer: Writer
    #: Where large JSON is checked and encoded, off the event loop.
    json_threads: JsonThreads = INLINE

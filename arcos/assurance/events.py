"""The assurance domain's broker event: a case got a new version.

A case's watcher (arcos/assurance/case_watchers.py) listens to the evidence and metric
channels of the projects its rules read. An edit can change that set (a new Solution whose
rule names another project) and the statuses themselves, and no evidence event would tell
the watcher: so every new version is published, after its commit, on the case's channel.
"""

from __future__ import annotations

import uuid

from arcos.broker import channel
from arcos.store.outbox import Message

CASE_EDITED = "assurance.case_edited"


def case_channel(case_uid: str) -> str:
    """The broker topic carrying one case's edits."""
    return channel(CASE_EDITED, case=case_uid)


def case_edited_message(case_uid: uuid.UUID, version: int) -> Message:
    """What `updateAssuranceCase` publishes when its new version commits."""
    key = str(case_uid)
    return Message(topic=CASE_EDITED, event={"case": key, "version": version},
                   key=f"{key}:{version}", channels=(case_channel(key),))

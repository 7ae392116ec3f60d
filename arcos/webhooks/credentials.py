"""Which secrets each provider is checked against: an admin's run-time override when one
exists, else the ARCOS_* setting; each with its `…_PREVIOUS` twin during rotation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from arcos.settings import Settings
from arcos.store.outbox import Message
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext
from arcos.webhooks.models import WebhookSecret

#: Published when a secret is set at run time: `{"name": ...}`, never the value. Caches of
#: the secrets in force (arcos/webhooks/secret_cache.py) obey it.
SECRET_SET = "webhooks.secret_set"  # noqa: S105 - a topic name


async def secret_overrides(names: Iterable[str]) -> dict[str, WebhookSecret]:
    """The run-time overrides among `names`, by name (one query)."""
    return {row.name: row for row in await WebhookSecret.filter(name__in=list(names))}


def secrets_in_force(
    names: tuple[str, ...], settings: Settings, overrides: Mapping[str, WebhookSecret]
) -> dict[str, list[str]]:
    """Current and previous values for each name (empty list when none is configured)."""
    secrets: dict[str, list[str]] = {}
    for name in names:
        row = overrides.get(name)
        if row is not None:
            values = [row.current, row.previous or ""]
        else:
            values = [getattr(settings, name), getattr(settings, f"{name}_previous")]
        secrets[name] = [value for value in values if value]
    return secrets


async def configured_secrets(names: tuple[str, ...], settings: Settings) -> dict[str, list[str]]:
    """`secrets_in_force` for `names`, reading their overrides."""
    return secrets_in_force(names, settings, await secret_overrides(names))


def rotation_under_way(
    names: tuple[str, ...], settings: Settings, overrides: Mapping[str, WebhookSecret]
) -> bool:
    """Whether any of these secrets has a previous value in force."""
    for name in names:
        row = overrides.get(name)
        if (row.previous if row is not None else getattr(settings, f"{name}_previous")):
            return True
    return False


async def set_secret(
    name: str, value: str, keep_previous: bool, write: WriteContext
) -> WebhookSecret:
    """Override a secret at run time; the value in force so far stays valid as `previous`
    when asked (the setting's value, the first time).

    One unit of work. The row is read locked (PostgreSQL; SQLite runs one writer at a
    time), so two rotations in a row each keep the value before them; two first-time sets
    both insert, the unique name refuses the second, and its retry updates the row the
    first created: both succeed, the later one's value in force.
    """

    async def work(unit: UnitOfWork) -> WebhookSecret:
        unit.publish(Message(topic=SECRET_SET, event={"name": name}, key=name))
        row = await WebhookSecret.filter(name=name).using_db(
            unit.connection
        ).select_for_update().first()
        if row is None:
            in_force = getattr(write.settings, name) or None
            return await WebhookSecret.create(
                name=name, current=value, previous=in_force if keep_previous else None,
                updated_by=write.principal, using_db=unit.connection,
            )
        row.previous = row.current if keep_previous else None
        row.current = value
        row.updated_by = write.principal
        await row.save(using_db=unit.connection)
        return row

    return await write.writer.run(work, retries=2)

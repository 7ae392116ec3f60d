"""The catalogue's writes: register, approve, revoke, enable, unregister.

Versions are immutable: a new version is a new row, signed at registration. Only a
version's standing changes. Each write is one unit of work; those that change which
version the catalogue shows for a plugin (`is_latest`: the highest non-revoked one) —
registration, revocation, removal — refresh it in the same unit.

Every write first takes the plugin's lock (`lock_plugin`): the checks read the plugin's
rows and then write, which under READ COMMITTED lets two concurrent writers both pass
(two owners of a new id, two latest versions) unless they queue on the plugin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arcos.auth.caller import Caller
from arcos.auth.scopes import ADMIN
from arcos.plugins.host import PluginHost
from arcos.plugins.integrity import code_sha256
from arcos.plugins.manifest import Manifest, Permission, semver_key
from arcos.plugins.models import PluginVersion, VersionState
from arcos.plugins.permissions import holds_all, names, permissions
from arcos.plugins.validation import Report, check_plugin
from arcos.problems import Problem, ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext


class RegistrationRefused(Refused):
    """Refused with the full report, so callers can show lines and columns."""

    def __init__(self, report: Report) -> None:
        super().__init__(report.refused().problems)
        self.report = report


async def register(
    raw_manifest: Any, code: Any, caller: Caller, write: WriteContext, host: PluginHost
) -> PluginVersion:
    """Check, sign and store a new version; raises RegistrationRefused listing every problem.

    It is ACTIVE at once when it asks for nothing its predecessor was not approved for, or
    when the registrant holds every permission it asks for; otherwise PENDING_APPROVAL.
    """
    report = await check_plugin(raw_manifest, code, host)
    if not report.valid or report.manifest is None:
        raise RegistrationRefused(report)
    manifest = report.manifest
    digest = code_sha256(code)
    signature = host.signer.sign(manifest, digest)

    async def work(unit: UnitOfWork) -> PluginVersion:
        await lock_plugin(manifest.id, unit)
        earlier = await PluginVersion.filter(plugin_id=manifest.id).using_db(unit.connection)
        _check_may_add(manifest, earlier, caller)
        state, approved, approver = _standing(manifest, earlier, caller)
        row = await PluginVersion.create(
            plugin_id=manifest.id, version=manifest.version, kind=manifest.kind.value,
            name=manifest.name, description=manifest.description, author=manifest.author,
            tags=list(manifest.tags), search_text=search_text(manifest),
            manifest=manifest.to_json(), code=code,
            code_sha256=digest, signature=signature, key_id=host.signer.key_id,
            requested_permissions=names(manifest.permissions),
            approved_permissions=names(approved), state=state, registered_by=caller.name,
            has_triggers=bool(manifest.triggers),
            approved_by=approver, approved_at=unit.now if approver else None,
            created_at=unit.now, using_db=unit.connection,
        )
        await refresh_latest(manifest.id, unit)
        return await PluginVersion.get(id=row.id).using_db(unit.connection)

    async def taken(_: Exception) -> PluginVersion:
        raise Refused.one(
            "manifest.version", f"{manifest.id}@{manifest.version} is already registered; "
            "versions never change: register a new version", ProblemCode.CONFLICT,
        )

    return await write.writer.run(work, retries=0, on_conflict=taken)


def search_text(manifest: Manifest) -> str:
    """What a catalogue search matches a version by."""
    return " ".join((manifest.id, manifest.name, manifest.description, *manifest.tags)).lower()


def _check_may_add(manifest: Manifest, earlier: Sequence[PluginVersion], caller: Caller) -> None:
    """Only the plugin's first registrant (or an admin) publishes versions of its id, and
    each version must sort apart from every earlier one (else which is latest is a tie)."""
    if any(row.version == manifest.version for row in earlier):
        raise Refused.one(
            "manifest.version", f"{manifest.id}@{manifest.version} is already registered "
            "(or was, and was unregistered); versions never change: register a new version",
            ProblemCode.CONFLICT,
        )
    # Equal precedence (differing only in build metadata) would leave "latest" undecided.
    key = semver_key(manifest.version)
    same = sorted(row.version for row in earlier if semver_key(row.version) == key)
    if same:
        raise Refused.one(
            "manifest.version", f"{manifest.id}@{manifest.version} has the same precedence as "
            f"{', '.join(same)}, already registered: build metadata (after '+') does not "
            "order versions; register a higher version", ProblemCode.CONFLICT,
        )
    owners = {row.registered_by for row in earlier}
    if owners and caller.name not in owners and not caller.may(ADMIN):
        raise Refused.one(
            "manifest.id", f"{manifest.id} is published by {', '.join(sorted(owners))}; only "
            "they or an admin may register versions of it: choose another id",
            ProblemCode.CONFLICT,
        )


def _standing(
    manifest: Manifest, earlier: Sequence[PluginVersion], caller: Caller
) -> tuple[VersionState, frozenset[Permission], str | None]:
    """State, approved permissions and approver of a new version.

    Its predecessor is the highest lower version that is not revoked; what that one was
    approved for carries over, and anything more needs someone who holds it.
    """
    wanted = frozenset(manifest.permissions)
    if holds_all(caller, wanted):
        return VersionState.ACTIVE, wanted, caller.name
    key = semver_key(manifest.version)
    lower = [row for row in earlier if row.state != VersionState.REVOKED
             and row.removed_at is None and semver_key(row.version) < key]
    predecessor = max(lower, key=lambda row: semver_key(row.version), default=None)
    inherited = permissions(predecessor.approved_permissions) if predecessor else frozenset()
    if predecessor is not None and wanted <= inherited:
        return VersionState.ACTIVE, wanted, predecessor.approved_by
    return VersionState.PENDING_APPROVAL, frozenset(), None


async def approve(
    plugin_id: str, version: str, granted: Sequence[str] | None, caller: Caller,
    write: WriteContext,
) -> PluginVersion:
    """Approve a pending version for `granted` (default: all it asks for)."""

    async def work(unit: UnitOfWork) -> PluginVersion:
        await lock_plugin(plugin_id, unit)
        row = await _version(plugin_id, version, unit)
        if row.state != VersionState.PENDING_APPROVAL:
            raise Refused.one("version", f"{row.label} is {row.state.value}, not waiting for "
                              "approval", ProblemCode.CONFLICT)
        wanted = permissions(row.requested_permissions)
        approved = wanted if granted is None else _granted(granted, wanted)
        if not caller.may(ADMIN) and not holds_all(caller, wanted):
            raise Refused.one("version", f"approving {row.label} takes an admin or a token "
                              "holding every scope behind the permissions it asks for ("
                              + ", ".join(names(wanted)) + ")", ProblemCode.INVALID)
        row.state = VersionState.ACTIVE
        row.approved_permissions = names(approved)
        row.approved_by, row.approved_at = caller.name, unit.now
        await row.save(using_db=unit.connection, update_fields=[
            "state", "approved_permissions", "approved_by", "approved_at"])
        return row

    return await write.writer.run(work)


def _granted(granted: Sequence[str], wanted: frozenset[Permission]) -> frozenset[Permission]:
    chosen = permissions(granted)
    unknown = sorted(set(granted) - {p.value for p in chosen})
    extra = names(chosen - wanted)
    if unknown or extra:
        raise Refused.one("permissions", "approve only permissions the version asks for ("
                          + ", ".join(names(wanted)) + "); not: " + ", ".join(unknown + extra),
                          ProblemCode.INVALID)
    return chosen


async def revoke(
    plugin_id: str, version: str | None, caller: Caller, write: WriteContext
) -> list[PluginVersion]:
    """Revoke one version, or every version of the plugin; the next call is refused."""

    async def work(unit: UnitOfWork) -> list[PluginVersion]:
        await lock_plugin(plugin_id, unit)
        rows = await _versions(plugin_id, version, unit)
        for row in rows:
            if row.state == VersionState.REVOKED:
                continue
            row.state, row.revoked_by, row.revoked_at = VersionState.REVOKED, caller.name, unit.now
            await row.save(using_db=unit.connection,
                           update_fields=["state", "revoked_by", "revoked_at"])
        await refresh_latest(plugin_id, unit)
        return list(await PluginVersion.filter(id__in=[row.id for row in rows]).using_db(
            unit.connection).order_by("id"))

    return await write.writer.run(work)


async def set_enabled(
    plugin_id: str, version: str | None, enabled: bool, caller: Caller, write: WriteContext
) -> list[PluginVersion]:
    """Turn a version (or every version) on or off; turning on clears the failure count."""

    async def work(unit: UnitOfWork) -> list[PluginVersion]:
        await lock_plugin(plugin_id, unit)
        rows = await _versions(plugin_id, version, unit)
        _check_owner(rows, caller)
        for row in rows:
            row.enabled = enabled
            row.disabled_reason = None if enabled else f"disabled by {caller.name}"
            if enabled:
                row.consecutive_failures = 0
            await row.save(using_db=unit.connection, update_fields=[
                "enabled", "disabled_reason", "consecutive_failures"])
        return rows

    return await write.writer.run(work)


async def unregister(plugin_id: str, caller: Caller, write: WriteContext) -> int:
    """Take a plugin out of the catalogue. Its rows stay (executions name them, and evidence
    it wrote names them as its source), so none of its versions can be registered again.
    Returns how many versions were removed."""

    async def work(unit: UnitOfWork) -> int:
        await lock_plugin(plugin_id, unit)
        rows = await _versions(plugin_id, None, unit)
        _check_owner(rows, caller)
        return await PluginVersion.filter(plugin_id=plugin_id, removed_at=None).using_db(
            unit.connection).update(removed_at=unit.now, is_latest=False)

    return await write.writer.run(work)


async def lock_plugin(plugin_id: str, unit: UnitOfWork) -> None:
    """Queue this unit behind any other catalogue write to `plugin_id` until it commits.

    A PostgreSQL transaction-scoped advisory lock keyed by the id: row locks cannot do it,
    since a new id has no rows to lock yet. The two-key form keeps these locks apart from
    the outbox's one-key lock. SQLite needs nothing: it runs one writer at a time.
    """
    if unit.connection.capabilities.dialect == "postgres":
        await unit.connection.execute_query(
            "SELECT pg_advisory_xact_lock(hashtext('arcos.plugins'), hashtext($1))", [plugin_id])


def _check_owner(rows: Sequence[PluginVersion], caller: Caller) -> None:
    owners = {row.registered_by for row in rows}
    if caller.name not in owners and not caller.may(ADMIN):
        raise Refused.one("plugin", f"only an admin or {', '.join(sorted(owners))} (who "
                          "registered it) may change this plugin", ProblemCode.INVALID)


async def _version(plugin_id: str, version: str, unit: UnitOfWork) -> PluginVersion:
    rows = await _versions(plugin_id, version, unit)
    return rows[0]


async def _versions(plugin_id: str, version: str | None, unit: UnitOfWork) -> list[PluginVersion]:
    """The catalogue's versions of `plugin_id` (or just `version`), locked for the update;
    Refused NOT_FOUND when there are none."""
    queryset = PluginVersion.filter(plugin_id=plugin_id, removed_at=None)
    if version is not None:
        queryset = queryset.filter(version=version)
    rows = await queryset.select_for_update().using_db(unit.connection).order_by("id")
    if not rows:
        what = f"{plugin_id}@{version}" if version else plugin_id
        raise Refused([Problem("plugin", f"no plugin {what} in the catalogue",
                               ProblemCode.NOT_FOUND)])
    return list(rows)


async def refresh_latest(plugin_id: str, unit: UnitOfWork) -> None:
    """Mark the highest non-revoked version in the catalogue as the one it shows."""
    rows = await PluginVersion.filter(plugin_id=plugin_id, removed_at=None).using_db(
        unit.connection)
    live = [row for row in rows if row.state != VersionState.REVOKED]
    latest = max(live, key=lambda row: semver_key(row.version), default=None)
    for row in rows:
        should = latest is not None and row.id == latest.id
        if row.is_latest != should:
            row.is_latest = should
            await row.save(using_db=unit.connection, update_fields=["is_latest"])

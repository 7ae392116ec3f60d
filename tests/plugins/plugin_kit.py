"""What the plugin tests share: manifests, plugin sources and the GraphQL documents they
send. Imported as `from plugin_kit import …` (pytest puts this folder on the path)."""

from __future__ import annotations

from typing import Any

from conftest import GraphQLClient

REGISTER = """
mutation($input: RegisterPluginInput!) {
  registerPlugin(input: $input) {
    plugin { id pluginId version state enabled requestedPermissions approvedPermissions
             approvedBy codeSha256 signature keyId latest }
    problems { field message code line column }
    errors { field message code }
  }
}"""

VALIDATE = """
mutation($input: ValidatePluginInput!) {
  validatePlugin(input: $input) { valid manifest problems { field message code line column } }
}"""

EXECUTE = """
mutation($input: ExecutePluginInput!) {
  executePlugin(input: $input) {
    execution { id pluginId version status durationMs result error caller }
    evidence { id type source data project { slug } }
    metrics { name value }
    panel
    warnings
    errors { field message code }
  }
}"""

APPROVE = """
mutation($input: ApprovePluginInput!) {
  approvePlugin(input: $input) {
    plugin { version state approvedPermissions approvedBy }
    errors { field message code }
  }
}"""

REVOKE = """
mutation($input: RevokePluginInput!) {
  revokePlugin(input: $input) { versions { version state } errors { field message code } }
}"""

ENABLE = """
mutation($input: SetPluginEnabledInput!) {
  setPluginEnabled(input: $input) {
    versions { version enabled disabledReason consecutiveFailures }
    errors { field message code }
  }
}"""

UNREGISTER = """
mutation($input: UnregisterPluginInput!) {
  unregisterPlugin(input: $input) { pluginId removedVersions errors { field message code } }
}"""

COLLECTOR_CODE = """
def collect(data):
    return {"evidence": [{"type": "coverage_gate", "data": {"seen": data.get("n", 0)}}]}
"""

METRIC_CODE = """
def measure():
    return [{"name": "plugin.score", "value": 0.75}]
"""

FAILING_CODE = """
def run():
    return 1 // 0
"""


def manifest(
    plugin_id: str = "acme.coverage_gate",
    version: str = "1.0.0",
    kind: str = "collector",
    permissions: tuple[str, ...] = ("evidence.write",),
    entry_point: str = "collect",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": plugin_id, "name": extra.pop("name", "Coverage gate"), "version": version,
        "type": kind, "description": extra.pop("description", "Fails builds under 80%"),
        "author": extra.pop("author", "Acme"), "permissions": list(permissions),
        "entry_point": entry_point, **extra,
    }


async def register(
    gql: GraphQLClient, code: str = COLLECTOR_CODE, **manifest_fields: Any
) -> dict[str, Any]:
    body = await gql(REGISTER, {"input": {"manifest": manifest(**manifest_fields),
                                          "code": code}})
    assert "errors" not in body, body
    return body["data"]["registerPlugin"]


async def execute(gql: GraphQLClient, plugin: str, **fields: Any) -> dict[str, Any]:
    body = await gql(EXECUTE, {"input": {"plugin": plugin, **fields}})
    return body


def node_key(global_id: str) -> str:
    """The key inside a Relay global id (an evidence uid, an execution uid)."""
    from strawberry import relay

    return relay.GlobalID.from_id(global_id).node_id


async def force_version(host: Any, code: str, **manifest_fields: Any) -> None:
    """TEST-ONLY: store a signed, active version without the registration check, as if
    hostile code had got past it, so a test can show the sandbox still holds."""
    from arcos.plugins.integrity import code_sha256
    from arcos.plugins.manifest import parse_manifest
    from arcos.plugins.models import PluginVersion, VersionState

    parsed = parse_manifest(manifest(**manifest_fields))
    digest = code_sha256(code)
    from datetime import UTC, datetime

    await PluginVersion.create(
        plugin_id=parsed.id, version=parsed.version, kind=parsed.kind.value, name=parsed.name,
        description=parsed.description, author=parsed.author, tags=[], search_text=parsed.id,
        manifest=parsed.to_json(), code=code, code_sha256=digest,
        signature=host.signer.sign(parsed, digest), key_id=host.signer.key_id,
        requested_permissions=[p.value for p in parsed.permissions],
        approved_permissions=[p.value for p in parsed.permissions], state=VersionState.ACTIVE,
        is_latest=True, registered_by="test", created_at=datetime.now(UTC),
    )

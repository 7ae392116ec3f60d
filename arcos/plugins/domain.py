"""The plugin domain's entry in the registry (arcos/domains.py)."""

from __future__ import annotations

from importlib import resources

from arcos.plugins import rest, scopes
from arcos.plugins.cli import add_plugin_commands
from arcos.plugins.events import EXECUTION_FINISHED
from arcos.plugins.host import HOST
from arcos.plugins.schema import PluginMutations, PluginQueries, PluginSubscriptions
from arcos.plugins.scopes import PLUGINS_READ
from arcos.plugins.triggers import plugin_host
from arcos.plugins.types import PluginExecutionType, PluginType, PluginVersionType
from arcos.registry import Domain, NodeKind, ServiceFactory

PLUGINS = Domain(
    name="plugins",
    scopes=scopes.SCOPES,
    models=("arcos.plugins.models",),
    query=PluginQueries,
    mutation=PluginMutations,
    subscription=PluginSubscriptions,
    nodes=(
        NodeKind(PluginType, PLUGINS_READ),
        NodeKind(PluginVersionType, PLUGINS_READ),
        NodeKind(PluginExecutionType, PLUGINS_READ),
    ),
    rest_routes=rest.ROUTES,
    rest_documents=(resources.files("arcos.plugins") / "rest.graphql",),
    topics=(EXECUTION_FINISHED,),
    services=(ServiceFactory(HOST, plugin_host),),
    # A visualization plugin's panel is checked against its JSON Schema (panel.py).
    deferred_imports=("jsonschema",),
    cli=add_plugin_commands,
)

"""DataLoaders for plugin fields (see arcos/graphql/loaders.py): one query per level."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from arcos.graphql.loaders import ContextLoader
from arcos.plugins.models import PluginVersion
from arcos.plugins.reads import execution_results, versions_of


class VersionsByPlugin(ContextLoader[str, list[PluginVersion]]):
    """Every catalogue version of each plugin id, oldest registration first."""

    async def batch_load(self, keys: list[str]) -> list[list[PluginVersion]]:
        found: dict[str, list[PluginVersion]] = defaultdict(list)
        for row in await versions_of(keys):
            found[row.plugin_id].append(row)
        return [found.get(key, []) for key in keys]


class ExecutionResultById(ContextLoader[int, Any]):
    """The stored result of each execution, read only for the executions shown."""

    async def batch_load(self, keys: list[int]) -> list[Any]:
        found = await execution_results(keys)
        return [found.get(key) for key in keys]

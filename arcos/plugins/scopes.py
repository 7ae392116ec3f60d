"""The plugins domain's scopes (listed in its Domain, arcos/plugins/domain.py)."""

from __future__ import annotations

from arcos.auth.scopes import Scope

PLUGINS_READ = Scope("plugins:read", "Read the plugin catalogue and executions.")
PLUGINS_WRITE = Scope("plugins:write", "Publish and manage plugins.", counts_as_write=True)
PLUGINS_EXECUTE = Scope("plugins:execute", "Run plugins.", counts_as_write=True)

SCOPES = (PLUGINS_READ, PLUGINS_WRITE, PLUGINS_EXECUTE)

"""The jobs a sandbox worker runs, by kind, as "module:function" strings.

Strings, not functions, so the pool can hand them to a freshly spawned zygote, which
imports the modules before it sandboxes itself (after that, imports may fail: Landlock
and the dropped UID hide most of the file system).
"""

from __future__ import annotations

PLUGIN_HANDLERS: dict[str, str] = {
    "check": "arcos.plugins.code_check:check_job",
    "execute": "arcos.plugins.restricted:execute_job",
}

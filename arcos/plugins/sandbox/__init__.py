"""The OS sandbox plugin code runs in: one clean zygote per slot forks one child per call.

Kept import-free on purpose: the zygote imports `arcos.plugins.sandbox.zygote`, and
everything a package `__init__` imports would be loaded into every sandboxed child.
Import `outcome`, `pool` and `doctor` directly.
"""

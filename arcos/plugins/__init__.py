"""Plugins: third-party code registered with a signed manifest and run in an OS sandbox."""

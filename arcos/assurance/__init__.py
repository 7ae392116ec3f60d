"""Assurance cases: GSN arguments whose Solutions bind to live evidence by rules."""

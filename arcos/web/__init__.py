"""Starlette-level plumbing shared by every HTTP route."""

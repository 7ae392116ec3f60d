"""GraphQL documents the REST adapters run (package data)."""

"""ARCOS: a GraphQL-first server for software-assurance evidence."""

__version__ = "0.1.0"

"""Artifact ingestion: pure parsers that turn uploaded CI and scanner reports into normalised
evidence (tests, coverage, findings, vulnerabilities, SBOMs, builds) without touching storage."""

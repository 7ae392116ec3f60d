"""The parser's limits, apart from the parsers: the intake builds them for every upload,
and importing them must not import every format's parser (arcos/formats/parse.py), which
no start-up step needs (tests/test_startup_imports.py)."""

from __future__ import annotations

from dataclasses import dataclass

from arcos.formats.payload import DEFAULT_MAX_MEMBERS


@dataclass(frozen=True, slots=True)
class Limits:
    """Artifact limits; the SARIF counts are GitHub code scanning's hard limits."""

    max_decompressed_bytes: int = 50 * 1024 * 1024
    max_sarif_runs: int = 20
    max_results_per_run: int = 25_000
    max_gzip_members: int = DEFAULT_MAX_MEMBERS
    max_findings_per_scan: int = 5000
    """Findings a scan tracks (the intake applies it; parsing counts every result)."""

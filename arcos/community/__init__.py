"""The community platform: shared patterns, practices, threat intelligence, templates
and benchmarks."""

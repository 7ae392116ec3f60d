"""REST v1/v2/v3 and the original CIV-ARCOS routes: thin adapters over the one schema."""

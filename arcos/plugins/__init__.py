"""Plugin marketplace: manifests, signing, and the OS sandbox that runs plugin code."""

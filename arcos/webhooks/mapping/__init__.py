"""Pure functions that turn one verified webhook delivery's JSON into evidence drafts,
one module per provider (github, gitlab, bitbucket, cicd).

Each module has EVENTS, PING_EVENTS and normalize(event, payload); the providers they
belong to are listed once, in `arcos.webhooks.providers.PROVIDERS`.
"""

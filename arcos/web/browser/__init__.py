"""What a person sees in a browser: the dashboard at /ui/ and the GraphQL IDE at /graphql.

Both are static files shipped as package data (no CDN, no build step) and served with a
strict Content-Security-Policy, so a server on an air-gapped network shows them whole and
attacker-controlled evidence can never run as script in them.
"""

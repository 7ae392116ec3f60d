"""An ARCOS app in a process whose kernel refuses `unshare` (as Docker's default profile
does), driven through GraphQL; prints one JSON line of what each request answered.

    python sandboxless_app.py DATABASE_URL KEY_PATH
"""

from __future__ import annotations

import asyncio
import json
import sys

from restricted_host import refuse


async def main(database_url: str, key_path: str) -> dict[str, object]:
    from conftest import GraphQLClient, running_app
    from plugin_kit import VALIDATE, manifest

    from arcos.settings import Settings

    settings = Settings(database_url=database_url, plugin_signing_key_path=key_path,
                        plugin_workers=1)
    async with running_app(settings) as app, app.client(app.admin_token) as http:
        gql = GraphQLClient(http)
        validated = await gql(VALIDATE, {"input": {
            "manifest": manifest(), "code": "def collect():\n    return []\n"}})
        executed = await gql('mutation { executePlugin(input: {plugin: "acme.x"}) '
                             "{ errors { code } } }")
        evidence = await gql('mutation { submitEvidence(input: {type: "build", source: "ci", '
                             "data: {}}) { errors { code } } }")
        rest = await http.post("/api/plugins/validate", json={
            "manifest": manifest(), "code": "def collect():\n    return []\n"})
    return {"validate": validated.get("errors"), "execute": executed, "evidence": evidence,
            "rest": [rest.status_code, rest.json()]}


if __name__ == "__main__":
    refuse("unshare")
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))))

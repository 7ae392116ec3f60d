"""Shared pieces of the benchmark tests: principals, a benchmark input, the add mutation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from conftest import GraphQLClient, RunningApp

BENCHMARK_FIELDS = """
  id name industry projectType visibility anonymized author { name }
  metrics { name direction p25 p50 p75 p90 mean sampleSize }
"""
ADD = f"""
mutation($input: AddBenchmarkInput!) {{
  addBenchmark(input: $input) {{ benchmark {{ {BENCHMARK_FIELDS} }} errors {{ field message code }} }}
}}"""
LIST = """
query($industry: String, $first: Int!, $after: String) {
  benchmarks(industry: $industry, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id name visibility }
  }
}"""


def metric(name: str = "coverage.line_rate", direction: str = "HIGHER_IS_BETTER",
           quantiles: tuple[float, float, float, float] = (0.6, 0.7, 0.8, 0.9),
           sample_size: int = 40, mean: float | None = 0.71) -> dict[str, Any]:
    p25, p50, p75, p90 = quantiles
    return {"name": name, "direction": direction, "p25": p25, "p50": p50, "p75": p75,
            "p90": p90, "mean": mean, "sampleSize": sample_size}


def benchmark_input(visibility: str = "PUBLIC", **fields: Any) -> dict[str, Any]:
    return {"name": "Payments services", "industry": "finance", "projectType": "web_service",
            "metrics": [metric()], "visibility": visibility, **fields}


@dataclass
class Principals:
    """Owner (shares), member (reads the community), anonymous, admin: each a client."""

    owner: GraphQLClient
    member: GraphQLClient
    anonymous: GraphQLClient
    admin: GraphQLClient
    clients: list[httpx.AsyncClient]

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


async def principals(app: RunningApp) -> Principals:
    owner = app.client(await app.issue("alice", "community:read", "community:write"))
    member = app.client(await app.issue("bob", "community:read"))
    anonymous = app.client()
    admin = app.client(app.admin_token)
    clients = [owner, member, anonymous, admin]
    return Principals(*(GraphQLClient(c) for c in clients), clients=clients)


async def add(gql: GraphQLClient, **input_fields: Any) -> dict[str, Any]:
    """The addBenchmark payload (asserting the request itself did not fail)."""
    body = await gql(ADD, {"input": benchmark_input(**input_fields)})
    assert "errors" not in body, body
    return body["data"]["addBenchmark"]


async def added(gql: GraphQLClient, **input_fields: Any) -> dict[str, Any]:
    payload = await add(gql, **input_fields)
    assert payload["errors"] == [], payload["errors"]
    return payload["benchmark"]

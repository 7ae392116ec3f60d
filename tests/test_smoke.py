async def test_health_answers(client):
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok", "subscriptions": 0}


def test_live_server_answers(live_server):
    import httpx

    assert httpx.get(f"{live_server.http_url}/healthz").json()["status"] == "ok"

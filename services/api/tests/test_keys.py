"""API keys: created (shown once), listed, revoked; bad key bodies."""

from __future__ import annotations

from plastinka_testing.app import Api


async def test_keys_are_created_shown_once_listed_and_revoked(api: Api) -> None:
    created = await api.admin.post("/api/v1/keys", json={"name": "ci", "role": "viewer", "owner": "shop"})
    assert created.status_code == 201
    body = created.json()
    secret = body["key"]
    assert body["prefix"] == secret[:10] and body["role"] == "viewer"
    listing = (await api.admin.get("/api/v1/keys")).json()
    assert all("key" not in item for item in listing["items"])
    assert body["id"] in {item["id"] for item in listing["items"]}
    async with api.client(secret) as fresh:
        assert (await fresh.get("/api/v1/models")).status_code == 200
        assert (await api.admin.delete(f"/api/v1/keys/{body['id']}")).status_code == 204
        assert (await fresh.get("/api/v1/models")).status_code == 401
    assert (await api.admin.delete("/api/v1/keys/key_missing")).status_code == 404


async def test_key_creation_refuses_unknown_fields_and_roles(api: Api) -> None:
    response = await api.admin.post("/api/v1/keys", json={"name": "x", "role": "root", "owner": "o"})
    assert response.status_code == 422
    assert response.json()["details"][0]["where"] == "body.role"
    extra = await api.admin.post("/api/v1/keys", json={"name": "x", "role": "viewer", "owner": "o", "admin": True})
    assert extra.status_code == 422

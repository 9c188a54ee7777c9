"""API keys: created (shown once), listed, revoked; bad key bodies."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import SecretStr

from plastinka_api.keys.service import create_key, new_secret
from plastinka_api.settings import Settings
from plastinka_schemas import Role
from plastinka_testing.app import ADMIN_KEY, Api, running_api


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


async def test_no_other_key_may_take_the_bootstrap_keys_name(api: Api) -> None:
    response = await api.admin.post("/api/v1/keys", json={"name": " Bootstrap", "role": "admin", "owner": "shop"})
    assert response.status_code == 422
    detail = response.json()["details"][0]
    assert detail["where"] == "body.name" and "PLASTINKA_BOOTSTRAP_ADMIN_KEY" in detail["message"]


async def test_a_changed_bootstrap_variable_revokes_the_earlier_bootstrap_keys(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory()
    async with running_api(settings) as first:
        with first.ctx.db.write_session() as session:  # what an earlier version let through
            weak, _ = create_key(session, name="bootstrap", role=Role.ADMIN, owner="shop", secret="weak-admin-key")
        kept = (await first.admin.post("/api/v1/keys", json={"name": "kept", "role": "admin", "owner": "shop"})).json()
    new_key = new_secret()
    restarted = running_api(settings.model_copy(update={"bootstrap_admin_key": SecretStr(new_key)}))
    async with restarted as api:
        for old in (ADMIN_KEY, "weak-admin-key"):
            async with api.client(old) as client:
                assert (await client.get("/api/v1/models")).status_code == 401
        for live in (new_key, kept["key"]):
            async with api.client(live) as client:
                assert (await client.get("/api/v1/models")).status_code == 200
        async with api.client(new_key) as admin:
            listed = (await admin.get("/api/v1/keys", params={"limit": 100})).json()["items"]
    revoked = {item["id"] for item in listed if item["revoked_at"] is not None}
    assert weak.id in revoked and kept["id"] not in revoked
    assert sum(item["name"] == "bootstrap" and item["revoked_at"] is None for item in listed) == 1
    banner = restarted.out.getvalue()
    assert "PLASTINKA_BOOTSTRAP_ADMIN_KEY has changed" in banner and weak.id in banner
    assert new_key not in banner  # the key itself is never printed

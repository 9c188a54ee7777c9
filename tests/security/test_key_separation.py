"""Finding 4: one secret no longer signs everything.

Before, webhooks were signed with the master secret unless ``PLASTINKA_WEBHOOK_SECRET`` was set, and the same
secret made download URLs and callback tokens: whoever verified webhooks could download another owner's
dataset. Now download URLs, callback tokens and webhooks each use a key derived (HKDF) for that purpose, and
each owner verifies its webhooks with its own secret, which signs nothing else.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from plastinka_api.secrets_file import SIGNED_URLS, derive
from plastinka_storage.signing import sign
from plastinka_store.tokens import sign_job_token
from plastinka_testing.security import SecureServer, event
from plastinka_testing.servers import API, SECRET


def _dataset_object(server: SecureServer) -> str:
    keys = [key for key in server.objects() if key.startswith("datasets/") and not key.endswith(".meta.json")]
    assert keys, server.objects()
    return keys[0]


def _download(server: SecureServer, key: bytes | str, object_key: str) -> int:
    expires = int(time.time()) + 300
    signature = sign(key, method="GET", key=object_key, expires=expires)
    with server.client(None) as anonymous:
        return anonymous.get(f"/files/{object_key}", params={"expires": expires, "signature": signature}).status_code


def test_a_webhook_secret_makes_no_download_url_and_no_callback_token(
    server: SecureServer, objects: dict[str, str]
) -> None:
    with server.client(server.keys["other"]) as rival:  # an analyst of another owner
        made = rival.post(f"{API}/keys/webhook-secret")
    assert made.status_code == 201, made.text
    webhook_secret = made.json()["secret"]
    assert made.json()["owner"] == "rival" and webhook_secret.startswith(made.json()["prefix"])

    target = _dataset_object(server)  # the shop's dataset
    assert _download(server, webhook_secret, target) == 403
    forged = sign_job_token(webhook_secret, objects["tq"], 1, _in_an_hour())
    assert server.post_event(event(objects["tq"], 1, "running"), token=forged).status_code == 401


def test_the_master_secret_itself_signs_no_download_url(server: SecureServer, objects: dict[str, str]) -> None:
    """The finding as it was: the key that verified webhooks (the master secret) made a valid URL."""
    target = _dataset_object(server)
    assert _download(server, SECRET, target) == 403
    assert _download(server, derive(SECRET.encode(), SIGNED_URLS), target) == 200  # the URL key does


def test_the_master_secret_itself_signs_no_callback_token(server: SecureServer, objects: dict[str, str]) -> None:
    """Only the key derived for callbacks is accepted (the suite's ``job_token`` derives it, as the server does)."""
    raw = sign_job_token(SECRET, objects["tq"], 1, _in_an_hour())
    assert server.post_event(event(objects["tq"], 1, "running"), token=raw).status_code == 401


def test_rotation_replaces_the_secret_and_it_is_sealed_at_rest(server: SecureServer) -> None:
    with server.client(server.keys["analyst"]) as analyst, server.client(server.keys["viewer"]) as viewer:
        first = analyst.post(f"{API}/keys/webhook-secret").json()["secret"]
        second = analyst.post(f"{API}/keys/webhook-secret").json()["secret"]
        assert viewer.post(f"{API}/keys/webhook-secret").status_code == 403
    assert first != second
    with server.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT owner, sealed FROM webhook_secrets")).all()
    sealed = dict(rows)["shop"]
    assert second not in sealed and first not in sealed and len(rows) == len({owner for owner, _ in rows})


def _in_an_hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)

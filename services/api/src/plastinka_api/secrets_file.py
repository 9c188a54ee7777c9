"""The server's master secret, and the independent keys derived from it for each purpose.

``PLASTINKA_SECRET_KEY`` wins; otherwise one is generated once into ``<data_dir>/secret.key`` (mode 0600), so
a restarted single instance still accepts the tokens it issued. Several instances must share the variable.

The master secret itself signs nothing. HKDF-SHA256 (RFC 5869) derives one key per purpose, so a key that
leaves the server for one purpose (a webhook secret in a receiver's configuration) cannot sign for another
(download URLs, callback tokens): each derived key is independent of the others and of the master.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from plastinka_api.settings import Settings

_SALT = b"plastinka-key-derivation-v1"
SIGNED_URLS = "signed-download-urls"
CALLBACK_TOKENS = "function-callback-tokens"
WEBHOOK_SIGNATURES = "webhook-signatures"
WEBHOOK_SECRET_STORAGE = "webhook-secret-storage"  # noqa: S105 - a purpose label


def derive(master: bytes, purpose: str) -> bytes:
    """The 32-byte key of ``purpose``: HKDF-SHA256 with a fixed salt and the purpose as ``info``."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=purpose.encode()).derive(master)


@dataclass(frozen=True)
class ServerKeys:
    """The keys the server signs with; only ``webhooks`` (or an owner's own secret) ever leaves the server."""

    signed_urls: bytes
    callback_tokens: bytes
    webhooks: bytes
    webhook_storage: bytes

    @classmethod
    def from_master(cls, master: bytes, webhook_secret: bytes | None = None) -> ServerKeys:
        return cls(
            signed_urls=derive(master, SIGNED_URLS),
            callback_tokens=derive(master, CALLBACK_TOKENS),
            webhooks=webhook_secret or derive(master, WEBHOOK_SIGNATURES),
            webhook_storage=derive(master, WEBHOOK_SECRET_STORAGE),
        )


def load_keys(settings: Settings) -> ServerKeys:
    webhook = settings.webhook_secret.get_secret_value().encode() if settings.webhook_secret else None
    return ServerKeys.from_master(load_secret(settings), webhook)


def load_secret(settings: Settings) -> bytes:
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value().encode()
        if len(value) < 16:
            raise ValueError("PLASTINKA_SECRET_KEY must be at least 16 characters")
        return value
    path = Path(settings.data_dir) / "secret.key"
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process got there first
        return path.read_bytes().strip()
    try:
        os.write(fd, value)
    finally:
        os.close(fd)
    return value

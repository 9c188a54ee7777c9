"""The server secret (callback tokens, signed download URLs, webhook signatures).

``PLASTINKA_SECRET_KEY`` wins; otherwise one is generated once into ``<data_dir>/secret.key`` (mode 0600), so
a restarted single instance still accepts the tokens it issued. Several instances must share the variable.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from plastinka_api.settings import Settings


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

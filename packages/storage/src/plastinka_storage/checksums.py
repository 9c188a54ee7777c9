"""Digests shared by the backends: sha256 for identity and verification, Content-MD5 for transport."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from plastinka_storage.errors import ChecksumMismatch, MissingChecksum

__all__ = ["content_md5", "expected_digest", "file_sha256", "normalize_sha256", "sha256_hex", "verify_digest"]

_FILE_CHUNK = 1024 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")


def normalize_sha256(value: str) -> str:
    """A caller-supplied digest in lowercase hex; ``ValueError`` if it is not one."""
    digest = value.lower() if isinstance(value, str) else ""
    if not _HEX64.fullmatch(digest):
        raise ValueError(f"not a hex sha256 digest: {value!r}")
    return digest


def sha256_hex(data: bytes | bytearray | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def content_md5(data: bytes | bytearray | memoryview) -> str:
    """The base64 MD5 digest S3 expects in ``Content-MD5`` (integrity of the bytes in transit)."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")


def file_sha256(path: Path) -> tuple[str, int]:
    """sha256 and size of a file, read in chunks (blocking: run it in a thread)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_FILE_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def expected_digest(key: str, *, expected: str | None, stored: str | None, verify: bool) -> str | None:
    """The digest a read must match: the caller's if given, else the stored one; None when not verifying."""
    if not verify:
        return None
    if expected is not None:
        return normalize_sha256(expected)
    if stored is not None:
        return stored.lower()
    raise MissingChecksum(key)


def verify_digest(key: str, expected: str | None, actual: str) -> None:
    """Raise ``ChecksumMismatch`` when an expected digest is set and differs from ``actual``."""
    if expected is not None and expected != actual:
        raise ChecksumMismatch(key, expected, actual)

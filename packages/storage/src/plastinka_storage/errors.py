"""The storage exception hierarchy: every backend raises these, never a botocore or OS error."""

from __future__ import annotations

__all__ = [
    "ChecksumMismatch",
    "InvalidKey",
    "InvalidSignature",
    "MissingChecksum",
    "ObjectNotFound",
    "StorageError",
    "TransientStorageError",
]


class StorageError(Exception):
    """Base of every storage failure. ``key`` names the object concerned, when there is one."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class ObjectNotFound(StorageError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object stored under {key!r}", key=key)


class ChecksumMismatch(StorageError):
    """The bytes read (or offered for writing) do not have the sha256 they should have."""

    def __init__(self, key: str, expected: str, actual: str) -> None:
        super().__init__(f"sha256 mismatch for {key!r}: expected {expected}, got {actual}", key=key)
        self.expected = expected
        self.actual = actual


class MissingChecksum(StorageError):
    """A verified read was asked for, but neither the caller nor the stored metadata gives a sha256."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"{key!r} has no stored sha256 and none was expected; pass expected_sha256= or verify=False", key=key
        )


class InvalidKey(StorageError, ValueError):
    """The key (or key part) is not acceptable: it could escape the store's root or is malformed."""

    def __init__(self, key: object, reason: str) -> None:
        super().__init__(f"invalid object key {key!r}: {reason}", key=key if isinstance(key, str) else None)
        self.reason = reason


class TransientStorageError(StorageError):
    """A fault worth retrying later (throttling, 5xx, timeout, reset) that outlasted the retry budget."""

    def __init__(self, message: str, *, key: str | None = None, attempts: int = 1, elapsed_s: float = 0.0) -> None:
        super().__init__(message, key=key)
        self.attempts = attempts
        self.elapsed_s = elapsed_s


class InvalidSignature(StorageError):
    """A signed URL was refused: ``reason`` is ``"expired"``, ``"bad signature"`` or ``"malformed"``."""

    def __init__(self, reason: str, *, key: str | None = None) -> None:
        super().__init__(f"signed URL refused: {reason}", key=key)
        self.reason = reason

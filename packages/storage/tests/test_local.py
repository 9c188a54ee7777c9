"""Local-backend specifics: files on disk, atomic replacement, sidecars, signed URLs, root confinement."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from plastinka_storage import (
    ChecksumMismatch,
    InvalidSignature,
    LocalObjectStore,
    StorageError,
)
from plastinka_storage.checksums import sha256_hex as sha


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


async def test_objects_and_sidecars_on_disk(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes("models/m1/model.txt", b"w", content_type="text/plain", metadata={"n": "1"})
    assert files_under(local_store.root) == ["models/m1/.model.txt.meta.json", "models/m1/model.txt"]
    sidecar = json.loads((local_store.root / "models/m1/.model.txt.meta.json").read_text())
    assert sidecar["sha256"] == sha(b"w") and sidecar["size"] == 1
    assert sidecar["content_type"] == "text/plain" and sidecar["metadata"] == {"n": "1"}
    assert sidecar["ino"] == (local_store.root / "models/m1/model.txt").stat().st_ino
    assert [o.key async for o in local_store.list()] == ["models/m1/model.txt"]  # sidecars are not objects


async def test_a_failing_stream_leaves_the_old_object_and_no_temp_file(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes("a/b", b"old")

    async def breaks() -> AsyncIterator[bytes]:
        yield b"new data " * 100_000
        raise OSError("client went away")

    with pytest.raises(OSError, match="went away"):
        await local_store.put_stream("a/b", breaks())
    assert await local_store.get_bytes("a/b") == b"old"
    assert files_under(local_store.root) == ["a/.b.meta.json", "a/b"]


async def test_declared_checksum_mismatch_leaves_nothing(local_store: LocalObjectStore) -> None:
    with pytest.raises(ChecksumMismatch):
        await local_store.put_stream("a/b", _one(b"data"), sha256=sha(b"other"))
    assert files_under(local_store.root) == []


async def test_delete_prunes_empty_directories(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes("jobs/j/attempt-1/x", b"1")
    await local_store.put_bytes("jobs/k/y", b"2")
    await local_store.delete("jobs/j/attempt-1/x")
    assert files_under(local_store.root) == ["jobs/k/.y.meta.json", "jobs/k/y"]
    assert not (local_store.root / "jobs/j").exists()
    await local_store.put_bytes("jobs/j", b"now an object")  # the old prefix no longer blocks the key
    assert await local_store.get_bytes("jobs/j") == b"now an object"


async def test_a_key_and_a_prefix_cannot_share_a_name(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes("a/b", b"object")
    with pytest.raises(StorageError):
        await local_store.put_bytes("a/b/c", b"under an object")
    await local_store.put_bytes("x/y/z", b"deep")
    with pytest.raises(StorageError):
        await local_store.put_bytes("x/y", b"over a prefix")
    assert await local_store.get_bytes("a/b") == b"object"
    assert await local_store.get_bytes("x/y/z") == b"deep"
    assert not any(".tmp" in name for name in files_under(local_store.root))


async def test_readers_never_see_a_torn_overwrite(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, fsync=False)  # no fsync: more overwrites per second, more chances to race
    versions = [bytes([i]) * 100_000 for i in range(2)]
    await store.put_bytes("status/key", versions[0])

    async def writer() -> None:
        for i in range(100):
            await store.put_bytes("status/key", versions[i % 2])

    async def reader() -> list[bytes]:
        return [await store.get_bytes("status/key") for _ in range(100)]

    _, *reads = await asyncio.gather(writer(), reader(), reader())
    for batch in reads:
        assert all(data in versions for data in batch)


async def test_copy_verifies_the_source(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes("a/src", b"good")
    (local_store.root / "a/src").write_bytes(b"evil")  # same inode: the sidecar still claims "good"
    with pytest.raises(ChecksumMismatch):
        await local_store.copy("a/src", "a/dst")
    assert not await local_store.exists("a/dst")


async def test_signed_urls_refuse_tampering_and_expiry(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes("jobs/j/attempt-1/forecast.csv", b"rows")
    grant = await local_store.presign_get("jobs/j/attempt-1/forecast.csv", expires_in=60)
    async with httpx.AsyncClient() as http:
        assert (await http.get(grant.url)).content == b"rows"
        tampered_key = grant.url.replace("forecast.csv", "model.txt")
        tampered_expiry = grant.url.replace("expires=", "expires=9")
        tampered_sig = grant.url[:-4] + ("0000" if not grant.url.endswith("0000") else "1111")
        for url in (tampered_key, tampered_expiry, tampered_sig):
            response = await http.get(url)
            assert response.status_code == 403 and response.text == "bad signature", url
        wrong_method = await http.put(grant.url, content=b"overwrite")
        assert wrong_method.status_code == 403
    assert await local_store.get_bytes("jobs/j/attempt-1/forecast.csv") == b"rows"

    now = time.time()
    with pytest.raises(InvalidSignature) as caught:
        local_store.verify_signed_url(grant.url, method="GET", now=now + 61)
    assert caught.value.reason == "expired"
    assert local_store.verify_signed_url(grant.url, method="GET", now=now).key == "jobs/j/attempt-1/forecast.csv"


async def test_signed_put_binds_the_declared_checksum(local_store: LocalObjectStore) -> None:
    data = b"dataset bytes"
    grant = await local_store.presign_put("datasets/x/d.csv", expires_in=60, sha256=sha(data))
    async with httpx.AsyncClient() as http:
        swapped = grant.url.replace(sha(data), sha(b"other"))
        assert (await http.put(swapped, content=b"other")).status_code == 403
        assert (await http.put(grant.url, content=b"other")).status_code == 400
        assert (await http.put(grant.url, content=data)).status_code == 200
    assert await local_store.get_bytes("datasets/x/d.csv") == data


async def test_presigning_needs_a_key_and_a_base_url(tmp_path: Path) -> None:
    async with LocalObjectStore(tmp_path) as store:
        with pytest.raises(StorageError, match="signing_key"):
            await store.presign_get("a/b")
    with pytest.raises(ValueError, match="expiry"):
        await LocalObjectStore(tmp_path, signing_key="k" * 32, base_url="http://x").presign_get("a/b", expires_in=0)


async def test_reads_and_writes_run_off_the_event_loop(local_store: LocalObjectStore) -> None:
    """Each blocking file operation happens in a worker thread, never in the loop's thread."""
    seen: list[bool] = []
    original = Path.open

    def spying_open(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            asyncio.get_running_loop()
            seen.append(True)  # called inside the loop's thread
        except RuntimeError:
            seen.append(False)
        return original(self, *args, **kwargs)

    Path.open = spying_open  # type: ignore[method-assign]
    try:
        await local_store.put_bytes("a/b", b"x")
        await local_store.put_stream("a/c", _one(b"y"))
        await local_store.get_bytes("a/b")
        await local_store.head("a/c")
    finally:
        Path.open = original  # type: ignore[method-assign]
    assert seen and not any(seen)


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data

"""The ObjectStore contract, run against both backends (local directory, S3 on the moto server)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from plastinka_schemas import ArtifactRef
from plastinka_storage import (
    ChecksumMismatch,
    InvalidKey,
    MissingChecksum,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    dataset_key,
    job_artifact_key,
    job_status_key,
)
from plastinka_storage.checksums import sha256_hex as sha


async def chunks_of(data: bytes, size: int = 7_001) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def keys_under(store: ObjectStore, prefix: str = "") -> list[str]:
    return [obj.key async for obj in store.list(prefix)]


async def test_bytes_round_trip(store: ObjectStore) -> None:
    data = os.urandom(100_000)
    ref = await store.put_bytes("models/m1/model.txt", data)
    assert ref == ArtifactRef(key="models/m1/model.txt", sha256=sha(data), size=len(data))
    assert await store.get_bytes(ref.key) == data
    assert await store.get_bytes(ref.key, expected_sha256=ref.sha256) == data
    assert await store.get_artifact(ref) == data


async def test_empty_object(store: ObjectStore) -> None:
    ref = await store.put_bytes("jobs/j1/attempt-1/empty", b"")
    assert ref.size == 0 and ref.sha256 == sha(b"")
    assert await store.get_bytes(ref.key) == b""


async def test_file_round_trip(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "upload.bin"
    src.write_bytes(os.urandom(300_000))
    ref = await store.put_file("datasets/in/upload.bin", src)
    assert ref.sha256 == sha(src.read_bytes()) and ref.size == 300_000

    dest = tmp_path / "down" / "copy.bin"
    got = await store.get_file(ref.key, dest)
    assert got == ref
    assert dest.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["copy.bin"]  # no temp file left behind
    assert await store.get_artifact_file(ref, tmp_path / "again.bin") == ref


async def test_stream_round_trip(store: ObjectStore) -> None:
    data = os.urandom(250_000)
    ref = await store.put_stream("jobs/j1/attempt-2/forecast.parquet", chunks_of(data))
    assert ref.sha256 == sha(data) and ref.size == len(data)
    received = [chunk async for chunk in store.get_stream(ref.key, chunk_size=10_000)]
    assert b"".join(received) == data
    assert max(len(c) for c in received) <= 10_000


async def test_put_dispatches_on_the_type_of_data(store: ObjectStore, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,2\n")
    assert (await store.put("k/bytes", b"xyz")).sha256 == sha(b"xyz")
    assert (await store.put("k/file", path)).sha256 == sha(path.read_bytes())
    assert (await store.put("k/stream", chunks_of(b"stream!", 2))).sha256 == sha(b"stream!")
    with pytest.raises(TypeError):
        await store.put("k/str", str(path))  # type: ignore[arg-type]


async def test_head_reports_size_checksum_type_and_metadata(store: ObjectStore) -> None:
    data = b"item,qty\n1,2\n"
    await store.put_bytes("datasets/x/sales.csv", data, content_type="text/csv", metadata={"source": "upload"})
    info = await store.head("datasets/x/sales.csv")
    assert (info.key, info.size, info.sha256) == ("datasets/x/sales.csv", len(data), sha(data))
    assert info.content_type == "text/csv"
    assert dict(info.metadata) == {"source": "upload"}
    assert info.last_modified is not None
    assert info.to_ref() == ArtifactRef(key=info.key, sha256=sha(data), size=len(data))


async def test_exists(store: ObjectStore) -> None:
    assert not await store.exists("a/b")
    await store.put_bytes("a/b", b"1")
    assert await store.exists("a/b")
    assert not await store.exists("a")  # a prefix is not an object


async def test_list_by_prefix_in_key_order(store: ObjectStore) -> None:
    stored = ["jobs/j1/attempt-1/b", "jobs/j1/attempt-1/a", "jobs/j1/attempt-2/a", "jobs/j10/x", "models/m/z"]
    for key in stored:
        await store.put_bytes(key, key.encode())
    assert await keys_under(store) == sorted(stored)
    assert await keys_under(store, "jobs/j1/") == ["jobs/j1/attempt-1/a", "jobs/j1/attempt-1/b", "jobs/j1/attempt-2/a"]
    assert await keys_under(store, "jobs/j1") == sorted(k for k in stored if k.startswith("jobs/j1"))
    assert await keys_under(store, "jobs/j1/attempt-1/a") == ["jobs/j1/attempt-1/a"]
    assert await keys_under(store, "nothing/") == []
    sizes = {obj.key: obj.size async for obj in store.list("models/")}
    assert sizes == {"models/m/z": len(b"models/m/z")}


async def test_delete_is_idempotent(store: ObjectStore) -> None:
    await store.put_bytes("jobs/j/attempt-1/x", b"1")
    await store.put_bytes("jobs/j/attempt-1/y", b"2")
    await store.delete("jobs/j/attempt-1/x")
    assert not await store.exists("jobs/j/attempt-1/x")
    assert await keys_under(store) == ["jobs/j/attempt-1/y"]
    with pytest.raises(ObjectNotFound):
        await store.get_bytes("jobs/j/attempt-1/x")
    await store.delete("jobs/j/attempt-1/x")  # again: no error
    await store.delete("never/was")


async def test_copy_keeps_bytes_checksum_and_metadata(store: ObjectStore) -> None:
    src = await store.put_bytes("models/a/model.txt", b"weights", content_type="text/plain", metadata={"v": "1"})
    dst = await store.copy(src.key, "models/b/model.txt")
    assert dst == ArtifactRef(key="models/b/model.txt", sha256=src.sha256, size=src.size)
    assert await store.get_bytes(dst.key) == b"weights"
    info = await store.head(dst.key)
    assert (info.sha256, info.content_type, dict(info.metadata)) == (src.sha256, "text/plain", {"v": "1"})
    assert await store.exists(src.key)
    with pytest.raises(ObjectNotFound):
        await store.copy("models/none/model.txt", "models/c/model.txt")


async def test_overwrite_replaces_bytes_and_checksum(store: ObjectStore) -> None:
    key = job_status_key("j7", 1)
    await store.put_bytes(key, b'{"status": "running"}')
    ref = await store.put_bytes(key, b'{"status": "succeeded"}')
    assert await store.get_bytes(key) == b'{"status": "succeeded"}'
    assert (await store.head(key)).sha256 == ref.sha256
    assert await keys_under(store) == [key]


async def test_missing_object_raises_object_not_found(store: ObjectStore, tmp_path: Path) -> None:
    key = "datasets/none/file.csv"
    with pytest.raises(ObjectNotFound) as caught:
        await store.get_bytes(key)
    assert caught.value.key == key
    with pytest.raises(ObjectNotFound):
        await store.head(key)
    with pytest.raises(ObjectNotFound):
        _ = [c async for c in store.get_stream(key)]
    downloads = tmp_path / "downloads"
    with pytest.raises(ObjectNotFound):
        await store.get_file(key, downloads / "out.csv")
    assert list(downloads.iterdir()) == []  # no file, no temp file


async def test_corrupted_object_is_detected_on_read(store: ObjectStore, raw_put, tmp_path: Path) -> None:
    good = b"quantity,price\n" * 1000
    ref = await store.put_bytes("models/m/model.txt", good)
    bad = good[:-1] + b"!"
    await raw_put(ref.key, bad, keep_checksum=True)

    with pytest.raises(ChecksumMismatch) as caught:
        await store.get_bytes(ref.key)
    assert (caught.value.key, caught.value.expected, caught.value.actual) == (ref.key, ref.sha256, sha(bad))
    with pytest.raises(ChecksumMismatch):
        await store.get_artifact(ref)
    dest = tmp_path / "downloads" / "model.txt"
    with pytest.raises(ChecksumMismatch):
        await store.get_file(ref.key, dest)
    assert list(dest.parent.iterdir()) == []  # nothing half-written, no temp file
    assert await store.get_bytes(ref.key, verify=False) == bad  # an explicit opt-out still reads


async def test_expected_sha256_is_checked_even_when_the_stored_one_matches(store: ObjectStore) -> None:
    await store.put_bytes("a/b", b"payload")
    with pytest.raises(ChecksumMismatch):
        await store.get_bytes("a/b", expected_sha256=sha(b"other"))
    with pytest.raises(ValueError, match="sha256"):
        await store.get_bytes("a/b", expected_sha256="not-a-digest")


async def test_object_without_checksum_needs_an_explicit_choice(store: ObjectStore, raw_put) -> None:
    await raw_put("ext/file", b"foreign", keep_checksum=False)
    with pytest.raises(MissingChecksum):
        await store.get_bytes("ext/file")
    assert await store.get_bytes("ext/file", verify=False) == b"foreign"
    assert await store.get_bytes("ext/file", expected_sha256=sha(b"foreign")) == b"foreign"
    assert (await store.head("ext/file")).sha256 is None


async def test_declared_checksum_refuses_other_bytes_and_keeps_the_old_object(store: ObjectStore) -> None:
    key = dataset_key(sha(b"expected"), "sales.csv")
    await store.put_bytes(key, b"expected")
    with pytest.raises(ChecksumMismatch):
        await store.put_stream(key, chunks_of(b"tampered"), sha256=sha(b"expected"))
    assert await store.get_bytes(key) == b"expected"
    with pytest.raises(ChecksumMismatch):
        await store.put_stream("fresh/key", chunks_of(b"tampered"), sha256=sha(b"expected"))
    assert not await store.exists("fresh/key")
    ok = await store.put_stream("fresh/key", chunks_of(b"expected"), sha256=sha(b"expected").upper())
    assert ok.sha256 == sha(b"expected")


async def test_presigned_get_is_fetchable_with_plain_http(store: ObjectStore) -> None:
    data = b"forecast rows\n" * 100
    await store.put_bytes("jobs/j/attempt-1/forecast.csv", data)
    grant = await store.presign_get("jobs/j/attempt-1/forecast.csv", expires_in=60)
    assert grant.method == "GET"
    async with httpx.AsyncClient() as http:
        response = await http.get(grant.url)
    assert response.status_code == 200
    assert response.content == data


async def test_presigned_put_stores_a_verifiable_object(store: ObjectStore) -> None:
    data = b"uploaded by a client without credentials"
    key = dataset_key(sha(data), "upload.csv")
    grant = await store.presign_put(key, expires_in=60, content_type="text/csv", sha256=sha(data))
    async with httpx.AsyncClient() as http:
        response = await http.put(grant.url, content=data, headers=dict(grant.headers))
    assert response.status_code == 200, response.text
    assert await store.get_bytes(key) == data
    assert (await store.head(key)).sha256 == sha(data)


async def test_presigned_put_with_other_bytes_never_reads_as_verified(store: ObjectStore) -> None:
    declared = sha(b"what the client promised")
    key = dataset_key(declared, "upload.csv")
    grant = await store.presign_put(key, expires_in=60, sha256=declared)
    async with httpx.AsyncClient() as http:
        await http.put(grant.url, content=b"something else", headers=dict(grant.headers))
    # S3 stores the bytes with the promised checksum, so the read refuses them; the local server refuses the PUT.
    with pytest.raises((ChecksumMismatch, ObjectNotFound)):
        await store.get_bytes(key)


BAD_KEYS = [
    "",
    "/etc/passwd",
    "../outside",
    "a/../../outside",
    "a/./b",
    "a//b",
    "a/b/",
    "a\\b",
    "a\x00b",
    ".hidden",
    "a/.b.meta.json",
    "_uploads/x",
    "a b",
    "ключ",
    "x" * 1025,
]


@pytest.mark.parametrize("key", BAD_KEYS, ids=[repr(k)[:20] for k in BAD_KEYS])
async def test_bad_keys_are_refused_everywhere(store: ObjectStore, key: str, tmp_path: Path) -> None:
    calls = [
        store.put_bytes(key, b"x"),
        store.put_file(key, tmp_path / "none"),
        store.put_stream(key, chunks_of(b"x")),
        store.get_bytes(key),
        store.head(key),
        store.exists(key),
        store.delete(key),
        store.copy("a/b", key),
        store.presign_get(key),
        store.presign_put(key),
    ]
    for call in calls:
        with pytest.raises(InvalidKey):
            await call
    with pytest.raises(InvalidKey):
        _ = [c async for c in store.get_stream(key)]
    assert not (tmp_path.parent / "outside").exists()


async def test_bad_list_prefix_is_refused(store: ObjectStore) -> None:
    with pytest.raises(InvalidKey):
        await keys_under(store, "../")


async def test_metadata_names_are_checked(store: ObjectStore) -> None:
    with pytest.raises(ValueError, match="reserved"):
        await store.put_bytes("a/b", b"x", metadata={"sha256": "0" * 64})
    with pytest.raises(ValueError, match="metadata name"):
        await store.put_bytes("a/b", b"x", metadata={"Upper": "x"})
    assert not await store.exists("a/b")


async def test_keys_from_the_key_builders_work(store: ObjectStore) -> None:
    key = job_artifact_key("job-42", 3, "plots/item_1.png")
    ref = await store.put_bytes(key, b"\x89PNG")
    assert ref.key == "jobs/job-42/attempt-3/plots/item_1.png"
    assert await keys_under(store, "jobs/job-42/attempt-3/") == [key]


async def test_errors_share_one_base(store: ObjectStore) -> None:
    with pytest.raises(StorageError):
        await store.get_bytes("no/such")

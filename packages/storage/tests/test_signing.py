"""HMAC signed URLs, independent of any store."""

from __future__ import annotations

import pytest

from plastinka_storage import InvalidSignature, verify_signature, verify_signed_url
from plastinka_storage.signing import build_signed_url, sign

SECRET = "s3cr3t-signing-key-0123456789"
BASE = "https://api.example/storage"


def grant(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {"method": "GET", "key": "a/b.csv", "expires": 2_000, "sha256": None}
    fields.update(overrides)
    fields["signature"] = sign(
        SECRET,
        method=str(fields["method"]),
        key=str(fields["key"]),
        expires=int(fields["expires"]),  # type: ignore[call-overload]
        sha256=fields["sha256"],  # type: ignore[arg-type]
    )
    return fields


def test_a_valid_grant_verifies() -> None:
    g = grant()
    result = verify_signature(SECRET, now=1_999, **g)  # type: ignore[arg-type]
    assert (result.method, result.key, result.sha256) == ("GET", "a/b.csv", None)
    assert int(result.expires_at.timestamp()) == 2_000


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("method", "PUT", "bad signature"),
        ("key", "a/c.csv", "bad signature"),
        ("expires", 3_000, "bad signature"),
        ("sha256", "0" * 64, "bad signature"),
        ("expires", "soon", "malformed"),
        ("key", "../x", "malformed"),
        ("sha256", "zz", "malformed"),
    ],
)
def test_changing_any_part_breaks_the_signature_and_a_malformed_part_is_refused(
    field: str, value: object, reason: str
) -> None:
    g = grant()
    g[field] = value
    with pytest.raises(InvalidSignature) as caught:
        verify_signature(SECRET, now=1_000, **g)  # type: ignore[arg-type]
    assert caught.value.reason == reason


def test_another_secret_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="bad signature"):
        verify_signature("another-secret-0123456789", now=1_000, **grant())  # type: ignore[arg-type]


def test_expired_is_refused_even_with_a_good_signature() -> None:
    with pytest.raises(InvalidSignature) as caught:
        verify_signature(SECRET, now=2_000, **grant())  # type: ignore[arg-type]
    assert caught.value.reason == "expired"


def test_url_round_trip_and_tampering() -> None:
    url = build_signed_url(SECRET, BASE, method="PUT", key="datasets/x/d.csv", expires=2_000, sha256="A" * 64)
    assert url.startswith(f"{BASE}/datasets/x/d.csv?expires=2000&sha256={'a' * 64}&signature=")
    ok = verify_signed_url(SECRET, url, method="put", base_url=BASE, now=1_000)
    assert (ok.method, ok.key, ok.sha256) == ("PUT", "datasets/x/d.csv", "a" * 64)
    for bad in (
        url.replace("d.csv", "e.csv"),
        url.replace("expires=2000", "expires=2001"),
        url.replace("sha256=a", "sha256=b"),
    ):
        with pytest.raises(InvalidSignature, match="bad signature"):
            verify_signed_url(SECRET, bad, method="PUT", base_url=BASE, now=1_000)
    with pytest.raises(InvalidSignature, match="bad signature"):
        verify_signed_url(SECRET, url, method="GET", base_url=BASE, now=1_000)
    for malformed in (
        url.replace("/storage/", "/other/"),
        url.split("&signature=")[0],
        url + "&expires=1",
    ):
        with pytest.raises(InvalidSignature, match="malformed"):
            verify_signed_url(SECRET, malformed, method="PUT", base_url=BASE, now=1_000)


def test_only_known_methods_are_signed() -> None:
    with pytest.raises(ValueError, match="method"):
        build_signed_url(SECRET, BASE, method="DELETE", key="a/b", expires=1)

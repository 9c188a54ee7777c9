"""Hostile input over real HTTP: each attempt gets a clear 4xx (or, for names, is defused) and changes nothing:
the database's row counts and the storage directory's files are compared before and after."""

from __future__ import annotations

import csv
import hashlib
import io
import time
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import fastexcel
import polars as pl
import pytest

from plastinka_api.secrets_file import SIGNED_URLS, derive
from plastinka_storage.signing import sign
from plastinka_testing.security import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_ROWS,
    SecureServer,
    assert_clear_4xx,
    event,
    job_token,
    memory_peak,
    predict,
    train,
    training_manifest,
    unchanged,
)
from plastinka_testing.servers import API, SECRET, post_dataset

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The key the server signs download URLs with (derived from its master secret).
URL_KEY = derive(SECRET.encode(), SIGNED_URLS)


# --- uploads ------------------------------------------------------------------------------------------


def _sales_csv(rows: int, artist: str = "Artist") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Дата продажи", "Исполнитель", "Альбом", "Цена"])
    for n in range(rows):
        writer.writerow([f"2023-{n % 12 + 1:02d}-15", f"{artist} {n % 50}", f"Album {n % 7}", "1000"])
    return out.getvalue().encode()


def test_an_upload_over_the_size_cap_is_413(server: SecureServer) -> None:
    big = _sales_csv(10) + b"x" * (MAX_UPLOAD_BYTES + 1)
    with server.client(server.keys["analyst"]) as analyst, unchanged(server):
        assert_clear_4xx(post_dataset(analyst, big), 413, "limit")
        assert_clear_4xx(post_dataset(analyst, _sales_csv(10), stock=big), 413, "limit")

        def chunks() -> Iterator[bytes]:  # no Content-Length: the cap holds while the body streams
            boundary = b"--sec\r\n"
            yield boundary + b'Content-Disposition: form-data; name="file"; filename="s.csv"\r\n\r\n'
            for _ in range(3 * MAX_UPLOAD_BYTES // 65536):
                yield b"y" * 65536
            yield b"\r\n--sec--\r\n"

        streamed = analyst.post(
            f"{API}/datasets", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=sec"}
        )
        assert_clear_4xx(streamed, 413, "limit")


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """An xlsx-shaped zip under 1 MiB whose sheet inflates to 600 MiB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            zeros = b"\0" * 2**20
            for _ in range(600):
                sheet.write(zeros)
    assert len(buffer.getvalue()) < MAX_UPLOAD_BYTES
    return buffer.getvalue()


def _lying_zip() -> bytes:
    """A zip whose sheet declares 10 bytes but inflates to 50 MiB (the declared sizes are a lie)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 50 * 2**20)
    data = bytearray(buffer.getvalue())
    real = (50 * 2**20).to_bytes(4, "little")
    fake = (10).to_bytes(4, "little")
    assert data.count(real) == 2  # local header and central directory entry
    return bytes(data.replace(real, fake))


def _xlsx_bytes(rows: int) -> bytes:
    buffer = io.BytesIO()
    pl.read_csv(io.BytesIO(_sales_csv(rows))).write_excel(buffer)
    return buffer.getvalue()


MALFORMED: dict[str, tuple[str, bytes]] = {
    "binary garbage": ("sales.csv", bytes(range(256)) * 40),
    "csv without the needed columns": ("sales.csv", b"a,b,c\n1,2,3\n4,5,6\n"),
    "csv header only": ("sales.csv", "Дата продажи,Исполнитель,Альбом\n".encode()),
    "csv with unbalanced quotes": ("sales.csv", _sales_csv(3) + b'"2023-01-01,"broken\n' * 3),
    "csv where every date is nonsense": ("sales.csv", "Дата продажи,Исполнитель,Альбом\nnot a date,A,B\n".encode()),
    "empty file": ("sales.csv", b""),
    "truncated xlsx": ("sales.xlsx", _xlsx_bytes(20)[:1500]),
    "zip that is not a workbook": ("sales.xlsx", b"PK\x05\x06" + b"\0" * 18),
    "xlsx with lying sizes": ("sales.xlsx", _lying_zip()),
    "xls header with garbage": ("sales.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
    "parquet magic with garbage": ("sales.parquet", b"PAR1" + b"\x07" * 300 + b"PAR1"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files_are_422_naming_the_file(server: SecureServer, case: str) -> None:
    name, data = MALFORMED[case]
    with server.client(server.keys["analyst"]) as analyst, unchanged(server):
        body = assert_clear_4xx(post_dataset(analyst, data, name), 422)
        assert body["details"][0]["file"] == name
        assert {"file", "row", "column", "reason"} <= set(body["details"][0])


def test_a_zip_bomb_xlsx_is_refused_before_it_inflates(server: SecureServer, zip_bomb: bytes) -> None:
    with server.client(server.keys["analyst"]) as analyst, unchanged(server):
        assert_clear_4xx(post_dataset(analyst, zip_bomb, "bomb.xlsx"), 422, "decompresses", "limit")


def test_row_counts_over_the_cap_are_422(server: SecureServer) -> None:
    rows = MAX_UPLOAD_ROWS + 10
    frame = pl.read_csv(io.BytesIO(_sales_csv(rows)))
    parquet = io.BytesIO()
    frame.write_parquet(parquet)
    with server.client(server.keys["analyst"]) as analyst, unchanged(server):
        for name, data in (("many.csv", _sales_csv(rows)), ("many.parquet", parquet.getvalue())):
            assert len(data) < MAX_UPLOAD_BYTES
            body = assert_clear_4xx(post_dataset(analyst, data, name), 422, "limit")
            assert str(MAX_UPLOAD_ROWS) in body["message"] and body["details"][0]["file"] == name
    # one row under the cap is fine (the cap is not just "refuse everything big")
    with server.client(server.keys["analyst"]) as analyst:
        assert post_dataset(analyst, _sales_csv(MAX_UPLOAD_ROWS - 1), "under.csv").status_code == 201


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory is read from /proc")
def test_a_parquet_bomb_is_refused_from_its_footer(server: SecureServer) -> None:
    """10 million rows in ~100 KiB of parquet: decoding them would take the server hundreds of MiB before the
    row cap could be checked; the count in the footer refuses it first."""
    rows = 10_000_000
    frame = pl.DataFrame(
        {
            "Дата продажи": pl.repeat("2023-01-15", rows, eager=True),
            "Исполнитель": pl.repeat("A", rows, eager=True),
            "Альбом": pl.repeat("B", rows, eager=True),
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd")
    del frame
    assert len(buffer.getvalue()) < MAX_UPLOAD_BYTES
    with server.client(server.keys["analyst"]) as analyst, unchanged(server), memory_peak(server.process.pid) as peak:
        body = assert_clear_4xx(post_dataset(analyst, buffer.getvalue(), "bomb.parquet"), 422, "limit")
        assert body["details"][0]["file"] == "bomb.parquet" and str(rows) in body["message"]
    assert peak.growth_mib < 200


# --- names, keys and ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../../../../etc/passwd.csv", "..\\..\\windows\\win.ini.csv", "/abs/path.csv", ".hidden.csv", "a/../../b.csv"],
)
def test_path_traversal_in_file_names_is_defused(server: SecureServer, name: str) -> None:
    data = _sales_csv(40, artist=hashlib.sha256(name.encode()).hexdigest()[:8])  # new bytes: a new dataset
    outside = sorted(p.name for p in server.data_dir.parent.iterdir())
    with server.client(server.keys["analyst"]) as analyst:
        created = post_dataset(analyst, data, name)
    assert created.status_code == 201, created.text
    digest = hashlib.sha256(data).hexdigest()
    stored = [p for p in server.objects() if p.startswith(f"datasets/{digest}/")]
    assert stored, server.objects()
    objects = [key for key in stored if not key.endswith(".meta.json")]  # sidecars are ".<name>.meta.json"
    # the upload, and the dataset's item index beside it (uploads.register)
    assert len([key for key in objects if key.split("/")[-1].startswith("items-")]) == 1
    objects = [key for key in objects if not key.split("/")[-1].startswith("items-")]
    assert len(objects) == 1
    for key in stored:
        assert ".." not in key.split("/") and "\\" not in key
        assert (server.storage_dir / key).resolve().is_relative_to(server.storage_dir.resolve())
    assert not objects[0].split("/")[-1].startswith(".")
    assert sorted(p.name for p in server.data_dir.parent.iterdir()) == outside


def test_an_overlong_file_name_is_400(server: SecureServer) -> None:
    with server.client(server.keys["analyst"]) as analyst, unchanged(server):
        assert_clear_4xx(post_dataset(analyst, _sales_csv(10), "x" * 400 + ".csv"), 400, "file name")


TRAVERSAL_IDS = ["..", "../../etc/passwd", "..%2F..%2Fplastinka.db", "%2e%2e", "ds_x%00", "a" * 5000, "*", "' OR 1=1--"]


@pytest.mark.parametrize("ident", TRAVERSAL_IDS)
def test_traversal_and_injection_in_ids_are_4xx(server: SecureServer, objects: dict[str, str], ident: str) -> None:
    paths = [
        f"{API}/datasets/{ident}",
        f"{API}/training/{ident}",
        f"{API}/status/{ident}",
        f"{API}/results/{ident}?format=csv",
        f"{API}/results/{ident}/download",
        f"{API}/models/{ident}",
        f"{API}/results/{objects['pj']}/accuracy?dataset_id={ident}",
        f"{API}/results/{objects['pj']}/plot?item_id={ident}",
    ]
    with server.client(server.keys["admin"]) as admin, unchanged(server):
        for path in paths:
            response = admin.get(path)
            assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:200])
        for path in (f"{API}/models/{ident}", f"{API}/keys/{ident}"):
            assert 400 <= admin.delete(path).status_code < 500
        for path, body in (
            (f"{API}/training", {"dataset_id": ident}),
            (f"{API}/prediction", {"model_id": ident}),
            (f"{API}/prediction", {"model_id": objects["model"], "dataset_id": ident}),
        ):
            response = admin.post(path, json=body)
            assert response.status_code in (404, 422), (path, response.status_code, response.text[:200])


# --- formula injection in exports ---------------------------------------------------------------------

EVIL = ['=HYPERLINK("http://x","y")', "+1+1", "-2-3", "@SUM(A1:A9)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"]


def _cells(fmt: str, data: bytes) -> list[str]:
    if fmt == "csv":
        return [cell for row in csv.reader(io.StringIO(data.decode("utf-8"))) for cell in row]
    sheet = fastexcel.read_excel(data).load_sheet(0, header_row=None, dtypes="string").to_polars()
    return [str(v) for row in sheet.rows() for v in row if v is not None]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_escape_formula_cells(server: SecureServer, objects: dict[str, str], fmt: str) -> None:
    # Item ids and attributes come from the shop's own files: any of them may start like a formula.
    frame = pl.DataFrame(
        {
            "item_id": EVIL,
            "period": [date(2024, 1, 1)] * len(EVIL),
            "mean": [1.0] * len(EVIL),
            "q_0.5": [1.0] * len(EVIL),
            "artist": list(reversed(EVIL)),
            "style": pl.Series(EVIL, dtype=pl.Categorical),
            "=header": EVIL,
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    with server.client(server.keys["analyst"]) as analyst:
        pj = predict(server, analyst, objects["model"], buffer.getvalue())
        _, evil_model = train(server, analyst, objects["ds"], backtest_model="=1+2")
        tj = analyst.get(f"{API}/models/{evil_model}").json()["training_job_id"]
        for job in (pj, tj):
            response = analyst.get(f"{API}/results/{job}", params={"format": fmt})
            assert response.status_code == 200, response.text
            cells = _cells(fmt, response.content)
            dangerous = [c for c in cells if c.startswith(FORMULA_STARTS)]
            assert dangerous == [], dangerous
            if job == pj:
                for value in EVIL:
                    assert "'" + value in cells or "'" + value.replace("\r", "\n") in cells, value


# --- signed download URLs -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed(server: SecureServer, objects: dict[str, str]) -> dict[str, Any]:
    with server.client(server.keys["viewer"]) as viewer:
        link = viewer.get(f"{API}/results/{objects['pj']}/download").json()
    path, _, query = link["url"].removeprefix(server.url).partition("?")
    params = dict(pair.split("=", 1) for pair in query.split("&"))
    return {"link": link, "path": path, "params": params, "key": path.removeprefix("/files/")}


def test_a_genuine_signed_url_downloads_the_verified_bytes(server: SecureServer, signed: dict[str, Any]) -> None:
    with server.client(None) as anonymous:
        response = anonymous.get(signed["link"]["url"])
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == signed["link"]["sha256"]


def _tampered(signed: dict[str, Any]) -> dict[str, tuple[str, dict[str, str]]]:
    path, params, key = signed["path"], signed["params"], signed["key"]
    flipped = params["signature"][:-1] + ("0" if params["signature"][-1] != "0" else "1")
    past = int(time.time()) - 10
    expires = int(params["expires"])
    dataset_key = "datasets/" + "0" * 64 + "/sales.csv"
    return {
        "signature flipped": (path, {**params, "signature": flipped}),
        "expiry extended": (path, {**params, "expires": str(int(params["expires"]) + 3600)}),
        "another key, same signature": (f"/files/{dataset_key}", params),
        "expired but genuinely signed": (
            path,
            {"expires": str(past), "signature": sign(URL_KEY, method="GET", key=key, expires=past)},
        ),
        "signed with another secret": (
            path,
            {"expires": params["expires"], "signature": sign("x" * 40, method="GET", key=key, expires=expires)},
        ),
        "traversal in the key": ("/files/jobs/../../plastinka.db", params),
        "encoded traversal in the key": ("/files/%2e%2e/%2e%2e/plastinka.db", params),
        "absolute key": ("/files//etc/passwd", params),
        "signature of a PUT": (
            path,
            {"expires": params["expires"], "signature": sign(URL_KEY, method="PUT", key=key, expires=expires)},
        ),
    }


def test_tampered_or_expired_signed_urls_are_refused(server: SecureServer, signed: dict[str, Any]) -> None:
    with server.client(None) as anonymous, unchanged(server):
        for case, (path, params) in _tampered(signed).items():
            response = anonymous.get(path, params=params)
            assert response.status_code in (403, 404), (case, response.status_code, response.text[:200])
            assert response.json()["error"] in ("forbidden", "not_found"), case
            assert b"PAR1" not in response.content, case
        missing = anonymous.get(signed["path"], params={"expires": signed["params"]["expires"]})
        assert_clear_4xx(missing, 422)


# --- callback tokens ----------------------------------------------------------------------------------


def test_forged_and_misdirected_callback_tokens_are_401(server: SecureServer, objects: dict[str, str]) -> None:
    with server.client(server.keys["analyst"]) as analyst:
        queued = analyst.post(f"{API}/training", json={"dataset_id": objects["ds"]}).json()["job_id"]
        other = analyst.post(f"{API}/training", json={"dataset_id": objects["ds"]}).json()["job_id"]
    assert queued in server.claim()
    running = event(queued, 1, "running")
    genuine = job_token(queued, 1)
    payload, _, signature = genuine.rpartition(".")
    forged = {
        "signature changed": f"{payload}.{signature[:-2]}AA",
        "attempt edited": genuine.replace(f".{queued}.1.", f".{queued}.2.", 1),
        "another secret": job_token(queued, 1, secret="another-secret-" + "q" * 30),
        "another job's token": job_token(other, 1),
        "another attempt's token": job_token(queued, 2),
        "expired": job_token(queued, 1, expires_in=-1),
        "malformed": "v1.garbage",
        "an admin API key": server.keys["admin"],
        "not a token at all": "x",
    }
    with unchanged(server):
        for case, token in forged.items():
            response = server.post_event(running, token=token)
            assert response.status_code == 401, (case, response.status_code, response.text)
            if case in ("another job's token", "another attempt's token"):
                continue  # genuine tokens: a garbage body gets its 400 (a function's own bug), never applied
            # a garbage body with a token that is not genuine: 401, no validation feedback
            with server.client(None) as anonymous:
                garbage = anonymous.post(
                    f"{API}/internal/jobs/{queued}/events",
                    json={"nonsense": True},
                    headers={"Authorization": f"Bearer {token}"},
                )
            assert garbage.status_code == 401, (case, garbage.text)
        succeeded = event(queued, 1, "succeeded", manifest=training_manifest_stub(queued))
        assert server.post_event(succeeded, token=job_token(other, 1)).status_code == 401
    status = server.client().get(f"{API}/status/{queued}").json()
    assert status["status"] == "dispatched" and status["attempt"] == 1


def training_manifest_stub(job_id: str) -> dict[str, Any]:
    """A manifest naming objects that were never written (it must not even be looked at)."""
    ref = {"key": f"jobs/{job_id}/attempt-1/model.txt", "sha256": "0" * 64, "size": 1}
    return {"artifacts": {"model": ref, "model_meta": ref, "metrics": ref}}


def test_replayed_callbacks_after_the_job_ended_change_nothing(server: SecureServer, objects: dict[str, str]) -> None:
    """At-least-once delivery makes a late duplicate normal, so the design answers it 200 with
    ``applied: false``; what matters for security is that a replay, even of another outcome, changes nothing."""
    tj = objects["tj"]
    with server.client() as admin:
        before = admin.get(f"{API}/status/{tj}").json()
    manifest = training_manifest(server, tj, 1)  # writes objects: snapshot after it
    with unchanged(server):
        for body in (
            event(tj, 1, "succeeded", manifest=manifest),
            event(tj, 1, "failed", error_type="Replay", message="late failure"),
            event(tj, 1, "running"),
            event(tj, 1, "progress", progress=0.1),
        ):
            response = server.post_event(body)
            assert response.status_code in (200, 409), response.text
            if response.status_code == 200:
                assert response.json()["applied"] is False
        # the replayed token cannot reach another attempt of the same job either
        assert server.post_event(event(tj, 2, "running"), token=job_token(tj, 1)).status_code == 401
    with server.client() as admin:
        after = admin.get(f"{API}/status/{tj}").json()
        model = admin.get(f"{API}/training/{tj}").json()["model_id"]
    assert after == before and model == objects["model"]

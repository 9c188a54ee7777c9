"""Uploads: validation report, content addressing, size caps, bad files -> 4xx naming file/row/column."""

from __future__ import annotations

from pathlib import Path

from plastinka_testing.app import Api, make_settings, running_api, upload


async def test_upload_reports_rows_items_and_period(api: Api, shop_files: tuple[Path, Path]) -> None:
    sales, stock = shop_files
    response = await upload(api.analyst, sales, stock)
    assert response.status_code == 201, response.text
    body = response.json()
    report = body["report"]
    assert report["rows"] > 0 and report["items"] > 0 and report["stocked_items"] > 0
    assert report["period_start"] <= report["period_end"]
    assert body["filename"] == sales.name and body["stock_filename"] == stock.name
    assert len(body["sha256"]) == 64
    assert await api.ctx.store.exists(f"datasets/{body['sha256']}/{sales.name}")
    got = await api.viewer.get(f"/api/v1/datasets/{body['id']}")
    assert got.status_code == 200 and got.json()["id"] == body["id"]
    listing = (await api.viewer.get("/api/v1/datasets")).json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == body["id"]


async def test_identical_upload_returns_the_existing_dataset(api: Api, shop_files: tuple[Path, Path]) -> None:
    sales, _ = shop_files
    first = await upload(api.analyst, sales)
    again = await upload(api.analyst, sales)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert (await api.viewer.get("/api/v1/datasets")).json()["total"] == 1


async def test_another_owners_dataset_is_a_404(api: Api, shop_files: tuple[Path, Path]) -> None:
    sales, _ = shop_files
    mine = (await upload(api.analyst, sales)).json()
    assert (await api.other.get(f"/api/v1/datasets/{mine['id']}")).status_code == 404
    assert (await api.other.get("/api/v1/datasets")).json()["total"] == 0
    training = await api.other.post("/api/v1/training", json={"dataset_id": mine["id"]})
    assert training.status_code == 404
    # The same bytes uploaded by the other owner become that owner's own dataset.
    theirs = await upload(api.other, sales)
    assert theirs.status_code == 201 and theirs.json()["id"] != mine["id"]


async def test_a_file_without_the_needed_columns_is_a_422_naming_file_and_column(api: Api, tmp_path: Path) -> None:
    bad = tmp_path / "sales.csv"
    bad.write_text("Исполнитель;Альбом\nKino;Gruppa krovi\n", encoding="utf-8")
    response = await upload(api.analyst, bad)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_upload"
    assert body["details"][0]["file"] == "sales.csv"
    assert "sales.csv" in body["message"]
    assert (await api.viewer.get("/api/v1/datasets")).json()["total"] == 0


async def test_rows_with_bad_values_are_reported_with_row_and_column(
    api: Api, tmp_path: Path, shop_files: tuple[Path, Path]
) -> None:
    sales, _ = shop_files
    lines = sales.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    date_col = next(i for i, h in enumerate(header) if h.startswith(("Дата заказа", "Дата продажи")))
    broken = lines[1].split(";")
    broken[date_col] = "not a date"
    dirty = tmp_path / "dirty.csv"
    dirty.write_text("\n".join([lines[0], ";".join(broken), *lines[2:]]) + "\n", encoding="utf-8")
    response = await upload(api.analyst, dirty)
    assert response.status_code == 201, response.text
    issues = response.json()["report"]["issues"]
    assert any(i["row"] is not None and i["column"] and i["file"] == "dirty.csv" for i in issues), issues


async def test_empty_and_garbage_files_are_4xx(api: Api, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert (await upload(api.analyst, empty)).status_code == 422
    garbage = tmp_path / "sales.xlsx"
    garbage.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50)
    response = await upload(api.analyst, garbage)
    assert 400 <= response.status_code < 500, response.text


async def test_missing_file_field_is_a_422(api: Api) -> None:
    response = await api.analyst.post("/api/v1/datasets", data={"x": "y"})
    assert response.status_code == 422
    assert response.json()["details"][0]["where"] == "body.file"


async def test_uploads_over_the_size_cap_are_413(tmp_path: Path, shop_files: tuple[Path, Path]) -> None:
    sales, _ = shop_files
    async with running_api(make_settings(tmp_path, max_upload_bytes=1000)) as api:
        response = await upload(api.analyst, sales)
        assert response.status_code == 413
        assert response.json()["error"] == "payload_too_large"
        assert (await api.viewer.get("/api/v1/datasets")).json()["total"] == 0


async def test_a_body_far_over_the_cap_is_refused_before_parsing(tmp_path: Path) -> None:
    async with running_api(make_settings(tmp_path, max_upload_bytes=1000)) as api:
        huge = b"x" * 3_000_000  # past 2 files x 1000 bytes + 1 MiB of multipart overhead
        declared = await api.analyst.post("/api/v1/datasets", files={"file": ("big.csv", huge, "text/csv")})
        assert declared.status_code == 413

        async def chunks():  # no Content-Length: counted while it streams
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
            for _ in range(30):
                yield b"y" * 100_000

        streamed = await api.analyst.post(
            "/api/v1/datasets", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"}
        )
        assert streamed.status_code == 413
        assert streamed.json()["error"] == "payload_too_large"
        big_json = await api.analyst.post(
            "/api/v1/training", content=b"[" + b"1," * 5_000_000 + b"1]", headers={"Content-Type": "application/json"}
        )
        assert big_json.status_code == 413


async def test_viewers_cannot_upload(api: Api, shop_files: tuple[Path, Path]) -> None:
    assert (await upload(api.viewer, shop_files[0])).status_code == 403

"""Uploads that inflate: each is refused naming the limit and the file, and the server with its parsing children
never grows past the memory ceiling (``PLASTINKA_UPLOAD_MEMORY_BYTES``, read here from /proc while it works).

The bombs are the ones of issue 16: a few KiB of parquet holding the same 10 KB string 200,000 times (6.48 GB on
the server before), an xlsx whose 510 MB sheet zips to 2 MB (0.7 to 1.4 GB), and a zip part of one-letter shared
strings inflating 400 times (1 GB); and a plain-encoded parquet whose footer declares 400 MB in 0.5 MB."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from plastinka_testing.bombs import plain_parquet_bomb, sales_parquet
from plastinka_testing.security import (
    SecureServer,
    assert_clear_4xx,
    make_keys,
    memory_peak,
    secure_server,
)
from plastinka_testing.servers import post_dataset

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="memory is read from /proc"),
]

CEILING = 256 * 2**20
UPLOAD_CAP = 8 * 2**20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureServer]:
    env = {"PLASTINKA_MAX_UPLOAD_BYTES": str(UPLOAD_CAP), "PLASTINKA_UPLOAD_MEMORY_BYTES": str(CEILING)}
    with secure_server(tmp_path_factory.mktemp("upload-limits-api"), env) as running:
        running.keys = make_keys(running)
        yield running


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{_OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_OFFICE}">'
        '<sheets><sheet name="Продажи" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{_OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_OFFICE}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
}


def _row(number: int, cells: list[str]) -> str:
    columns = zip("ABC", cells, strict=True)
    inline = (f'<c r="{col}{number}" t="inlineStr"><is><t>{text}</t></is></c>' for col, text in columns)
    return f'<row r="{number}">{"".join(inline)}</row>'


def _workbook(sheet_rows: int, shared_strings: int) -> bytes:
    """A valid xlsx: the header and ``sheet_rows`` sale rows in its sheet, ``shared_strings`` one-letter strings in
    its shared strings part; both streamed into the zip, which compresses them hundreds of times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}"><sheetData>'.encode())
            sheet.write(_row(1, ["Дата продажи", "Исполнитель", "Альбом"]).encode())
            block = "".join(_row(2, ["2023-01-15", "Artist", "Album"]) for _ in range(1000)).encode()
            for _ in range(sheet_rows // 1000):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as strings:
            strings.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}">'.encode())
            block = b"<si><t>a</t></si>" * 10_000
            for _ in range(shared_strings // 10_000):
                strings.write(block)
            strings.write(b"</sst>")
    return buffer.getvalue()


def _inflated(data: bytes) -> int:
    return sum(member.file_size for member in zipfile.ZipFile(io.BytesIO(data)).infolist())


def _refused_within_the_ceiling(server: SecureServer, data: bytes, name: str, status: int, *words: str) -> None:
    assert len(data) < UPLOAD_CAP
    before = server.snapshot()
    with server.client(server.keys["analyst"]) as analyst, memory_peak(server.process.pid) as peak:
        response = post_dataset(analyst, data, name)
    assert peak.growth < CEILING, f"{peak.growth_mib} MiB over idle"
    body = assert_clear_4xx(response, status, name, *words)
    assert body["details"][0]["file"] == name
    assert server.snapshot() == before


def test_a_parquet_of_one_long_string_repeated_is_refused_at_the_cell_cap(server: SecureServer) -> None:
    bomb = sales_parquet(200_000, "x" * 10_000)  # 2 GB of text once decoded
    assert len(bomb) < 16 * 1024
    _refused_within_the_ceiling(server, bomb, "bomb.parquet", 422, "4096", "limit", "альбом")


def test_a_plain_encoded_parquet_bomb_is_refused_from_its_footer(server: SecureServer) -> None:
    _refused_within_the_ceiling(server, plain_parquet_bomb(), "plain.parquet", 422, "footer declares", "limit")


def test_a_parquet_whose_text_adds_up_past_the_cap_is_refused(server: SecureServer) -> None:
    bomb = sales_parquet(100_000, "y" * 4000)  # every cell under the cap, 400 MB of text together
    _refused_within_the_ceiling(server, bomb, "text.parquet", 422, "decoded", str(CEILING // 2))


def test_an_xlsx_whose_sheet_inflates_hundreds_of_times_is_refused(server: SecureServer) -> None:
    bomb = _workbook(sheet_rows=3_000_000, shared_strings=0)  # a 510 MB sheet: under the 512 MiB archive cap
    assert _inflated(bomb) > 500 * 10**6 and len(bomb) < 3 * 2**20
    _refused_within_the_ceiling(server, bomb, "sheet.xlsx", 422, "sheet1.xml", "inflates", "limit of 100 times")


def test_a_zip_part_over_the_ratio_limit_is_refused_before_it_is_read(server: SecureServer) -> None:
    bomb = _workbook(sheet_rows=1000, shared_strings=18_000_000)  # 306 MB of one-letter strings in 0.7 MB
    _refused_within_the_ceiling(server, bomb, "strings.xlsx", 422, "sharedstrings.xml", "inflates", "limit")


def test_a_file_that_needs_more_memory_than_the_ceiling_is_413(server: SecureServer) -> None:
    """3 million short rows pass every cap on the file itself; mapping them needs more than the ceiling, and
    the parsing child, not the server, runs out."""
    rows = sales_parquet(3_000_000, "Album")
    _refused_within_the_ceiling(server, rows, "rows.parquet", 413, "memory limit", str(CEILING))


def test_parallel_bombs_are_parsed_one_at_a_time_within_the_ceiling(server: SecureServer) -> None:
    """Four uploads at once took the server to 4.3 GB: ``PLASTINKA_UPLOAD_PARSERS`` (1) keeps one parse running,
    so the ceiling holds for all of them together, and the server keeps answering meanwhile."""
    files = [sales_parquet(3_000_000, f"Album {n}") for n in range(4)]  # four different files
    before = server.snapshot()
    slowest = 0.0
    with (
        server.client(server.keys["analyst"]) as analyst,
        server.client(None) as anonymous,
        memory_peak(server.process.pid) as peak,
        ThreadPoolExecutor(4) as pool,
    ):
        uploads = [pool.submit(post_dataset, analyst, data, f"rows-{n}.parquet") for n, data in enumerate(files)]
        while not all(upload.done() for upload in uploads):
            started = time.monotonic()
            assert anonymous.get("/health").status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.1)
    assert peak.growth < CEILING, f"{peak.growth_mib} MiB over idle"
    assert slowest < 2.0, f"/health took {slowest:.1f} s"
    for upload in uploads:
        assert_clear_4xx(upload.result(), 413, "memory limit")
    assert server.snapshot() == before


def test_an_ordinary_upload_still_passes(server: SecureServer) -> None:
    ordinary = sales_parquet(1000, "Album")
    with server.client(server.keys["analyst"]) as analyst:
        created = post_dataset(analyst, ordinary, "ordinary.parquet")
    assert created.status_code == 201, created.text
    assert created.json()["report"]["rows"] == 1000

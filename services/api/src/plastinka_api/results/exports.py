"""Result files for download: CSV, XLSX and Parquet, with spreadsheet formula injection defused.

A text cell that starts with ``= + - @`` (or a tab / carriage return) would run as a formula when a user opens
the file in a spreadsheet; such cells get a leading apostrophe. Numbers and dates are written as they are.

``lang="ru"`` makes the files for a Russian Excel: Russian headers (:data:`RU_HEADERS`), and a CSV in UTF-8
with a BOM, ``;`` between cells, a decimal comma, numbers to 2 places, dates as ``dd.mm.yyyy`` and digit-only
text (barcodes) as ``="0123"``, the one way a CSV keeps Excel from reading it as a number (losing the leading
zero, or showing 4.6E+12). ``lang="en"`` (the default, for programs) keeps the column names and plain CSV. XLSX
in both: frozen header row, autofilter, column widths from the content, ``0.00`` / ``0`` number formats.
"""

from __future__ import annotations

import io
from typing import Final, Literal

import polars as pl
import xlsxwriter

ExportFormat = Literal["csv", "xlsx", "parquet"]
Lang = Literal["en", "ru"]

#: Russian headers of the forecast and order-list columns; quantile columns are named by :func:`ru_header`.
RU_HEADERS: Final[dict[str, str]] = {
    "item_id": "Код записи",
    "barcode": "Штрихкод",
    "artist": "Исполнитель",
    "album": "Альбом",
    "period": "Период",
    "mean": "Прогноз",
    "copies": "В наличии",
    "stock": "В наличии",
    "total_mean": "Ожидаемые продажи за срок",
    "total_quantile": "Нужно на срок (с вероятностью уровня обслуживания)",
    "suggested_order": "Рекомендуемый заказ",
    "service_level": "Уровень обслуживания",
    "cover_months": "Срок покрытия (периодов)",
    "total_method": "Метод расчёта",
    "sleeve": "Состояние конверта",
    "price": "Цена",
    "release_type": "Тип издания",
    "recording_year": "Год записи",
    "pressing_year": "Год издания",
    "style": "Стиль",
    "added_at": "Дата поступления",
    "cutoff": "Дата среза",
    "method": "Метод",
}
_WIDTH = (8, 50)

FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")

MEDIA_TYPES: Final[dict[str, str]] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


def escape_cell(value: str) -> str:
    """``'=1+1'`` -> ``"'=1+1"``; anything else unchanged."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def escape_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column with formula-like cells escaped, and so are the column names (the header row)."""
    # Categorical and enum columns (attributes often are) hold text too: as strings they get escaped below.
    categorical = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Categorical | pl.Enum)]
    if categorical:
        frame = frame.with_columns(pl.col(name).cast(pl.Utf8) for name in categorical)
    frame = frame.rename({name: escape_cell(name) for name in frame.columns if escape_cell(name) != name})
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.Utf8]
    if not text_columns:
        return frame
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(r"^[=+\-@\t\r]"))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text_columns
    )


def ru_header(name: str) -> str:
    """The Russian header of a column: ``q_0.1`` -> ``Нижняя граница (10%)``; unknown names unchanged."""
    if name.startswith("q_"):
        try:
            level = float(name[2:])
        except ValueError:
            return name
        percent = f"{level * 100:g}%"
        if level == 0.5:
            return "Медиана (50%)"
        return f"{'Нижняя' if level < 0.5 else 'Верхняя'} граница ({percent})"
    return RU_HEADERS.get(name, name)


def localise(frame: pl.DataFrame, lang: Lang) -> pl.DataFrame:
    """``frame`` with its headers in ``lang`` (a header that would repeat keeps its column name)."""
    if lang == "en":
        return frame
    names: dict[str, str] = {}
    for name in frame.columns:
        header = ru_header(name)
        names[name] = header if header not in names.values() else name
    return frame.rename(names)


def to_csv(frame: pl.DataFrame, lang: Lang = "en") -> bytes:
    safe = escape_frame(frame)
    if lang == "en":
        return safe.write_csv().encode("utf-8")
    digits = [name for name, dtype in safe.schema.items() if dtype == pl.Utf8]
    safe = safe.with_columns(
        pl.when(pl.col(name).str.contains(r"^[0-9]+$"))
        .then(pl.lit('="') + pl.col(name) + pl.lit('"'))
        .otherwise(pl.col(name))
        .alias(name)
        for name in digits
    )
    floats = [name for name, dtype in safe.schema.items() if dtype.is_float()]
    safe = safe.with_columns(pl.col(floats).round(2))
    text = localise(safe, lang).write_csv(
        separator=";", decimal_comma=True, float_precision=2, date_format="%d.%m.%Y", datetime_format="%d.%m.%Y"
    )
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def _width(series: pl.Series, header: str) -> int:
    longest = series.cast(pl.Utf8, strict=False).str.len_chars().max() if series.len() else 0
    return max(_WIDTH[0], min(_WIDTH[1], max(len(header), int(str(longest or 0))) + 2))


def to_xlsx(frame: pl.DataFrame, sheet: str = "forecast", lang: Lang = "en") -> bytes:
    """One sheet, frozen header row with a filter, strings written as strings (never parsed as formulas, so a
    barcode stays text with its zeros), numbers with 2 decimals (whole numbers without), dates as dates."""
    buffer = io.BytesIO()
    safe = escape_frame(frame)
    headers = localise(safe, lang).columns
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    try:
        sheet_ = workbook.add_worksheet(sheet)
        date_format = workbook.add_format({"num_format": "dd.mm.yyyy" if lang == "ru" else "yyyy-mm-dd"})
        header_format = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        formats = {
            "float": workbook.add_format({"num_format": "0.00"}),
            "int": workbook.add_format({"num_format": "0"}),
            "text": workbook.add_format({"num_format": "@"}),
        }
        for col, (name, dtype) in enumerate(safe.schema.items()):
            sheet_.write_string(0, col, escape_cell(headers[col]), header_format)
            kind = "float" if dtype.is_float() else "int" if dtype.is_integer() else "text"
            fmt = date_format if dtype in (pl.Date, pl.Datetime) else formats[kind]
            sheet_.set_column(col, col, _width(safe.get_column(name), headers[col]), fmt)
        sheet_.freeze_panes(1, 0)
        if safe.width:
            sheet_.autofilter(0, 0, max(safe.height, 1), safe.width - 1)
        for row_index, row in enumerate(safe.iter_rows(), start=1):
            for col, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet_.write_string(row_index, col, value)
                elif hasattr(value, "isoformat") and not isinstance(value, bool):
                    sheet_.write_datetime(row_index, col, value, date_format)
                else:
                    sheet_.write_number(row_index, col, value)
    finally:
        workbook.close()
    return buffer.getvalue()


def to_parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def export(frame: pl.DataFrame, fmt: ExportFormat, lang: Lang = "en", *, sheet: str = "forecast") -> bytes:
    if fmt == "csv":
        return to_csv(frame, lang)
    if fmt == "xlsx":
        return to_xlsx(frame, sheet, lang)
    return to_parquet(frame)

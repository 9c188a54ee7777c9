"""The sales-data contract: canonical long columns and the shop's Russian export headers.

A shop sales export has one row per sold copy; a stock snapshot has one row per stocked record with a copy
count. Both are mapped onto the canonical names below before anything else looks at them.
"""

from __future__ import annotations

from typing import Final

ITEM_ID: Final = "item_id"
DATE: Final = "date"
QUANTITY: Final = "quantity"

#: The canonical long format: one row per item and date, ``item_id`` always a string.
CANONICAL_REQUIRED_COLUMNS: Final = (ITEM_ID, DATE, QUANTITY)

#: Optional item attributes, in the order they appear in outputs.
ATTRIBUTE_COLUMNS: Final = (
    "barcode",
    "artist",
    "album",
    "sleeve",
    "price",
    "release_type",
    "recording_year",
    "pressing_year",
    "style",
    "added_at",
)

#: The shop's export headers, as written in its reports, and their canonical names.
SHOP_HEADERS: Final[dict[str, str]] = {
    "Штрихкод": "barcode",
    "Исполнитель": "artist",
    "Альбом": "album",
    "Конверт": "sleeve",
    "Цена, руб.": "price",
    "Тип": "release_type",
    "Год записи": "recording_year",
    "Год выпуска": "pressing_year",
    "Стиль": "style",
    "Дата создания": "added_at",
    "Дата добавления": "added_at",
    "Дата продажи": DATE,
    "Дата заказа": DATE,
    "Экземпляры": "copies",
}

#: Sale-date headers: ``Дата продажи`` in older exports, ``Дата заказа`` in newer ones.
SALE_DATE_HEADERS: Final = ("Дата продажи", "Дата заказа")

#: The stock snapshot's copy-count header.
STOCK_COPIES_HEADER: Final = "Экземпляры"

#: Release types as the shop writes them, and their canonical values.
RELEASE_TYPES: Final[dict[str, str]] = {"Оригинал": "original", "Переиздание": "reissue"}

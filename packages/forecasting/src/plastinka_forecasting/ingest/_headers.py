"""Recognising header cells: the shop's Russian headers and the canonical English column names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from plastinka_schemas.sales import ATTRIBUTE_COLUMNS, CANONICAL_REQUIRED_COLUMNS, SHOP_HEADERS

_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")

COPIES: Final = "copies"


def header_key(text: object) -> str:
    """Case, spacing, ``ё`` and punctuation do not matter in a header: ``'Цена,  руб'`` == ``'цена руб.'``."""
    if text is None:
        return ""
    cleaned = _PUNCTUATION.sub(" ", str(text).replace("\u00a0", " ").casefold().replace("ё", "е"))
    return _SPACES.sub(" ", cleaned).strip()


def _vocabulary() -> dict[str, str]:
    vocabulary = {header_key(name): field for name, field in SHOP_HEADERS.items()}
    # Spellings seen in hand-edited exports.
    vocabulary |= {
        header_key(alias): field
        for alias, field in {
            "Штрих-код": "barcode",
            "Штрих код": "barcode",
            "Цена": "price",
            "Количество экземпляров": COPIES,
            # A sales export's count of copies per row; negative on returned copies.
            "Количество": "quantity",
            "Кол-во": "quantity",
            "Кол во": "quantity",
            "Колво": "quantity",
            "Кол-во, шт": "quantity",
            "Количество, шт": "quantity",
            "Количество шт": "quantity",
            "Qty": "quantity",
            "Quantity": "quantity",
        }.items()
    }
    for name in (*CANONICAL_REQUIRED_COLUMNS, *ATTRIBUTE_COLUMNS, COPIES):
        vocabulary[header_key(name)] = name
    return vocabulary


VOCABULARY: Final = _vocabulary()
SALE_DATE_FIELD: Final = "date"
ITEM_ID_FIELD: Final = "item_id"
IDENTITY_FIELDS: Final = frozenset({"item_id", "barcode", "artist", "album"})


@dataclass(frozen=True)
class HeaderMatch:
    """Which columns of a header row map to which canonical fields (first column wins; the rest coalesce)."""

    fields: dict[str, list[int]]
    names: list[str]

    @property
    def score(self) -> int:
        return sum(len(columns) for columns in self.fields.values())

    def has(self, field: str) -> bool:
        return field in self.fields

    def looks_like(self, role: str) -> int:
        """How well this header suits ``role`` ('sales' or 'stock'); 0 when it cannot serve it."""
        if not self.fields.keys() & IDENTITY_FIELDS or self.score < 2:
            return 0
        if role == "sales":
            return self.score + 100 if self.has(SALE_DATE_FIELD) else 0
        return self.score + 100 if self.has(COPIES) or not self.has(SALE_DATE_FIELD) else 0


def match_header(cells: Sequence[object]) -> HeaderMatch:
    fields: dict[str, list[int]] = {}
    names = ["" if cell is None else str(cell).strip() for cell in cells]
    for index, name in enumerate(names):
        field = VOCABULARY.get(header_key(name))
        if field is not None:
            fields.setdefault(field, []).append(index)
    return HeaderMatch(fields=fields, names=names)

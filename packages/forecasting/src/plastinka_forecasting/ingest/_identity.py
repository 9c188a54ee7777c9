"""Item identity: the normalised barcode, else a readable artist + album + release-type key.

Price, sleeve condition and style are attributes, never part of the key: the same record in another sleeve
or at another price is the same item.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from plastinka_schemas.sales import RELEASE_TYPES

from ._values import fmt, text

NAME_KEY_PREFIX: Final = "a:"
_FLOAT_ARTEFACT = r"^(\d+)[.,]0+$"
_SCIENTIFIC = r"^(\d+)(?:[.,](\d*))?E\+?(\d{1,2})$"
_ZEROS = "0" * 100


def _compact(expr: pl.Expr) -> pl.Expr:
    cell = text(expr)
    return cell.str.replace_all(r"[\s\u00a0\u202f']", "").str.to_uppercase()


def barcode_digits(expr: pl.Expr) -> pl.Expr:
    """The barcode as text, or null: float artefact stripped, exact scientific expanded, spaces and dashes removed.

    Leading zeros are kept: a barcode is an identity, not a number (restoring zeros a number cell lost is
    :mod:`._barcodes`' job, across all rows).

    Scientific notation that must have lost digits (``4.6E+12``) gives null: the row falls back to its
    artist + album key rather than merging unrelated records under one rounded number.
    """
    cell = _compact(expr)
    float_artefact = cell.str.extract(_FLOAT_ARTEFACT, 1)
    mantissa = cell.str.extract(_SCIENTIFIC, 1)
    fraction = cell.str.extract(_SCIENTIFIC, 2).fill_null("")
    exponent = cell.str.extract(_SCIENTIFIC, 3).cast(pl.Int64)
    padding = exponent - fraction.str.len_chars().cast(pl.Int64)
    expanded = pl.when(padding == 0).then(mantissa + fraction)
    scientific = cell.str.contains(_SCIENTIFIC)
    plain = pl.when(~scientific).then(cell.str.replace_all(r"[^0-9A-Z]", ""))
    digits = pl.coalesce(float_artefact, expanded, plain)
    return pl.when(digits.str.strip_chars_start("0").str.len_chars() > 0).then(digits)


def barcode_repair(expr: pl.Expr) -> pl.Expr:
    """Why the barcode cell needed more than routine cleaning, or null when it did not."""
    cell = _compact(expr)
    fraction = cell.str.extract(_SCIENTIFIC, 2).fill_null("")
    exponent = cell.str.extract(_SCIENTIFIC, 3).cast(pl.Int64)
    exact = exponent == fraction.str.len_chars().cast(pl.Int64)
    shown = text(expr).str.slice(0, 40)
    return (
        pl.when(cell.str.contains(_FLOAT_ARTEFACT))
        .then(fmt("barcode '{}' had a float artefact; stripped", shown))
        .when(cell.str.contains(_SCIENTIFIC) & exact)
        .then(fmt("barcode '{}' was in scientific notation; expanded", shown))
        .when(cell.str.contains(_SCIENTIFIC))
        .then(fmt("barcode '{}' lost digits in scientific notation; ignored", shown))
    )


def _name_part(expr: pl.Expr) -> pl.Expr:
    cleaned = (
        text(expr)
        .str.to_lowercase()
        .str.replace_all("ё", "е")
        .str.replace_all(r"[^\w\s]|_", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    return cleaned.fill_null("")


def release_type(expr: pl.Expr) -> pl.Expr:
    """``Оригинал`` -> ``original``, ``Переиздание`` -> ``reissue``; other values cleaned but kept."""
    known = {key.casefold(): value for key, value in RELEASE_TYPES.items()}
    known |= {value: value for value in RELEASE_TYPES.values()}
    part = _name_part(expr)
    mapped = part.replace_strict(known, default=part, return_dtype=pl.Utf8)
    return pl.when(part.str.len_chars() > 0).then(mapped)


def name_key(artist: pl.Expr, album: pl.Expr, kind: pl.Expr) -> pl.Expr:
    """``a:<artist>|<album>|<type>``, casefolded, punctuation and spacing removed; null without artist and album."""
    artist_part, album_part = _name_part(artist), _name_part(album)
    key = pl.concat_str([pl.lit(NAME_KEY_PREFIX) + artist_part, album_part, kind.fill_null("")], separator="|")
    return pl.when((artist_part.str.len_chars() > 0) | (album_part.str.len_chars() > 0)).then(key)


def normalize_barcode(value: object) -> str | None:
    """The item id a barcode cell gives (scalar form of :func:`barcode_digits`)."""
    result = pl.select(barcode_digits(pl.lit(None if value is None else str(value), dtype=pl.Utf8))).item()
    return None if result is None else str(result)


def item_name_key(artist: str | None, album: str | None, kind: str | None = None) -> str | None:
    """The item id of a record without a barcode (scalar form of :func:`name_key`); ``kind`` as the shop writes it."""
    frame = pl.DataFrame(
        {"artist": [artist], "album": [album], "kind": [kind]},
        schema=dict.fromkeys(("artist", "album", "kind"), pl.Utf8),
    )
    result = frame.select(name_key(pl.col("artist"), pl.col("album"), release_type(pl.col("kind")))).item()
    return None if result is None else str(result)

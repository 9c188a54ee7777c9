"""A synthetic vinyl shop: exports in the shop's own format, with the ground truth they encode.

Demand per item and month is Poisson over a gamma-noised rate (so mostly 0-1 sales a month, a long tail of
rare items and a few steady sellers), times a December-peaked season, a launch boost that decays for new
arrivals, and zero while the item is out of stock (a two-state Markov chain). Each sold copy becomes one
row, as in the shop's exports. A few items have no barcode, so ingestion must fall back to artist + album.
Everything is drawn from one seeded generator: the same arguments give the same files.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final, Literal

import numpy as np
import polars as pl
import xlsxwriter

from plastinka_schemas.sales import SALE_DATE_HEADERS, STOCK_COPIES_HEADER

from .ingest._identity import barcode_digits, name_key, release_type
from .ingest._values import fmt

__all__ = ["ShopFiles", "SyntheticShop", "generate_shop", "write_sample", "write_shop"]

#: Month-of-year demand multipliers (January first): a December peak, a November run-up, a summer lull.
SEASON: Final = np.array([0.85, 0.8, 0.9, 0.9, 0.85, 0.75, 0.75, 0.8, 0.95, 1.0, 1.3, 2.0])

ITEM_HEADERS: Final = (
    "Штрихкод",
    "Исполнитель",
    "Альбом",
    "Конверт",
    "Цена, руб.",
    "Тип",
    "Год записи",
    "Год выпуска",
    "Стиль",
)
ADDED_HEADERS: Final = ("Дата создания", "Дата добавления")

_SYLLABLES: Final = [
    "ка",
    "ро",
    "ли",
    "на",
    "ми",
    "то",
    "ве",
    "да",
    "со",
    "ра",
    "ту",
    "ле",
    "бо",
    "гра",
    "стр",
    "ан",
    "ел",
    "ор",
    "ин",
    "ус",
    "ко",
    "ма",
    "ви",
    "зо",
    "ри",
    "ша",
    "ля",
    "the",
    "mo",
    "ro",
    "ki",
    "la",
    "ve",
    "da",
    "ny",
    "so",
    "ul",
    "ja",
    "zz",
    "bl",
    "ue",
    "star",
    "wave",
    "black",
    "sun",
    "stone",
]
_WORDS: Final = [
    "Ночь",
    "Город",
    "Лето",
    "Огни",
    "Небо",
    "Дорога",
    "Море",
    "Звезда",
    "Время",
    "Песни",
    "Blue",
    "Night",
    "Live",
    "Sessions",
    "Dreams",
    "Electric",
    "Silver",
    "Moon",
    "River",
    "Gold",
    "Heart",
    "Fire",
    "Love",
    "Soul",
    "Journey",
    "Echo",
    "Machine",
    "Garden",
    "Winter",
    "Spring",
    "Road",
    "Letters",
    "Radio",
    "Dance",
]
_STYLES: Final = (
    "Rock/Classic Rock",
    "Rock/Progressive Rock",
    "Jazz/Bebop",
    "Jazz",
    "Pop/Synth-pop",
    "Electronic/Ambient",
    "Soul/Funk",
    "Эстрада",
    "Rock/Post-Punk",
    "Hip Hop",
    "Classical",
    "Blues/Electric Blues",
)
_SLEEVES: Final = ("SS", "M", "NM", "VG+", "VG", "G")
_SLEEVE_P: Final = np.array([0.35, 0.1, 0.25, 0.15, 0.1, 0.05])


@dataclass(frozen=True)
class SyntheticShop:
    """Shop-format exports and what they encode.

    ``sales`` and ``stock`` carry the shop's Russian headers (``sales`` one row per sold copy, every cell text
    as in a csv export); ``truth`` is the canonical ``item_id``, ``date``, ``quantity`` (summed per item and
    day) that ingestion should recover, ``truth_stock`` the ``item_id``, ``copies`` of the snapshot;
    ``items`` has one row per item with its id, attributes and demand rate; ``bad_rows`` counts the rows made
    unusable on purpose (``dirty_share``), which ingestion must drop and report.
    """

    sales: pl.DataFrame
    stock: pl.DataFrame
    truth: pl.DataFrame
    truth_stock: pl.DataFrame
    items: pl.DataFrame
    start: date
    end: date
    bad_rows: int


@dataclass(frozen=True)
class ShopFiles:
    sales: Path
    stock: Path


def _month_starts(start: date, months: int) -> list[date]:
    first = start.year * 12 + start.month - 1
    return [date((first + t) // 12, (first + t) % 12 + 1, 1) for t in range(months)]


def _names(rng: np.random.Generator, count: int, pool: Sequence[str], words: tuple[int, int]) -> list[str]:
    lengths = rng.integers(words[0], words[1] + 1, size=count)
    picks = rng.integers(0, len(pool), size=int(lengths.sum()))
    names, at = [], 0
    for length in lengths:
        names.append(" ".join(pool[i] for i in picks[at : at + length]))
        at += length
    return names


def _artists(rng: np.random.Generator, count: int) -> list[str]:
    syllables = _names(rng, count * 2, _SYLLABLES, (2, 3))
    return [
        f"{a.replace(' ', '').capitalize()} {b.replace(' ', '').capitalize()}"
        for a, b in zip(syllables[::2], syllables[1::2], strict=True)
    ]


def _items(
    rng: np.random.Generator, n_items: int, months: int, start: date, missing_barcode_share: float
) -> pl.DataFrame:
    """Item attributes and demand parameters, one row per item, ids computed the way ingestion computes them."""
    artists = _artists(rng, max(10, n_items // 6))
    artist = np.array(artists, dtype=object)[rng.integers(0, len(artists), size=n_items)]
    album = np.array(_names(rng, n_items, _WORDS, (1, 3)), dtype=object)
    reissue = rng.random(n_items) < 0.3
    # Some reissues are of a record the shop also sells as an original: same artist and album, another type.
    originals = np.flatnonzero(~reissue)
    twins = np.flatnonzero(reissue & (rng.random(n_items) < 0.3))
    if originals.size and twins.size:
        source = rng.choice(originals, size=twins.size)
        artist[twins], album[twins] = artist[source], album[source]
    recording = rng.integers(1958, start.year + months // 12 + 1, size=n_items)
    end_year = start.year + (start.month - 1 + months - 1) // 12
    pressing = np.where(
        reissue,
        rng.integers(np.minimum(recording + 5, end_year), end_year + 1),
        recording + rng.integers(0, 2, size=n_items),
    )
    pressing = np.minimum(pressing, end_year)
    barcodes = rng.choice(10**11, size=n_items, replace=False) + 10**11 * rng.choice([46, 60, 50, 82], size=n_items)
    upc = rng.random(n_items) < 0.1
    barcode_text = np.where(upc, np.char.zfill(barcodes.astype(str), 14), barcodes.astype(str))
    no_barcode = rng.random(n_items) < missing_barcode_share
    present_from_start = rng.random(n_items) < 0.6
    arrival = np.where(present_from_start, 0, rng.integers(0, months, size=n_items))
    frame = pl.DataFrame(
        {
            "barcode_cell": np.where(no_barcode, "", barcode_text).astype(str),
            "artist": artist.astype(str),
            "album": album.astype(str),
            "type_cell": np.where(reissue, "Переиздание", "Оригинал"),
            "recording_year": recording,
            "pressing_year": pressing,
            "style": np.array(_STYLES)[rng.integers(0, len(_STYLES), size=n_items)],
            "sleeve": np.array(_SLEEVES)[rng.choice(len(_SLEEVES), size=n_items, p=_SLEEVE_P)],
            "price": np.round(np.exp(rng.normal(np.log(2800), 0.45, size=n_items)) / 10) * 10,
            "rate": np.minimum(np.exp(rng.normal(np.log(0.12), 1.1, size=n_items)), 8.0),
            "arrival": arrival,
            "launch": np.where(present_from_start, 0.0, rng.uniform(0.5, 4.0, size=n_items)),
            "decay": rng.uniform(1.5, 6.0, size=n_items),
        }
    )
    # Album titles repeat by chance; an item without a barcode must stay distinguishable by its name.
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()).over("artist", "album", "type_cell") > 0)
        .then(fmt("{} {}", pl.col("album"), pl.int_range(pl.len()).over("artist", "album", "type_cell") + 1))
        .otherwise(pl.col("album"))
        .alias("album")
    )
    kind = release_type(pl.col("type_cell"))
    return frame.with_columns(
        pl.coalesce(barcode_digits(pl.col("barcode_cell")), name_key(pl.col("artist"), pl.col("album"), kind)).alias(
            "item_id"
        )
    )


def _demand(rng: np.random.Generator, items: pl.DataFrame, starts: list[date]) -> tuple[np.ndarray, np.ndarray]:
    """Sales counts and availability, both items x months."""
    n_items, months = items.height, len(starts)
    t = np.arange(months)[None, :]
    arrival = items.get_column("arrival").to_numpy()[:, None]
    age = t - arrival
    launch = 1 + items.get_column("launch").to_numpy()[:, None] * np.exp(
        -np.maximum(age, 0) / items.get_column("decay").to_numpy()[:, None]
    )
    season = SEASON[np.array([d.month - 1 for d in starts])][None, :]
    growth = 1.03 ** (t / 12)
    noise = rng.gamma(2.0, 0.5, size=(n_items, months))
    available = np.empty((n_items, months), dtype=bool)
    state = np.ones(n_items, dtype=bool)
    for month in range(months):
        flip = rng.random(n_items)
        state = np.where(state, flip >= 0.04, flip < 0.3)
        available[:, month] = state
    available &= age >= 0
    rate = items.get_column("rate").to_numpy()[:, None] * season * growth * launch * noise
    counts = rng.poisson(rate) * available
    return counts.astype(np.int64), available


def _sale_rows(rng: np.random.Generator, items: pl.DataFrame, counts: np.ndarray, starts: list[date]) -> pl.DataFrame:
    """One row per sold copy: item index, sale timestamp, the copy's sleeve, price and added date."""
    item_index, month_index = np.nonzero(counts)
    repeats = counts[item_index, month_index]
    item_index, month_index = np.repeat(item_index, repeats), np.repeat(month_index, repeats)
    days_in_month = np.array([calendar.monthrange(d.year, d.month)[1] for d in starts])
    start_ordinal = np.array([d.toordinal() for d in starts])
    day = start_ordinal[month_index] + (rng.random(item_index.size) * days_in_month[month_index]).astype(np.int64)
    minutes = rng.integers(10 * 60, 21 * 60, size=item_index.size)
    arrival_ordinal = start_ordinal[items.get_column("arrival").to_numpy()[item_index]]
    added = np.maximum(day - rng.integers(0, 240, size=item_index.size), arrival_ordinal - 60)
    epoch = date(1970, 1, 1).toordinal()
    other_sleeve = rng.random(item_index.size) < 0.2
    rows = pl.DataFrame(
        {
            "_item": item_index,
            "_sold": (day - epoch) * 86_400_000_000 + minutes * 60_000_000,
            "_added": added - epoch,
            "_other_sleeve": np.array(_SLEEVES)[rng.choice(len(_SLEEVES), size=item_index.size, p=_SLEEVE_P)],
            "_switch_sleeve": other_sleeve,
            "_price_step": 1.0 + 0.04 * (month_index // 12),
        }
    )
    return rows.with_columns(
        pl.col("_sold").cast(pl.Datetime("us")), pl.col("_added").cast(pl.Int32).cast(pl.Date)
    ).sort("_sold", "_item")


def _shop_columns(frame: pl.DataFrame, added_header: str) -> list[pl.Expr]:
    return [
        pl.col("barcode_cell").alias("Штрихкод"),
        pl.col("artist").alias("Исполнитель"),
        pl.col("album").alias("Альбом"),
        pl.col("sleeve").alias("Конверт"),
        pl.col("price").cast(pl.Int64).cast(pl.Utf8).alias("Цена, руб."),
        pl.col("type_cell").alias("Тип"),
        pl.col("recording_year").cast(pl.Utf8).alias("Год записи"),
        pl.col("pressing_year").cast(pl.Utf8).alias("Год выпуска"),
        pl.col("style").alias("Стиль"),
        pl.col("added").dt.strftime("%d.%m.%Y").alias(added_header),
    ]


def _dirty(
    rng: np.random.Generator, sales: pl.DataFrame, share: float, date_header: str
) -> tuple[pl.DataFrame, np.ndarray]:
    """Break the sale date of a ``share`` of rows and give some barcodes a float artefact; returns the broken mask."""
    broken = rng.random(sales.height) < share
    artefact = rng.random(sales.height) < share * 5
    return (
        sales.with_columns(
            pl.when(pl.Series(broken)).then(pl.lit("31.13.2023")).otherwise(pl.col(date_header)).alias(date_header),
            pl.when(pl.Series(artefact) & (pl.col("Штрихкод") != ""))
            .then(pl.col("Штрихкод") + ".0")
            .otherwise(pl.col("Штрихкод"))
            .alias("Штрихкод"),
        ),
        broken,
    )


def generate_shop(
    items: int = 1000,
    months: int = 36,
    *,
    seed: int = 0,
    start: date = date(2020, 1, 1),
    sale_date_header: str = "Дата заказа",
    added_header: str = "Дата создания",
    missing_barcode_share: float = 0.02,
    dirty_share: float = 0.0,
) -> SyntheticShop:
    """A synthetic shop of ``items`` records over ``months`` months from ``start``; see the module docstring.

    ``sale_date_header`` is ``'Дата заказа'`` (newer exports) or ``'Дата продажи'`` (older ones).
    """
    if sale_date_header not in SALE_DATE_HEADERS:
        raise ValueError(f"sale_date_header must be one of {SALE_DATE_HEADERS}, not {sale_date_header!r}")
    if added_header not in ADDED_HEADERS:
        raise ValueError(f"added_header must be one of {ADDED_HEADERS}, not {added_header!r}")
    if items < 1 or months < 1:
        raise ValueError("items and months must be at least 1")
    starts = _month_starts(start, months)
    if starts[-1] > date.today():
        # Ingestion drops sales dated in the future, so such a shop could not match its own truth.
        raise ValueError(f"{months} months from {start:%Y-%m} run past today; choose an earlier start")
    rng = np.random.default_rng(seed)
    catalogue = _items(rng, items, months, start, missing_barcode_share)
    counts, available = _demand(rng, catalogue, starts)
    rows = _sale_rows(rng, catalogue, counts, starts)
    joined = rows.join(
        catalogue.with_row_index("_item").with_columns(pl.col("_item").cast(pl.Int64)), on="_item", how="left"
    )
    joined = joined.with_columns(
        pl.when(pl.col("_switch_sleeve")).then(pl.col("_other_sleeve")).otherwise(pl.col("sleeve")).alias("sleeve"),
        (pl.col("price") * pl.col("_price_step") / 10).round(0) * 10,
        pl.col("_added").alias("added"),
    )
    sales = joined.select(
        *_shop_columns(joined, added_header), pl.col("_sold").dt.strftime("%d.%m.%Y %H:%M").alias(sale_date_header)
    )
    sales, broken = _dirty(rng, sales, dirty_share, sale_date_header)
    truth = (
        joined.filter(~pl.Series(broken))
        .group_by("item_id", pl.col("_sold").dt.date().alias("date"))
        .agg(pl.len().cast(pl.Float64).alias("quantity"))
        .sort("item_id", "date")
    )
    last = starts[-1]
    end = date(last.year, last.month, calendar.monthrange(last.year, last.month)[1])
    in_stock = available[:, -1]
    copies = np.where(in_stock, 1 + rng.geometric(0.6, size=items) - 1, 0)
    stocked = catalogue.with_columns(
        pl.Series("copies", copies),
        pl.Series("added", [starts[a] for a in catalogue.get_column("arrival").to_list()]),
    ).filter(pl.col("copies") > 0)
    stock = stocked.select(
        *_shop_columns(stocked, added_header), pl.col("copies").cast(pl.Utf8).alias(STOCK_COPIES_HEADER)
    )
    truth_stock = stocked.select("item_id", pl.col("copies").cast(pl.Int64)).sort("item_id")
    return SyntheticShop(
        sales=sales,
        stock=stock,
        truth=truth,
        truth_stock=truth_stock,
        items=catalogue.select(
            "item_id", "artist", "album", "type_cell", "barcode_cell", "rate", "arrival", "price", "style"
        ),
        start=starts[0],
        end=end,
        bad_rows=int(broken.sum()),
    )


def _write_xlsx(frame: pl.DataFrame, path: Path, sheet: str, title: str) -> None:
    """A workbook shaped like the shop's: a notes sheet first, then a title and a blank row above the header."""
    with xlsxwriter.Workbook(str(path)) as workbook:
        workbook.add_worksheet("Параметры").write(0, 0, "Отчёт сформирован автоматически")
        worksheet = workbook.add_worksheet(sheet)
        worksheet.write(0, 0, title)
        worksheet.write_row(2, 0, frame.columns)
        for index, row in enumerate(frame.iter_rows(), start=3):
            worksheet.write_row(index, 0, ["" if cell is None else cell for cell in row])


def _write_csv(frame: pl.DataFrame, path: Path, separator: str, encoding: str) -> None:
    path.write_bytes(frame.write_csv(separator=separator).encode(encoding))


Format = Literal["csv", "xlsx", "parquet"]


def write_shop(
    shop: SyntheticShop,
    out_dir: str | Path,
    *,
    fmt: Format = "csv",
    separator: str = ";",
    encoding: str = "utf-8",
    progress: Callable[[str], None] | None = None,
) -> ShopFiles:
    """Write ``sales.<fmt>`` and ``stock.<fmt>`` into ``out_dir`` (created); xlsx is meant for small shops."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = ShopFiles(sales=out / f"sales.{fmt}", stock=out / f"stock.{fmt}")
    for frame, path, sheet in ((shop.sales, paths.sales, "Продажи"), (shop.stock, paths.stock, "Остатки")):
        if progress:
            progress(f"writing {path} ({frame.height} rows)")
        if fmt == "csv":
            _write_csv(frame, path, separator, encoding)
        elif fmt == "xlsx":
            _write_xlsx(frame, path, sheet, f"{sheet} {shop.start:%d.%m.%Y} - {shop.end:%d.%m.%Y}")
        elif fmt == "parquet":
            frame.write_parquet(path)
        else:
            raise ValueError(f"unknown format {fmt!r}: use csv, xlsx or parquet")
    return paths


def write_sample(
    out_dir: str | Path, *, items: int = 300, months: int = 36, seed: int = 7, fmt: Format = "xlsx"
) -> ShopFiles:
    """The quick-start sample: a small shop with a handful of deliberately broken rows for the report to show."""
    shop = generate_shop(items, months, seed=seed, dirty_share=0.002)
    return write_shop(shop, out_dir, fmt=fmt)

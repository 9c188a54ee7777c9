"""The synthetic shop looks like the real one, is deterministic, and ingestion recovers its ground truth."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from plastinka_forecasting.ingest import load_sales
from plastinka_forecasting.synthetic import generate_shop, write_sample, write_shop

TODAY = date(2026, 1, 1)


@pytest.fixture(scope="module")
def shop():  # type: ignore[no-untyped-def]
    return generate_shop(1500, 48, seed=11)


def monthly(truth: pl.DataFrame) -> pl.DataFrame:
    return truth.group_by("item_id", pl.col("date").dt.truncate("1mo").alias("month")).agg(pl.col("quantity").sum())


def test_same_seed_same_shop_other_seed_other_shop() -> None:
    first, second, other = (generate_shop(200, 24, seed=s) for s in (5, 5, 6))
    assert first.sales.equals(second.sales)
    assert first.stock.equals(second.stock)
    assert first.truth.equals(second.truth)
    assert not first.sales.equals(other.sales)


def test_december_is_the_peak_month(shop) -> None:  # type: ignore[no-untyped-def]
    by_month = shop.truth.group_by(pl.col("date").dt.month().alias("m")).agg(pl.col("quantity").sum()).sort("m")
    totals = dict(by_month.iter_rows())
    assert max(totals, key=totals.__getitem__) == 12
    assert totals[12] > 1.5 * np.mean([totals[m] for m in range(1, 11)])


def test_sales_are_intermittent_with_a_long_tail(shop) -> None:  # type: ignore[no-untyped-def]
    months = monthly(shop.truth)
    first_sale = months.group_by("item_id").agg(pl.col("month").min().alias("first"))
    active = first_sale.with_columns(
        ((date(2023, 12, 1).year - pl.col("first").dt.year()) * 12 + 12 - pl.col("first").dt.month()).alias("span")
    )
    item_months = int(active.get_column("span").sum()) + active.height
    with_sales = months.height
    # Most item-months (from the first sale on) sell nothing, and those that sell mostly sell one copy.
    assert with_sales / item_months < 0.5
    assert months.filter(pl.col("quantity") == 1).height / with_sales > 0.5
    per_item = shop.truth.group_by("item_id").agg(pl.col("quantity").sum()).get_column("quantity").sort(descending=True)
    top_tenth = per_item.head(per_item.len() // 10).sum()
    assert top_tenth / per_item.sum() > 0.35


def test_some_items_have_no_barcode_and_stock_outs_happen(shop) -> None:  # type: ignore[no-untyped-def]
    name_keyed = shop.truth.filter(pl.col("item_id").str.starts_with("a:")).get_column("item_id").n_unique()
    assert 0 < name_keyed < 0.1 * shop.truth.get_column("item_id").n_unique()
    assert 0 < shop.truth_stock.height < shop.items.height
    assert set(shop.stock.columns) >= {"Штрихкод", "Экземпляры", "Дата создания"}
    assert (shop.sales.get_column("Тип") == "Переиздание").any()


@pytest.mark.parametrize(
    ("fmt", "encoding", "separator", "header"),
    [
        ("csv", "utf-8", ";", "Дата заказа"),
        ("csv", "cp1251", ",", "Дата продажи"),
        ("csv", "utf-8-sig", ";", "Дата продажи"),
        ("parquet", "utf-8", ";", "Дата заказа"),
        ("xlsx", "utf-8", ";", "Дата продажи"),
    ],
)
def test_ingestion_recovers_the_truth(tmp_path: Path, fmt: str, encoding: str, separator: str, header: str) -> None:
    shop = generate_shop(150, 24, seed=3, sale_date_header=header, dirty_share=0.01)
    files = write_shop(shop, tmp_path, fmt=fmt, encoding=encoding, separator=separator)  # type: ignore[arg-type]
    data = load_sales(files.sales, files.stock, today=TODAY)
    assert data.sales.equals(shop.truth)
    assert data.stock is not None
    assert data.stock.select("item_id", "copies").equals(shop.truth_stock)
    assert shop.bad_rows > 0
    assert data.report.dropped == shop.bad_rows
    assert data.report.rows_read == shop.sales.height + shop.stock.height


def test_write_sample_is_a_small_loadable_dataset(tmp_path: Path) -> None:
    files = write_sample(tmp_path / "sample")
    assert (files.sales.name, files.stock.name) == ("sales.xlsx", "stock.xlsx")
    data = load_sales(files.sales, files.stock, today=TODAY)
    assert 100 < data.attributes.height <= 300
    assert data.report.dropped > 0


def test_generator_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="sale_date_header"):
        generate_shop(10, 10, sale_date_header="Дата")
    with pytest.raises(ValueError, match="at least 1"):
        generate_shop(0, 10)
    with pytest.raises(ValueError, match="run past today"):
        generate_shop(10, 12, start=date.today())

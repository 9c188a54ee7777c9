"""Time of one page of ``GET /api/v1/results/{job_id}/records`` for a prediction of 50,000 records.

The API runs in process (``plastinka_testing.app.running_api``: SQLite, local storage, the real HTTP stack
through httpx's ASGI transport); a prediction job is succeeded with a forecast of ``--records`` records x 3
months (barcode, artist, album, stock) and its order list (``plastinka_forecasting.orders.order_list``).
Measured, each the median of ``--repeat`` requests:

* ``first page``: the first request, which reads both Parquet artifacts and builds the per-record table;
* ``page``: later requests (the table is cached per prediction): the default sort, a sort by artist, a search,
  a page deep in the list;
* baselines in the same run, on the same records: ``python lists`` (the page made from a list of dicts with
  ``sorted`` and a comprehension) and ``rebuild`` (the table built again for every page, no cache).

Run: ``hatch run python benchmarks/records_page.py [--records N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from plastinka_api.results.orders import build_records, page_rows, select
from plastinka_forecasting.orders import order_list
from plastinka_forecasting.synthetic import generate_shop, write_shop
from plastinka_testing.app import (
    claim,
    event,
    make_settings,
    post_event,
    prediction_manifest,
    run_training,
    running_api,
    upload,
)

PERIODS = [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
WORDS = ["Кино", "Аквариум", "Pink", "Floyd", "Queen", "Beatles", "Мумий", "Тролль", "Jazz", "Blue", "Night", "Sun"]


def forecast(records: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    ids = [f"{4600000000000 + i:013d}" for i in range(records)]
    artists = [f"{WORDS[i % 12]} {WORDS[(i // 12) % 12]} {i % 997}" for i in range(records)]
    albums = [f"{WORDS[(i * 7) % 12]} {i}" for i in range(records)]
    rate = rng.gamma(0.6, 1.2, records)
    stock = rng.integers(0, 4, records).astype(object)
    stock[rng.random(records) < 0.2] = None
    frame = pl.DataFrame(
        {
            "item_id": np.repeat(ids, 3),
            "period": PERIODS * records,
            "mean": np.repeat(rate, 3),
            "q_0.1": np.repeat(rate * 0.2, 3),
            "q_0.5": np.repeat(rate, 3),
            "q_0.9": np.repeat(rate * 2.5, 3),
        }
    )
    attributes = pl.DataFrame(
        {"item_id": ids, "barcode": ids, "artist": artists, "album": albums, "copies": stock.tolist()},
        schema_overrides={"copies": pl.Int64},
    )
    return frame.join(attributes, on="item_id", how="left")


def python_page(rows: list[dict[str, Any]], q: str | None, sort: str, offset: int, limit: int) -> list[Any]:
    """The baseline: the same page from a list of dicts."""
    needle = (q or "").lower()
    kept = [r for r in rows if not needle or needle in r["_search"]]
    key = sort.lstrip("-")
    present = sorted((r for r in kept if r[key] is not None), key=lambda r: r[key], reverse=sort.startswith("-"))
    return (present + [r for r in kept if r[key] is None])[offset : offset + limit]


def rebuilt_page(frame: pl.DataFrame, orders: pl.DataFrame, q: str | None, sort: str, offset: int) -> list[Any]:
    """The other baseline: no cache, the table built again for the page."""
    fresh = build_records(frame, orders)
    return page_rows(fresh, select(fresh, q, sort), offset, 50)


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def timed_sync(call: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def main(records: int, repeat: int) -> None:
    frame = forecast(records)
    orders = order_list(frame, None)
    with tempfile.TemporaryDirectory(prefix="records-bench-") as scratch:
        root = Path(scratch)
        files = write_shop(generate_shop(items=25, months=24, seed=3), root / "shop", fmt="csv")
        async with running_api(make_settings(root)) as api:
            dataset = (await upload(api.analyst, files.sales, files.stock)).json()["id"]
            await run_training(api, dataset)
            job = (await api.analyst.post("/api/v1/prediction", json={})).json()["job_id"]
            await claim(api.ctx)
            manifest = await prediction_manifest(api.ctx, job, 1, frame, orders)
            await post_event(api.analyst, api.ctx, event(job, 1, "succeeded", manifest=manifest))
            url = f"/api/v1/results/{job}/records"

            started = time.perf_counter()
            first = await api.viewer.get(url)
            first_s = time.perf_counter() - started
            assert first.status_code == 200 and first.json()["total"] == records, first.text[:300]
            cases = {
                "default sort (-suggested_order)": {},
                "sort=artist": {"sort": "artist"},
                "q=кино (search)": {"q": "кино"},
                "offset=49000, sort=-stock": {"offset": min(49_000, records - 50), "sort": "-stock"},
            }
            http = {
                name: await timed(lambda p=params: api.viewer.get(url, params=p), repeat)  # type: ignore[misc]
                for name, params in cases.items()
            }
    table = build_records(frame, orders)
    dicts = table.frame.to_dicts()
    print(f"records: {records:,}; forecast rows: {frame.height:,}; median of {repeat} requests each")
    print(f"first page over HTTP (reads artifacts, builds the table): {first_s * 1000:8.1f} ms")
    print(f"{'page over HTTP':<36}{'ms':>9}{'polars ms':>11}{'lists ms':>10}{'rebuild ms':>12}{'lists/polars':>14}")
    for name, params in cases.items():
        q, sort = params.get("q"), str(params.get("sort", "-suggested_order"))
        offset = int(params.get("offset", 0))
        ours = timed_sync(
            lambda q=q, sort=sort, offset=offset: page_rows(table, select(table, q, sort), offset, 50), repeat
        )
        lists = timed_sync(lambda q=q, sort=sort, offset=offset: python_page(dicts, q, sort, offset, 50), repeat)
        rebuild = timed_sync(lambda q=q, sort=sort, offset=offset: rebuilt_page(frame, orders, q, sort, offset), 3)
        print(
            f"{name:<36}{http[name] * 1000:9.1f}{ours * 1000:11.1f}{lists * 1000:10.1f}{rebuild * 1000:12.1f}"
            f"{lists / ours:13.1f}x"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    asyncio.run(main(args.records, args.repeat))

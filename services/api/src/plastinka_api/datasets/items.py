"""Item ids as the shop writes them: every dataset keeps an index of its records' ids and their other spellings.

A barcode is one record however Excel spelled it (``014407281110``, ``14407281110``, ``14407281110.0``). The
ingestion names each record once; the index, stored next to the dataset as ``datasets/<sha256>/items-<pair>.json``
and referenced from the dataset's ``report`` column (``item_index``, never shown in the API), maps the other
spellings to that name. Prediction ``items``, the results filter and the plot resolve through it, and ids that
name no record are refused at once with 422. Datasets stored before the index existed resolve ids verbatim.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from plastinka_api.context import AppContext
from plastinka_api.errors import ApiError
from plastinka_forecasting.ingest import index_document, resolve_ids
from plastinka_schemas import ArtifactRef, PredictionJobCreate
from plastinka_storage.keys import dataset_key
from plastinka_store.tables import Dataset

#: Key of the index reference inside a dataset's ``report`` JSON (``DatasetReport`` ignores it).
INDEX_FIELD = "item_index"
#: Unknown ids named in a 422 (the count is always exact).
MAX_NAMED_UNKNOWN = 20
_CACHE_SIZE = 16


class UnknownItems(ApiError):
    """Item ids that name no record of the dataset."""

    status_code = 422
    code = "unknown_items"


@dataclass(frozen=True)
class ItemIndex:
    items: frozenset[str]
    aliases: dict[str, str]


_cache: OrderedDict[str, ItemIndex] = OrderedDict()


def index_bytes(item_ids: list[str], aliases: dict[str, str]) -> bytes:
    return json.dumps(index_document(item_ids, aliases), ensure_ascii=False, separators=(",", ":")).encode()


def index_key(sales_sha256: str, stock_sha256: str | None) -> str:
    """Next to the sales file; named by the (sales, stock) pair, since the stock file changes the spellings."""
    pair = hashlib.sha256(f"{sales_sha256}:{stock_sha256 or ''}".encode()).hexdigest()[:32]
    return dataset_key(sales_sha256, f"items-{pair}.json")


async def store_index(ctx: AppContext, key: str, data: bytes) -> dict[str, Any]:
    """Write the index (content-addressed: identical bytes are not written again); its ref for the report."""
    sha256 = hashlib.sha256(data).hexdigest()
    if await ctx.store.exists(key) and (await ctx.store.head(key)).sha256 == sha256:
        return {"key": key, "sha256": sha256, "size": len(data)}
    ref = await ctx.store.put_bytes(key, data, content_type="application/json")
    return {"key": ref.key, "sha256": ref.sha256, "size": ref.size}


async def dataset_index(ctx: AppContext, dataset: Dataset) -> ItemIndex | None:
    """The dataset's index (cached by content), or None for a dataset stored before indexes existed."""
    raw = (dataset.report or {}).get(INDEX_FIELD)
    if not isinstance(raw, dict):
        return None
    ref = ArtifactRef.model_validate(raw)
    cached = _cache.get(ref.sha256)
    if cached is not None:
        _cache.move_to_end(ref.sha256)
        return cached
    document = json.loads(await ctx.store.get_bytes(ref.key, expected_sha256=ref.sha256))
    index = ItemIndex(items=frozenset(document["items"]), aliases=dict(document["aliases"]))
    _cache[ref.sha256] = index
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return index


def resolve_requested(index: ItemIndex | None, requested: list[str], dataset_id: str) -> list[str]:
    """The records' ids for ``requested`` (order kept, duplicates once); 422 naming the ids no record has."""
    if index is None:
        return list(dict.fromkeys(requested))
    found, unknown = resolve_ids(requested, index.items, index.aliases)
    if unknown:
        named = unknown[:MAX_NAMED_UNKNOWN]
        more = f" and {len(unknown) - len(named)} more" if len(unknown) > len(named) else ""
        raise UnknownItems(
            f"{len(unknown)} of {len(requested)} items are not in dataset {dataset_id}: "
            f"{', '.join(repr(i) for i in named)}{more}",
            details={"dataset_id": dataset_id, "unknown": named, "unknown_total": len(unknown)},
        )
    return list(dict.fromkeys(found[item] for item in requested))


def resolve_one(index: ItemIndex | None, item_id: str) -> str:
    """The record's id for one spelling; the spelling itself when nothing matches (the caller answers 404)."""
    if index is None:
        return item_id
    found, _ = resolve_ids([item_id], index.items, index.aliases)
    return found.get(item_id, item_id)


async def prediction_items(ctx: AppContext, dataset: Dataset, body: PredictionJobCreate) -> PredictionJobCreate:
    """``body`` with its ``items`` resolved to the records' ids of ``dataset``, the one it forecasts from (422
    for ids that name no record), so a job never starts only to fail on an unknown item."""
    if body.items is None:
        return body
    items = resolve_requested(await dataset_index(ctx, dataset), list(body.items), dataset.id)
    return body.model_copy(update={"items": items})


async def forecast_item(ctx: AppContext, dataset: Dataset, item_id: str) -> str:
    """The id a forecast made from ``dataset`` names the record ``item_id`` spells (any of its spellings)."""
    return resolve_one(await dataset_index(ctx, dataset), item_id)

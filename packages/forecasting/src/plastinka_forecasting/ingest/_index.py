"""The item index of a dataset: every record's id and the other spellings that name it.

The API keeps it next to the dataset, so a shop can ask for ``014407281110`` or ``14407281110`` (or
``14407281110.0`` pasted from Excel) and get the same record, and so unknown ids are refused at once.
Pure Python, no polars: the API resolves ids without loading the data.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Final

from ._barcodes import Spellings

INDEX_VERSION: Final = 1
_FLOAT_ARTEFACT = re.compile(r"^(\d+)[.,]0+$")
_SPACING = re.compile(r"[\s\u00a0\u202f'-]")


def item_aliases(item_ids: Iterable[str | None], spellings: Spellings) -> dict[str, str]:
    """Spelling -> item id for every other spelling of a record: the bare digits of a padded barcode (when only
    one record has them) and every spelling ingestion restored."""
    ids = {item for item in item_ids if item is not None}
    aliases = {bare: canonical for bare, canonical in spellings.restored.items() if canonical in ids}
    bare_counts = Counter(item.lstrip("0") for item in ids if item.isdigit() and item.startswith("0"))
    for item in ids:
        if item.isdigit() and item.startswith("0"):
            bare = item.lstrip("0")
            if bare and bare_counts[bare] == 1 and bare not in ids and bare not in spellings.ambiguous:
                aliases.setdefault(bare, item)
    return aliases


def index_document(item_ids: Sequence[str], aliases: Mapping[str, str]) -> dict[str, Any]:
    """The stored form of the index: sorted ids and aliases."""
    return {"version": INDEX_VERSION, "items": sorted(item_ids), "aliases": dict(sorted(aliases.items()))}


def _cleaned(text: str) -> str:
    compact = _SPACING.sub("", text.strip())
    artefact = _FLOAT_ARTEFACT.match(compact)
    return artefact.group(1) if artefact else compact


def resolve_ids(
    requested: Iterable[str], items: AbstractSet[str] | Iterable[str], aliases: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Each requested id -> the record's id, and the ids that name no record (in request order, each once).

    Tried in order: the id as given, then cleaned of spaces, dashes and a float artefact (each as an id, then as
    an alias), then its digits without leading zeros as an alias (unambiguous by construction).
    """
    known = items if isinstance(items, AbstractSet) else set(items)
    found: dict[str, str] = {}
    unknown: list[str] = []
    for raw in requested:
        if raw in found or raw in unknown:
            continue
        match = None
        for candidate in dict.fromkeys((raw, raw.strip(), _cleaned(raw))):
            match = candidate if candidate in known else aliases.get(candidate)
            if match is not None:
                break
        if match is None and _cleaned(raw).isdigit():
            # only through an alias: the index lists a bare spelling only when one record has it
            match = aliases.get(_cleaned(raw).lstrip("0"))
        if match is None:
            unknown.append(raw)
        else:
            found[raw] = match
    return found, unknown

"""Item ids for rows without a given ``item_id``: barcode, else a barcode found by name, else the name key."""

from __future__ import annotations

import polars as pl

from ._barcodes import Spellings, decide
from ._issues import FILE, IS_SALE, ROW, IssueLog
from ._rows import BARCODE_COLUMN, BARCODE_NOTE, IDENTITY_COLUMN, NAME_KEY
from ._values import fmt


def _barcode_by_name(rows: pl.DataFrame) -> pl.DataFrame:
    """Name keys with exactly one barcode in the data: a copy sold without its barcode is still that record."""
    return (
        rows.filter(pl.col("barcode").is_not_null() & pl.col(NAME_KEY).is_not_null())
        .group_by(NAME_KEY)
        .agg(pl.col("barcode").unique())
        .filter(pl.col("barcode").list.len() == 1)
        .select(NAME_KEY, pl.col("barcode").list.first().alias("_linked"))
    )


def _one_spelling(rows: pl.DataFrame, log: IssueLog) -> tuple[pl.DataFrame, Spellings]:
    """Every barcode under its record's spelling (see :mod:`._barcodes`); restorations noted per row."""
    present = rows.filter(pl.col("barcode").is_not_null())
    counts = present.group_by("barcode").len()
    stocked = present.filter(~pl.col(IS_SALE)).get_column("barcode").unique().to_list()
    uses = dict(zip(counts.get_column("barcode").to_list(), counts.get_column("len").to_list(), strict=True))
    spellings = decide(uses, set(stocked))
    for bare, padded in sorted(spellings.ambiguous.items()):
        first = present.filter(pl.col("barcode") == bare).row(0, named=True)
        log.add(
            first[FILE],
            f"barcode '{bare}' may have lost leading zeros, but the data names several padded forms "
            f"({', '.join(padded[:5])}); kept as its own record",
            "warning",
            row=first[ROW],
            column=first[BARCODE_COLUMN],
        )
    if not spellings.restored:
        return rows, spellings
    restored = pl.DataFrame(
        {
            "barcode": list(spellings.restored),
            "_canonical": list(spellings.restored.values()),
            "_why": [spellings.reasons[bare] for bare in spellings.restored],
        },
        schema={"barcode": pl.Utf8, "_canonical": pl.Utf8, "_why": pl.Utf8},
    )
    rows = rows.join(restored, on="barcode", how="left", maintain_order="left")
    note = fmt("barcode '{}' read as '{}' ({})", pl.col("barcode"), pl.col("_canonical"), pl.col("_why"))
    # a float artefact's note keeps the cell as written; the restoration follows it
    note = pl.when(pl.col(BARCODE_NOTE).is_not_null()).then(pl.col(BARCODE_NOTE) + "; " + note).otherwise(note)
    return rows.with_columns(
        pl.coalesce("_canonical", "barcode").alias("barcode"),
        pl.when(pl.col("_canonical").is_not_null()).then(note).otherwise(pl.col(BARCODE_NOTE)).alias(BARCODE_NOTE),
    ).drop("_canonical", "_why"), spellings


def resolve_items(rows: pl.DataFrame, log: IssueLog) -> tuple[pl.DataFrame, Spellings]:
    """Fill ``item_id`` for every row that can be identified, drop (and log) the rest, log identity repairs."""
    rows, spellings = _one_spelling(rows, log)
    linked = rows.join(_barcode_by_name(rows), on=NAME_KEY, how="left", nulls_equal=False)
    needs = pl.col("item_id").is_null() & pl.col("barcode").is_null()
    linked = linked.with_columns(
        pl.when(needs).then(pl.col("_linked")).alias("_linked"),
        pl.coalesce("item_id", "barcode", pl.when(needs).then(pl.col("_linked")), NAME_KEY).alias("item_id"),
    )
    for column, part in linked.filter(pl.col("item_id").is_null()).partition_by(IDENTITY_COLUMN, as_dict=True).items():
        log.add_rows(
            part,
            column=column[0],
            reason=pl.lit("missing identity: no item id, barcode, artist or album"),
            action="dropped",
        )
    kept = linked.filter(pl.col("item_id").is_not_null())
    barcode_notes = kept.filter(pl.col(BARCODE_NOTE).is_not_null() & pl.col("_linked").is_null())
    for column, part in barcode_notes.partition_by(BARCODE_COLUMN, as_dict=True).items():
        log.add_rows(part, column=column[0], reason=pl.col(BARCODE_NOTE), action="repaired")
    via_name = kept.filter(pl.col("_linked").is_not_null())
    log.add_rows(
        via_name,
        column=None,
        reason=fmt("no usable barcode; matched by artist and album to barcode {}", pl.col("_linked")),
        action="repaired",
    )
    kept = kept.drop("_linked", BARCODE_NOTE, NAME_KEY, IDENTITY_COLUMN, BARCODE_COLUMN)
    return kept.sort(FILE, ROW, maintain_order=True), spellings

"""Collecting validation issues as frames while rows are filtered, turned into models once at the end."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from plastinka_schemas import ValidationIssue

ROW: str = "_row"
FILE: str = "_file"
#: True on rows of the sales file, False on the stock file's.
IS_SALE: str = "_is_sale"

_ISSUE_SCHEMA = {"file": pl.Utf8, "row": pl.Int64, "column": pl.Utf8, "reason": pl.Utf8, "action": pl.Utf8}


@dataclass
class IssueLog:
    """Issues gathered per file; ``dropped`` rows are counted from here, so every drop must be logged once."""

    _frames: list[pl.DataFrame] = field(default_factory=list)
    #: '<file>: <column>' -> how its dates were read
    date_formats: dict[str, str] = field(default_factory=dict)
    #: whole-file warnings (not row issues)
    warnings: list[str] = field(default_factory=list)

    def warn(self, file: str, reason: str, *, column: str | None = None) -> None:
        """A whole-file warning: the report's ``warnings`` list, read before any row's issue."""
        where = f"{file}, column '{column}'" if column else file
        self.warnings.append(f"{where}: {reason}")

    def add(self, file: str, reason: str, action: str, *, row: int | None = None, column: str | None = None) -> None:
        self._frames.append(
            pl.DataFrame(
                {"file": [file], "row": [row], "column": [column], "reason": [reason], "action": [action]},
                schema=_ISSUE_SCHEMA,
            )
        )

    def add_rows(self, rows: pl.DataFrame, *, column: str | None, reason: pl.Expr, action: str) -> None:
        """One issue per row of ``rows`` (which carries ``_file`` and ``_row``), with a per-row reason."""
        if rows.height == 0:
            return
        self._frames.append(
            rows.select(
                pl.col(FILE).alias("file"),
                pl.col(ROW).cast(pl.Int64).alias("row"),
                pl.lit(column, dtype=pl.Utf8).alias("column"),
                reason.cast(pl.Utf8).alias("reason"),
                pl.lit(action).alias("action"),
            )
        )

    def split(self, frame: pl.DataFrame, bad: pl.Expr, *, column: str | None, reason: pl.Expr | str) -> pl.DataFrame:
        """Drop the rows where ``bad`` holds, logging each; return the rest."""
        flagged = frame.with_columns(bad.fill_null(value=False).alias("_bad"))
        dropped = flagged.filter(pl.col("_bad"))
        self.add_rows(
            dropped, column=column, reason=pl.lit(reason) if isinstance(reason, str) else reason, action="dropped"
        )
        return flagged.filter(~pl.col("_bad")).drop("_bad")

    def frame(self) -> pl.DataFrame:
        if not self._frames:
            return pl.DataFrame(schema=_ISSUE_SCHEMA)
        issues = pl.concat(self._frames)
        # A repair on a row that a later check dropped is moot: the row appears once, as dropped.
        dropped = issues.filter(pl.col("action") == "dropped").select("file", "row").unique()
        moot = (pl.col("action") != "dropped") & pl.col("row").is_not_null()
        kept = pl.concat([issues.filter(~moot), issues.filter(moot).join(dropped, on=["file", "row"], how="anti")])
        return kept.sort(["file", "row"], nulls_last=False, maintain_order=True)

    def issues(self) -> list[ValidationIssue]:
        return [ValidationIssue(**record) for record in self.frame().iter_rows(named=True)]

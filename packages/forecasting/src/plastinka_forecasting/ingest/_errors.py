"""The one exception a caller sees when a file cannot be used."""

from __future__ import annotations


class DataError(ValueError):
    """A data file cannot be used; the message names the file, and the row and column when one applies."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None, column: str | None = None):
        self.reason = message
        self.file = file
        self.row = row
        self.column = column
        where = [part for part in (file, f"row {row}" if row is not None else None) if part]
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


def reraise_interrupt(error: BaseException) -> None:
    """For ``except BaseException`` around a parser: polars and fastexcel raise a Rust panic on some damaged files
    as pyo3's ``PanicException``, which derives from BaseException; an interrupt or exit must still pass."""
    if isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit):
        raise error

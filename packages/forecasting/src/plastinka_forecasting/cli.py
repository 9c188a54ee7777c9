"""``plastinka-forecast``: the forecasting core on files, without any server.

Each subcommand is one ``_add_<name>(subcommands)`` function that declares its arguments and the function
``(args) -> exit code`` it runs, whose docstring is its help (:func:`~plastinka_forecasting.cli_args.subcommand`);
:data:`COMMANDS` lists them. Errors end as one line on stderr and a non-zero exit (1 for unusable data or
files, 2 for bad arguments, 3 for anything unexpected); progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from .cli_args import CommandError, Subcommands, add_sales_export, positive_int, subcommand
from .cli_model import MODEL_COMMANDS
from .ingest import DataError, dataset_report, format_report, load_sales
from .synthetic import generate_shop, write_shop

EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_UNEXPECTED = 3


def progress(message: str) -> None:
    """One line of progress on stderr (stdout stays clean for results)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _add_validate(subcommands: Subcommands) -> None:
    parser = subcommand(subcommands, "validate", _run_validate)
    add_sales_export(parser, stock="stock snapshot (same formats)")
    parser.add_argument("--limit", type=int, default=50, help="issues to list (default 50; the rest are counted)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")


def _run_validate(args: argparse.Namespace) -> int:
    """check a sales export (and stock snapshot) and print the validation report

    Exit 0 when the data is usable; the report lists every dropped or repaired row.
    """
    progress(f"reading {args.data}" + (f" and {args.stock}" if args.stock else ""))
    started = time.perf_counter()
    data = load_sales(args.data, args.stock)
    progress(f"checked {data.report.rows_read} rows in {time.perf_counter() - started:.1f} s")
    summary = dataset_report(data, max_issues=args.limit)
    if args.json:  # the same body as the API's upload response (DatasetReport)
        print(json.dumps(summary.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return 0
    period = f"{summary.period_start} .. {summary.period_end}"
    stocked = "" if summary.stocked_items is None else f", {summary.stocked_items} items in stock"
    print(f"usable: {summary.items} items, sales from {period}{stocked}")
    print(
        f"sales rows: {summary.sales_rows} of {summary.sales_rows_read}"
        + ("" if summary.stock_rows is None else f", stock rows: {summary.stock_rows} of {summary.stock_rows_read}")
        + f", copies sold: {summary.copies_sold:g} (net of {summary.copies_returned:g} returned)"
    )
    for where, how in summary.date_formats.items():
        print(f"dates of {where}: {how}")
    print(format_report(data.report, limit=args.limit))
    return 0


def _add_generate_sample(subcommands: Subcommands) -> None:
    parser = subcommand(subcommands, "generate-sample", _run_generate_sample)
    parser.add_argument("--items", type=positive_int, default=300, help="number of records (default 300)")
    parser.add_argument("--months", type=positive_int, default=36, help="months of history (default 36)")
    parser.add_argument("--out", required=True, type=Path, help="directory for sales.<format> and stock.<format>")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=("csv", "xlsx", "parquet"), default="csv")
    parser.add_argument("--start", type=_month, default=date(2020, 1, 1), help="first month, YYYY-MM (default 2020-01)")
    parser.add_argument(
        "--sale-date-header",
        choices=("new", "old"),
        default="new",
        help="'new': Дата заказа (newer exports), 'old': Дата продажи",
    )
    parser.add_argument("--encoding", choices=("utf-8", "utf-8-sig", "cp1251"), default="utf-8", help="csv only")
    parser.add_argument("--separator", choices=(";", ","), default=";", help="csv only")
    parser.add_argument(
        "--dirty", type=float, default=0.0, help="share of rows with a broken sale date, for the report to show"
    )
    parser.add_argument("--truth", action="store_true", help="also write truth.csv: item_id, date, quantity")


_XLSX_MAX_ROWS = 1_000_000


def _run_generate_sample(args: argparse.Namespace) -> int:
    """write a synthetic shop's sales export and stock snapshot in the shop's own format

    Deterministic for a given --seed. xlsx suits small samples; use csv or parquet for big ones.
    """
    if not 0.0 <= args.dirty < 1.0:
        raise CommandError("--dirty must be at least 0 and below 1")
    progress(f"generating {args.items} items x {args.months} months (seed {args.seed})")
    try:
        shop = generate_shop(
            args.items,
            args.months,
            seed=args.seed,
            start=args.start,
            sale_date_header="Дата заказа" if args.sale_date_header == "new" else "Дата продажи",
            dirty_share=args.dirty,
        )
    except ValueError as error:
        raise CommandError(str(error)) from None
    if args.format == "xlsx" and shop.sales.height > _XLSX_MAX_ROWS:
        raise CommandError(f"{shop.sales.height} sales rows is too many for xlsx; use --format csv or parquet")
    files = write_shop(
        shop, args.out, fmt=args.format, separator=args.separator, encoding=args.encoding, progress=progress
    )
    if args.truth:
        shop.truth.write_csv(args.out / "truth.csv")
    print(f"sales: {files.sales} ({shop.sales.height} rows, {shop.bad_rows} broken on purpose)")
    print(f"stock: {files.stock} ({shop.stock.height} items)")
    return 0


def _month(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-")[:2])
        return date(year, month, 1)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, not {text!r}") from error


#: Every subcommand, in the order ``--help`` lists them.
COMMANDS: list[Callable[[Subcommands], None]] = [_add_validate, _add_generate_sample, *MODEL_COMMANDS]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plastinka-forecast", description="Probabilistic monthly sales forecasts for a record shop."
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return (and, as a console script, exit with) its code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (DataError, CommandError) as error:
        print(f"plastinka-forecast: error: {error}", file=sys.stderr)
        return EXIT_DATA
    except OSError as error:
        print(
            f"plastinka-forecast: error: {error.strerror or error}: {error.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return EXIT_DATA
    except KeyboardInterrupt:
        print("plastinka-forecast: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the promise is one line, never a traceback
        print(f"plastinka-forecast: unexpected error ({type(error).__name__}): {error}", file=sys.stderr)
        return EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())

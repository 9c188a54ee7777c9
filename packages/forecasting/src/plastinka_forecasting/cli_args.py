"""What the ``plastinka-forecast`` subcommands share, declared once: how a subcommand is added, the options
several of them take, and the failure a user can fix. :mod:`plastinka_forecasting.cli` and
:mod:`plastinka_forecasting.cli_model` build their subcommands from these."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plastinka_schemas import Frequency

#: ``argparse``'s subparsers object, as the ``add_<name>`` functions receive it.
Subcommands = Any
#: What a subcommand runs: the parsed arguments in, the exit code out.
Run = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A failure the user can fix: printed as one line, exit code 1."""


def subcommand(subcommands: Subcommands, name: str, run: Run) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` that runs ``run``; the caller declares its arguments on the parser returned.

    ``run``'s docstring is the subcommand's help: its first line the summary ``--help`` lists, the paragraph after
    it the description.
    """
    summary, _, description = inspect.cleandoc(run.__doc__ or "").partition("\n\n")
    parser: argparse.ArgumentParser = subcommands.add_parser(
        name, help=" ".join(summary.split()), description=" ".join(description.split()) or None
    )
    parser.set_defaults(run=run)
    return parser


def positive_int(text: str) -> int:
    """An ``argparse`` type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_sales_export(parser: argparse.ArgumentParser, *, stock: str | None = None) -> None:
    """``--data``, the sales export (required), and when ``stock`` gives its help, ``--stock``."""
    parser.add_argument("--data", required=True, type=Path, help="sales export: xlsx, xls, csv or parquet")
    if stock is not None:
        parser.add_argument("--stock", type=Path, help=stock)


def add_frequency(parser: argparse.ArgumentParser) -> None:
    """``--freq``: months (the default) or ISO weeks."""
    parser.add_argument(
        "--freq", type=Frequency, choices=list(Frequency), default="M", help="M months, W ISO weeks (also month, week)"
    )

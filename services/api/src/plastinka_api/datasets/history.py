"""Is a dataset long enough to train on? Answered at submit from its stored report, so a job that could only fail
is refused with 422 instead of being queued, dispatched and failed minutes later.

The rule is the model's own (``plastinka_forecasting.model.fit_panel``): at least
:data:`~plastinka_forecasting.panel.MIN_TRAINING_PERIODS` periods of the chosen frequency, counted from the period of
the first sale to the period of the last one. A dataset without a single sale row never trains.
"""

from __future__ import annotations

from datetime import date, timedelta

from plastinka_api.errors import ApiError
from plastinka_forecasting.panel import MIN_TRAINING_PERIODS
from plastinka_schemas import DatasetReport, Frequency
from plastinka_store.tables import Dataset

_UNITS = {Frequency.MONTH: ("month", "months"), Frequency.WEEK: ("week", "weeks")}


class TooLittleHistory(ApiError):
    """The dataset holds too little history for the model: refused before a job exists."""

    status_code = 422
    code = "too_little_history"


def history_periods(start: date, end: date, frequency: Frequency) -> int:
    """Periods from the one holding ``start`` to the one holding ``end``, both counted (ISO weeks start Monday)."""
    if frequency is Frequency.MONTH:
        return (end.year - start.year) * 12 + end.month - start.month + 1
    monday = start - timedelta(days=start.weekday())
    return (end - monday).days // 7 + 1


def _count(n: int, frequency: Frequency) -> str:
    one, many = _UNITS[frequency]
    return f"{n} {one if n == 1 else many}"


def check_trainable(dataset: Dataset, frequency: Frequency) -> None:
    """Raise :class:`TooLittleHistory` naming the dataset and the reason when ``fit_panel`` would refuse it."""
    report = DatasetReport.model_validate(dataset.report)
    named = f"dataset {dataset.id!r} ({dataset.filename})"
    need = _count(MIN_TRAINING_PERIODS, frequency)
    advice = "Upload a longer sales export."
    if report.period_start is None or report.period_end is None:
        periods = 0
        reason = f"{named} has no sales rows, so there is no history to train on; a model needs at least {need}"
    else:
        periods = history_periods(report.period_start, report.period_end, frequency)
        if periods >= MIN_TRAINING_PERIODS:
            return
        reason = (
            f"{named} is too short to train on: its sales cover {_count(periods, frequency)} "
            f"({report.period_start} to {report.period_end}) and a model needs at least {need} of history"
        )
        weeks = history_periods(report.period_start, report.period_end, Frequency.WEEK)
        if frequency is Frequency.MONTH and weeks >= MIN_TRAINING_PERIODS:
            advice = f"Upload a longer sales export, or train weekly (frequency W): the sales cover {weeks} weeks."
    raise TooLittleHistory(
        f"{reason}. {advice}",
        details=[
            {
                "where": "body.dataset_id",
                "message": reason,
                "dataset_id": dataset.id,
                "periods": periods,
                "required": MIN_TRAINING_PERIODS,
                "frequency": frequency.value,
            }
        ],
    )

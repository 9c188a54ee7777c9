"""Is a dataset long enough to train on? Answered at submit from its stored report, so a job that could only fail
is refused with 422 instead of being queued, dispatched and failed minutes later.

The rule is the model's own (``plastinka_forecasting.model.fit_panel``): at least
:data:`~plastinka_forecasting.panel.MIN_TRAINING_PERIODS` periods of the chosen frequency, counted from the period of
the first sale to the period of the last one, less a last period the sales stop short in (training leaves it out and
forecasts it; the report's ``partial_last_period``). A dataset without a single sale row never trains.
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


def _complete_periods(start: date, end: date, partial: dict[str, date], frequency: Frequency) -> int:
    """The periods training would use: calendar periods of the sales, less a last one they stop short in."""
    return history_periods(start, end, frequency) - (frequency.value in partial)


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
        start, end, partials = report.period_start, report.period_end, report.partial_last_period
        periods = _complete_periods(start, end, partials, frequency)
        if periods >= MIN_TRAINING_PERIODS:
            return
        covered, span = _count(periods, frequency), f"{start} to {end}"
        partial = partials.get(frequency.value)
        if partial is not None:
            covered += " in full"
            span += f"; the {_UNITS[frequency][0]} from {partial} stops short on {end}, so training leaves it out"
        reason = (
            f"{named} is too short to train on: its sales cover {covered} ({span}) "
            f"and a model needs at least {need} of history"
        )
        weeks = _complete_periods(start, end, partials, Frequency.WEEK)
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

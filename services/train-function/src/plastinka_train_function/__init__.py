"""The train function: ``handle(event, context)`` and the typed core it wraps."""

from plastinka_train_function.backtesting import run_backtest
from plastinka_train_function.core import TIME_RESERVE_S, DeadlineError, handle, plan_time, train_job

__all__ = ["TIME_RESERVE_S", "DeadlineError", "handle", "plan_time", "run_backtest", "train_job"]

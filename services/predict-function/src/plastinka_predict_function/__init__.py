"""The predict function: ``handle(event, context)`` and the typed core it wraps."""

from plastinka_predict_function.core import handle, predict_job

__all__ = ["handle", "predict_job"]

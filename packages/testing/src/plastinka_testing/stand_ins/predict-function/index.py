"""Stand-in predict handler (see :mod:`plastinka_testing.stand_ins`)."""

from typing import Any

from plastinka_testing.stand_ins import predict


def handler(event: Any, context: Any) -> Any:
    return predict(event, context)

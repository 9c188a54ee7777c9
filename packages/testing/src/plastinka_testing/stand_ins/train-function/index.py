"""Stand-in train handler (see :mod:`plastinka_testing.stand_ins`)."""

from typing import Any

from plastinka_testing.stand_ins import train


def handler(event: Any, context: Any) -> Any:
    return train(event, context)

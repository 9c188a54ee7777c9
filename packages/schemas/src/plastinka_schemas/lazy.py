"""Lazy package attributes (PEP 562) for the packages built on this one.

A package whose ``__init__`` names more than most callers need lets each name import its submodule on first
use, so a function handler that imports one name does not pay for the rest (LightGBM, SQLAlchemy). It lives here
because every such package already depends on this one; using it loads this package (pydantic and the
models), which those packages' callers load anyway.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, exports: Mapping[str, str], namespace: MutableMapping[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``exports`` maps each lazy name to the submodule defining it.

    The first use of a name imports that submodule and keeps the value in ``namespace`` (the package's
    ``globals()``), so later uses never come back here. Write ``__getattr__ = lazy_getattr(__name__, ...)``.
    """

    def attribute(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    return attribute

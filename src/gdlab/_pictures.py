"""Pictures of results, drawn by the drawing code that registered them.

The computing code draws nothing and never imports ``gdlab.render``: a result's ``plot()``
asks here for the picture of its kind. The package registers each picture when it loads
(``gdlab/__init__.py``), and the drawing code itself loads when a picture is first asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["draw", "register"]

_DRAWERS: dict[str, Callable[[Any], Any]] = {}


def register(kind: str, drawer: Callable[..., Any]) -> None:
    """Draw results of ``kind`` with ``drawer`` (a function of the result and the picture's
    options, returning a figure)."""
    _DRAWERS[kind] = drawer


def draw(kind: str, result: Any, **options: Any) -> Any:
    """The picture of ``result``, a result of ``kind``, drawn with ``options``."""
    return _DRAWERS[kind](result, **options)

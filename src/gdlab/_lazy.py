"""Modules imported on their first use, so that a path which never uses them never pays for them.

A one-off fit of a small formula runs on NumPy and SciPy alone; importing JAX (half a second
and a hundred megabytes) is left to the code that computes with it. A module written
``jax = lazy("jax")`` (with the real import under ``if TYPE_CHECKING:`` for the type checker)
reads exactly as before: ``jax.numpy.sin``, ``jnp.asarray``, ``optax.chain`` import their
module on the first attribute read, and every later read goes straight to it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["lazy"]


class _Module:
    """Stands for a module until an attribute of it is read; then imports it (once)."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _load(self) -> ModuleType:
        try:
            return object.__getattribute__(self, "_module")
        except AttributeError:
            module = importlib.import_module(object.__getattribute__(self, "_name"))
            object.__setattr__(self, "_module", module)
            return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        return f"<module {object.__getattribute__(self, '_name')!r}, imported on first use>"


def lazy(name: str) -> Any:
    """The module ``name``, imported when one of its attributes is first read."""
    return _Module(name)

"""Modules imported on their first use, so that a path which never uses them never pays for them.

A one-off fit of a small formula runs on NumPy and SciPy alone; importing JAX (half a second
and a hundred megabytes) is left to the code that computes with it. A module written
``jax = lazy("jax")`` (with the real import under ``if TYPE_CHECKING:`` for the type checker)
reads exactly as before: ``jax.numpy.sin``, ``jnp.asarray``, ``optax.chain`` import their
module on the first attribute read, and every later read goes straight to it.

Every such import, and the first load of a public name (``gdlab.descend``), goes through
:func:`imported`, which keeps what the import made out of the collector's full passes.
"""

from __future__ import annotations

import gc
import importlib
import sys
from types import ModuleType
from typing import Any

__all__ = ["imported", "lazy"]


def imported(name: str) -> ModuleType:
    """Import module ``name``, and keep what the import made out of the collector's full passes.

    Loading JAX and gdlab's compute modules makes about 150,000 objects that live as long as the
    process. Left in the collector's oldest generation, each full pass walks them all (0.17 s), and
    the first one fell inside a user's first call. The import runs with the collector paused, and
    what it made is then frozen (``gc.freeze``: about a thousand objects in cycles stay unfreed;
    objects are still freed when nothing refers to them, and the collector still runs as before on
    every object made later).
    """
    module = sys.modules.get(name)
    if module is not None:
        return module
    paused = gc.isenabled()
    gc.disable()
    try:
        return importlib.import_module(name)
    finally:
        gc.freeze()
        if paused:
            gc.enable()


class _Module:
    """Stands for a module until an attribute of it is read; then imports it (once)."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _load(self) -> ModuleType:
        try:
            return object.__getattribute__(self, "_module")
        except AttributeError:
            module = imported(object.__getattribute__(self, "_name"))
            object.__setattr__(self, "_module", module)
            return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        return f"<module {object.__getattribute__(self, '_name')!r}, imported on first use>"


def lazy(name: str) -> Any:
    """The module ``name``, imported when one of its attributes is first read."""
    return _Module(name)

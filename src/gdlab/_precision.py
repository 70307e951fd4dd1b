"""Floating-point precision: gdlab computes in float64 unless asked otherwise.

JAX's own default is float32 and the switch only works before the first array
is made, so importing gdlab turns float64 on at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gdlab._checks import InputError
from gdlab._lazy import lazy
from gdlab._types import DTypeLike, Params

# float64 is switched on by the package's import (gdlab/__init__.py), before JAX is imported.
if TYPE_CHECKING:
    import jax
else:
    jax = lazy("jax")

DEFAULT_DTYPE = np.dtype("float64")
# Roundings a computed number may be off by and still count as its value: a sum of squares, a loss
# or a residual known to ROUNDED eps of itself (the stationarity check, the polish and the compiled
# runs' exact floor, a line search's allowance all read it).
ROUNDED = 16
_ALLOWED = (np.dtype("float32"), np.dtype("float64"))


def resolve_dtype(dtype: DTypeLike) -> np.dtype:
    """Return the floating dtype to compute in; ``None`` means float64.

    Raises:
        ValueError: ``dtype`` is not float32 or float64.
    """
    if dtype is None:
        return DEFAULT_DTYPE
    try:
        resolved = np.dtype(dtype)
    except TypeError as err:
        raise InputError(f"dtype={dtype!r} is not a dtype: use 'float32' or 'float64'") from err
    if resolved not in _ALLOWED:
        kind = (
            "is not supported (too few digits for descent)"
            if resolved.kind == "f"
            else "is not a floating dtype"
        )
        raise InputError(f"dtype={dtype!r} {kind}: use 'float32' or 'float64'")
    return resolved


def as_float_tree(tree: Params, dtype: np.dtype, name: str) -> Params:
    """Convert every leaf of a parameter pytree to a NumPy float array of ``dtype``.

    Raises:
        ValueError: a leaf is not numeric or not finite.
    """

    def convert(leaf: object) -> np.ndarray:
        try:
            arr = np.asarray(leaf)
        except Exception as err:  # e.g. ragged nested lists
            raise InputError(
                lambda s: f"{s.name(name)} must be numbers or arrays of numbers; got {leaf!r}", parameter=name
            ) from err
        if arr.dtype.kind not in "biuf":
            kind = arr.dtype
            raise InputError(
                lambda s: f"{s.name(name)} must be real numbers; got {kind} value {leaf!r}", parameter=name
            )
        if not np.all(np.isfinite(arr)):
            raise InputError(lambda s: f"{s.name(name)} must be finite; got {leaf!r}", parameter=name)
        return arr.astype(dtype)  # NumPy: compiled calls take it as it is, and it costs less to make

    if isinstance(tree, list):  # a list of numbers is a vector, not a pytree of scalars
        tree = np.asarray(tree)
    leaves = jax.tree.leaves(tree)
    if not leaves:
        raise InputError(
            lambda s: f"{s.name(name)} holds no numbers; pass a number, an array, a tuple or a dict",
            parameter=name,
        )
    return jax.tree.map(convert, tree)

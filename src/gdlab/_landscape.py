"""The loss over a window of parameter space: what pictures draw behind a descent."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import jax
import numpy as np

from gdlab._checks import InputError
from gdlab._loss import as_loss, scalar_loss
from gdlab._types import Loss, Params


@dataclass(frozen=True)
class Landscape:
    """Loss values on a regular grid over one or two parameter components.

    Attributes:
        axes: one 1-D array per component.
        values: the loss, one array axis per component (``values[i, j]`` is at
            ``axes[0][i], axes[1][j]``); non-finite where the loss is.
    """

    axes: tuple[np.ndarray, ...]
    values: np.ndarray


def landscape(
    f: Loss,
    like: Params,
    ranges: Sequence[tuple[float, float]],
    num: int | Sequence[int] = 200,
) -> Landscape:
    """Evaluate ``f`` on a grid of parameters shaped like ``like``, in one vmapped call.

    Args:
        f: the loss of one argument.
        like: a parameter value with one or two components (number, vector,
            tuple or dict); the grid varies those components.
        ranges: ``(low, high)`` for each component.
        num: points per component.

    Returns:
        A :class:`Landscape`.

    Example:
        >>> view = landscape(lambda b: (b / 2 - 1) ** 2, 0.0, [(-10, 10)], num=5)
        >>> view.values.tolist()
        [36.0, 12.25, 1.0, 2.25, 16.0]
    """
    f = as_loss(f)
    leaves, tree = jax.tree.flatten(like)
    shapes = [np.shape(leaf) for leaf in leaves]
    sizes = [math.prod(shape) for shape in shapes]
    size = sum(sizes)
    if size != len(ranges) or size not in (1, 2):
        raise InputError(
            f"a landscape needs one range per parameter component (1 or 2); "
            f"the parameters have {size} and {len(ranges)} ranges were given"
        )
    counts = [num] * size if isinstance(num, int) else list(num)
    axes = tuple(
        np.linspace(float(lo), float(hi), int(n)) for (lo, hi), n in zip(ranges, counts, strict=True)
    )
    mesh = np.stack([m.ravel() for m in np.meshgrid(*axes, indexing="ij")], axis=1)
    # Each parameter's components, cut from the grid and shaped as it is, in NumPy: the loss gets
    # the float64 arrays ravel_pytree's inverse would give it, without a JAX operation per cut
    # (each compiled on its own, the first time, in a new process).
    columns = np.split(mesh, np.cumsum(sizes)[:-1], axis=1)
    batched = [column.reshape(len(mesh), *shape) for column, shape in zip(columns, shapes, strict=True)]
    loss = scalar_loss(f)
    # Evaluated once per picture: vmap without jit, as compiling would cost more.
    values = jax.vmap(lambda *parts: loss(jax.tree.unflatten(tree, parts)))(*batched)
    return Landscape(axes=axes, values=np.asarray(values).reshape([a.size for a in axes]))

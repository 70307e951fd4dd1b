"""The loss over a window of parameter space: what pictures draw behind a descent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from gdlab._checks import InputError
from gdlab._loss import as_loss, scalar_loss
from gdlab._pytree import ravel_pytree
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
    flat, unravel = ravel_pytree(jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), like))
    if flat.size != len(ranges) or flat.size not in (1, 2):
        raise InputError(
            f"a landscape needs one range per parameter component (1 or 2); "
            f"the parameters have {flat.size} and {len(ranges)} ranges were given"
        )
    counts = [num] * flat.size if isinstance(num, int) else list(num)
    axes = tuple(
        np.linspace(float(lo), float(hi), int(n)) for (lo, hi), n in zip(ranges, counts, strict=True)
    )
    mesh = np.stack([m.ravel() for m in np.meshgrid(*axes, indexing="ij")], axis=1)
    loss = scalar_loss(f)
    # Evaluated once per picture: vmap without jit, as compiling would cost more.
    values = jax.vmap(lambda p: loss(unravel(p)))(mesh)
    return Landscape(axes=axes, values=np.asarray(values).reshape([a.size for a in axes]))

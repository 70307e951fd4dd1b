"""Grid search: evaluate a loss at every point of a grid and keep the best."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from gdlab._cache import per_key
from gdlab._checks import LIMITS, InputError, size
from gdlab._json import plain
from gdlab._loss import as_loss, scalar_loss
from gdlab._precision import resolve_dtype
from gdlab._types import DTypeLike

# Losses whose compiled grid evaluation is kept, and the fewest points one evaluation takes.
COMPILED_LOSSES = 32
SMALLEST_BUCKET = 64


@per_key(leading=1, size=COMPILED_LOSSES, per_loss=True)
def _values(f: Any, points: Any) -> jax.Array:
    """The loss at every point, in one compiled call (kept per loss, and per bucket of sizes)."""
    return jax.vmap(scalar_loss(f))(points)


def bucket(count: int) -> int:
    """How many points a grid of ``count`` points is evaluated as: the next power of two (at least
    :data:`SMALLEST_BUCKET`), so that grids of 10 to 1,000,000 points compile at most 15 programs
    per loss, not one per size. Evaluated op by op, each new size compiled every operation
    afresh: 200 sizes took 0.6 s and 4.4 MB each."""
    return max(SMALLEST_BUCKET, 1 << max(count - 1, 0).bit_length())


def _padded(points: Any, count: int) -> Any:
    """Each axis's points repeated at the last one up to the bucket's size."""
    extra = bucket(count) - count
    return jax.tree.map(lambda a: np.pad(a, (0, extra), mode="edge"), points)


class GridEdgeWarning(UserWarning):
    """The best grid point lies on the grid's edge: the minimum may lie outside it.

    :func:`gdlab.grid_search` warns with the grid's range and keeps its answer; widen the grid.

    Example:
        >>> import warnings, numpy as np, gdlab
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     best = gdlab.grid_search(lambda b: (b / 2 - 1) ** 2, np.linspace(-10, 0, 11)).best
        >>> best, caught[0].category.__name__
        (0.0, 'GridEdgeWarning')
        >>> print(caught[0].message)
        the best point 0 lies on the edge of the grid [-10, 0]: the minimum may lie outside; widen the grid
    """


@dataclass(frozen=True)
class GridResult:
    """The result of :func:`grid_search`.

    Attributes:
        best: the best point, shaped like the grid: a number for one axis, a
            tuple for a sequence of axes, a dict for a dict of axes.
        index: position of the best point: an int for one axis, else a tuple.
        loss: the loss at the best point.
        losses: the loss at every grid point, one array axis per grid axis.
        evaluations: how many points were evaluated.
        axes: the grid's 1-D axes, in order.
        names: the axes' names (``None`` unless the grid was a dict).
        warnings: what to look out for, as sentences (a best point on the grid's
            edge, points where the loss is not finite); each is also issued as a
            Python warning when the search runs.
    """

    best: float | tuple[float, ...] | dict[str, float]
    index: int | tuple[int, ...]
    loss: float
    losses: np.ndarray
    evaluations: int
    axes: tuple[np.ndarray, ...]
    names: tuple[str, ...] | None = None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The best point and what to look out for, strict-JSON-ready (without the grid of losses)."""
        return plain(
            {
                "best": self.best,
                "index": self.index,
                "loss": self.loss,
                "evaluations": self.evaluations,
                "names": self.names,
                "warnings": self.warnings,
            }
        )

    def __repr__(self) -> str:
        head = (
            f"GridResult(best={self.best!r}, index={self.index!r}, loss={self.loss:.10g}, "
            f"evaluations={self.evaluations})"
        )
        return "\n".join([head, *(f"  warning: {w}" for w in self.warnings)])


def _axes(grid: object, dtype: np.dtype):
    """The grid's 1-D axes, their names, and whether it is one plain axis."""
    if isinstance(grid, Mapping):
        names: tuple[str, ...] | None = tuple(str(k) for k in grid)
        raw: Sequence[object] = list(grid.values())
    elif isinstance(grid, tuple | list) and grid and np.ndim(grid[0]) == 1:
        names, raw = None, list(grid)
    else:
        names, raw = None, [grid]
    one_axis = names is None and raw[0] is grid
    axes = []
    for i, axis in enumerate(raw):
        label = names[i] if names else f"axis {i}"
        try:
            arr = np.asarray(axis, dtype=dtype)
        except (TypeError, ValueError):
            raise InputError(f"grid {label} must be numbers; got {axis!r:.80}") from None
        if arr.ndim != 1:
            raise InputError(f"grid {label} must be a 1-D array of values; got shape {arr.shape}")
        if arr.size == 0:
            raise InputError(f"grid {label} has no points; give at least one value")
        if not np.all(np.isfinite(arr)):
            raise InputError(f"grid {label} holds non-finite values; use finite numbers")
        axes.append(arr)
    return tuple(axes), names, one_axis


def grid_search(f: Callable[..., Any], grid: object, *, dtype: DTypeLike = None) -> GridResult:
    """Evaluate ``f`` on every point of a grid, all at once, and find the smallest.

    Args:
        f: the loss, a function of one argument shaped like a grid point, as in
            :func:`gdlab.descend`: a number for one axis, a tuple ``(b0, b1)``
            for a sequence of axes, a dict for a dict of axes.
        grid: a 1-D array (or list of numbers), a sequence of 1-D arrays (their
            product is searched) or a dict of name -> 1-D array.
        dtype: the floating type to compute in (default float64).

    Returns:
        A :class:`GridResult`. Non-finite losses never count as best. A
        :class:`GridEdgeWarning` is issued when the best point is on an edge.

    Example:
        >>> import numpy as np, gdlab
        >>> result = gdlab.grid_search(lambda b: (b / 2 - 1) ** 2, np.linspace(-10, 10, 100))
        >>> result.index, result.best
        (59, 1.9191919191919187)
    """
    f = as_loss(f)
    dt = resolve_dtype(dtype)
    axes, names, one_axis = _axes(grid, dt)
    _check_names(f, names, len(axes))
    size("grid points", math.prod(a.size for a in axes), LIMITS.grid_points, "use fewer points per axis")
    mesh = tuple(m.ravel() for m in np.meshgrid(*axes, indexing="ij"))
    points = mesh[0] if one_axis else (dict(zip(names, mesh, strict=True)) if names else mesh)
    count = mesh[0].size
    try:
        values = np.asarray(_values(f, _padded(points, count)))[:count]
    except ValueError as caught:  # a shape the loss cannot take (a matrix product of a number, say)
        err = caught.__cause__ if isinstance(caught, InputError) else caught
        if not isinstance(err, ValueError) or isinstance(err, InputError):
            raise
        raise InputError(
            f"the loss raised ValueError at one number per grid axis: {err}; grid_search evaluates a "
            "number per axis, so a loss of vectors needs descend or sweep"
        ) from None
    losses = values.reshape(tuple(a.size for a in axes))
    masked = np.where(np.isfinite(losses), losses, np.inf)
    if not np.any(np.isfinite(masked)):
        raise InputError("the loss is not finite at any grid point; check the loss and the grid")
    flat = int(np.argmin(masked))
    idx = tuple(int(i) for i in np.unravel_index(flat, losses.shape))
    point = tuple(float(a[i]) for a, i in zip(axes, idx, strict=True))
    notes = _edge_notes(axes, idx, names)
    bad = int(losses.size - np.count_nonzero(np.isfinite(losses)))
    if bad:
        notes.append(f"the loss is not finite at {bad:,} of {losses.size:,} grid points; they were skipped")
    for note in notes:
        warnings.warn(note, GridEdgeWarning if "edge" in note else RuntimeWarning, stacklevel=2)
    best: float | tuple[float, ...] | dict[str, float] = point
    if names is not None:
        best = dict(zip(names, point, strict=True))
    elif one_axis:
        best = point[0]
    losses.setflags(write=False)
    return GridResult(
        best=best,
        index=idx[0] if one_axis else idx,
        loss=float(losses[idx]),
        losses=losses,
        evaluations=int(losses.size),
        axes=axes,
        names=names,
        warnings=tuple(notes),
    )


def _check_names(f: object, names: tuple[str, ...] | None, count: int) -> None:
    """A typed loss's parameters against the grid's axes: a dict names each one, in any order."""
    from gdlab._expr import Expression

    if not isinstance(f, Expression):
        return
    params = f.params
    if names is not None and set(names) != set(params):
        raise InputError(
            f"the grid's axes are {', '.join(names)}; give one for each parameter: {', '.join(params)}"
        )
    if names is None and count != len(params):
        example = ", ".join(f'"{p}": [...]' for p in params)
        raise InputError(
            f"the loss has {len(params)} parameter(s) ({', '.join(params)}) but the grid has {count} "
            f"axis/axes; give one axis per parameter, as in {{{example}}}"
        )


def _edge_notes(
    axes: tuple[np.ndarray, ...], idx: tuple[int, ...], names: tuple[str, ...] | None
) -> list[str]:
    notes = []
    for k, (axis, i) in enumerate(zip(axes, idx, strict=True)):
        if axis.size > 1 and i in (0, axis.size - 1):
            label = names[k] if names else (f"axis {k}" if len(axes) > 1 else "the grid")
            notes.append(
                f"the best point {float(axis[i]):g} lies on the edge of {label} "
                f"[{float(axis.min()):g}, {float(axis.max()):g}]: the minimum may lie outside; "
                "widen the grid"
            )
    return notes

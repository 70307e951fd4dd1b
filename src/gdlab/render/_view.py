"""What a picture frames: the paths (the rows :mod:`gdlab._window` frames, the lab page's rule
too), and the minimum they head for when it is near.

A view zoomed onto a short path hides the curve's shape and the minimum (the
lecture's first 100 steps move b from -10 to -9, while the minimum is at 2).
So the view also takes in the loss's minimum when it lies within
:data:`NEAR` path-lengths of the path: passed in, or estimated from the loss
itself (on a wide grid for one parameter, by Newton's method for two).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import numpy as np

from gdlab._pytree import component_names
from gdlab._trajectory import Trajectory
from gdlab._window import LIMIT, padded, path_points

# The minimum is framed when it is within this many path-lengths of the path.
NEAR = 20.0


def drawable(values: np.ndarray) -> np.ndarray:
    """``values`` as floats matplotlib can draw: NaN stays (a gap), the rest within +-LIMIT."""
    with np.errstate(invalid="ignore"):
        return np.clip(np.asarray(values, dtype=float), -LIMIT, LIMIT)


def box(items: Sequence[Trajectory], minimum: np.ndarray | None, share: float) -> list[tuple[float, float]]:
    """(low, high) per component: the paths, the minimum when near, padded by ``share``."""
    points = path_points(items)
    lo, hi = points.min(axis=0), points.max(axis=0)
    scale = max(float(np.max(hi - lo)), 1e-9 * max(1.0, float(np.max(np.abs(points)))))
    if minimum is not None and _near(minimum, lo, hi, scale):
        # Past the minimum by a third of the way there: the curve's other side shows.
        far = np.maximum(np.abs(minimum - lo), np.abs(minimum - hi))
        lo, hi = np.minimum(lo, minimum - far / 3), np.maximum(hi, minimum + far / 3)
    return [padded(float(a), float(b), share) for a, b in zip(lo, hi, strict=True)]


# A path runs away along one axis when the framed box is this many times longer along it
# than along the other, and its gradient grew this many times since the start.
RUNAWAY = 20.0


def runaway_capped(
    area: list[tuple[float, float]],
    items: Sequence[Trajectory],
    minimum: np.ndarray | None,
    free: Sequence[bool],
) -> list[tuple[float, float]]:
    """``area`` with a runaway axis cut back to the other's scale around the starts.

    A path that escapes along one axis (down a saddle, off to -inf) would stretch
    that axis a million times past the other, and the loss would show as bands.
    The cut axis keeps the starts and the minimum, over a span like the other's;
    the path leaves the chart there, and is drawn at its edge. ``free``: which
    axes may be cut (not those the caller fixed).
    """
    spans = [hi - lo for lo, hi in area]
    if len(area) != 2 or min(spans) <= 0:
        return area
    long = int(np.argmax(spans))
    short = 1 - long
    if not free[long] or spans[long] <= RUNAWAY * spans[short] or not any(_runs_away(t) for t in items):
        return area
    keep = np.array([t.flat_params()[0, long] for t in items], dtype=float)
    if minimum is not None:
        keep = np.append(keep, minimum[long])
    keep = keep[np.isfinite(keep)]
    if keep.size == 0:
        return area
    lo, hi = float(keep.min()), float(keep.max())
    half = max(spans[short], 1.24 * (hi - lo)) / 2
    middle = (lo + hi) / 2
    capped = list(area)
    capped[long] = (max(middle - half, area[long][0]), min(middle + half, area[long][1]))
    return capped


def _runs_away(t: Trajectory) -> bool:
    """Whether ``t`` leaves: its loss not finite at the end, or its gradient grown RUNAWAY times."""
    if not np.isfinite(t.loss[-1]):
        return True
    grad = np.linalg.norm(np.nan_to_num(t.flat_grad(), nan=np.inf), axis=1)
    return bool(grad[-1] > RUNAWAY * max(float(grad[0]), 1e-300))


def _near(minimum: np.ndarray, lo: np.ndarray, hi: np.ndarray, scale: float) -> bool:
    gap = np.maximum(np.maximum(lo - minimum, minimum - hi), 0)
    return bool(np.all(np.isfinite(minimum)) and np.max(gap) <= NEAR * scale)


def best_row(items: Sequence[Trajectory]) -> tuple[np.ndarray, float] | None:
    """The lowest finite point any path reached, and its loss."""
    best: tuple[np.ndarray, float] | None = None
    for t in items:
        ok = np.isfinite(t.loss) & np.all(np.isfinite(t.flat_params()), axis=1)
        if ok.any():
            k = int(np.flatnonzero(ok)[np.argmin(t.loss[ok])])
            if best is None or t.loss[k] < best[1]:
                best = (t.flat_params()[k], float(t.loss[k]))
    return best


def minimum_1d(f: Callable, like: object, items: Sequence[Trajectory]) -> np.ndarray | None:
    """The lowest point of the loss on a grid reaching NEAR path-lengths around the path.

    Only a minimum inside that grid counts (not its edge): the best point a
    path reached when that is where the grid is lowest, else a point below it.
    """
    from gdlab._landscape import landscape

    found = best_row(items)
    if found is None:
        return None
    points = path_points(items)[:, 0]
    lo, hi = float(points.min()), float(points.max())
    reach = NEAR * max(hi - lo, 1e-9 * max(1.0, abs(hi)))
    with np.errstate(all="ignore"):
        view = landscape(f, like, [(max(lo - reach, -LIMIT), min(hi + reach, LIMIT))], num=GRID)
    values = np.where(np.isfinite(view.values), view.values, np.inf)
    i = int(np.argmin(values))
    if not 0 < i < values.size - 1:
        return None  # lowest at the edge: no minimum near
    x = view.axes[0]
    if x[i - 1] <= found[0][0] <= x[i + 1]:
        return found[0]  # a path reached it
    if not values[i] <= found[1]:
        return None
    return np.array([_vertex(x[i - 1 : i + 2], values[i - 1 : i + 2])])


# Points of the loss curve: the same count for the wide search and the curve drawn, so
# JAX compiles the evaluation once.
GRID = 400


def _vertex(x: np.ndarray, y: np.ndarray) -> float:
    """The lowest point of the parabola through three points (the middle one if flat)."""
    denominator = (y[0] - 2 * y[1] + y[2]) * 2
    if not np.isfinite(denominator) or denominator <= 0:
        return float(x[1])
    step = (x[1] - x[0]) * (y[0] - y[2]) / denominator
    return float(x[1] + np.clip(step, x[0] - x[1], x[2] - x[1]))


def minimum_newton(f: Callable, like: object, items: Sequence[Trajectory]) -> np.ndarray | None:
    """Newton's method from the best point the paths reached; None unless it lands on a minimum."""
    import jax
    import jax.numpy as jnp

    from gdlab._loss import scalar_loss
    from gdlab._pytree import ravel_pytree

    found = best_row(items)
    if found is None:
        return None
    _, unravel = ravel_pytree(jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), like))
    loss = scalar_loss(f)

    def fn(x):
        return loss(unravel(x))

    @jax.jit
    def solve(x):
        step = lambda _, x: x - jnp.linalg.solve(jax.hessian(fn)(x), jax.grad(fn)(x))  # noqa: E731
        x = jax.lax.fori_loop(0, 8, step, x)
        return x, fn(x), jax.grad(fn)(x), jnp.linalg.eigvalsh(jax.hessian(fn)(x))

    try:
        x, value, grad, curvature = (np.asarray(a) for a in solve(jnp.asarray(found[0], jnp.float64)))
    except Exception:  # a loss Newton cannot differentiate twice: frame the paths alone
        return None
    flat = np.all(np.isfinite(x)) and np.isfinite(value) and value <= found[1] + 1e-12 * (1 + abs(found[1]))
    settled = np.linalg.norm(grad) <= 1e-6 * max(1.0, abs(float(value)))
    bowl = np.all(np.isfinite(curvature)) and curvature.min() >= -1e-8 * max(abs(curvature).max(), 1e-300)
    return x if flat and settled and bowl else None


def param_names(t: Trajectory, f: Callable | None, given: Sequence[str] | None) -> tuple[str, ...]:
    """Axis names: ``given``, else the loss's own (an expression's parameters, or the
    name of a function's argument where the trajectory has only the default ``b``)."""
    if given is not None:
        return tuple(given)
    own = getattr(f, "params", None)
    if isinstance(own, tuple) and len(own) == len(t.names) and all(isinstance(n, str) for n in own):
        return own
    root = _argument_name(f)
    if root is not None and not isinstance(t.at(0), dict):
        return tuple(component_names(t.at(0), root=root))
    return t.names


def _argument_name(f: Callable | None) -> str | None:
    if f is None or not inspect.isfunction(f):
        return None
    try:
        positional = [
            p
            for p in inspect.signature(f).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return None
    return positional[0].name if positional else None

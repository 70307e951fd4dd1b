"""A fitted model as a picture: the data with the fitted curve, and the residuals.

matplotlib is imported when a picture is asked for, never by the fitting code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gdlab._checks import InputError

if TYPE_CHECKING:
    from gdlab.fitting._result import Fit

__all__ = ["DRAW_POINTS", "plot_fit"]

# At most this many rows are drawn: a seeded sample of larger data (every point of two million
# took seconds to draw and said no more).
DRAW_POINTS = 20_000


def _drawn_rows(n: int) -> np.ndarray:
    """All the rows, or a sorted sample of :data:`DRAW_POINTS` of them (the same each time)."""
    if n <= DRAW_POINTS:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, DRAW_POINTS, replace=False))


def _predicted(result: Fit, rows: dict[str, np.ndarray]) -> np.ndarray:
    """The fit's values at its own rows or the drawing's grid, drawn as they come: a value that is
    not finite is left out of the picture, not warned of as a new row's."""
    import warnings

    from gdlab.fitting._result import NotFiniteWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotFiniteWarning)
        return np.asarray(result.predict(rows))


def _unfinished(result: Fit) -> str:
    """How an iterative fit that did not converge ended, for its picture's title's second line
    (``""`` otherwise)."""
    from gdlab._trajectory import Status, ending_words

    if result.status is None or result.status is Status.CONVERGED or result.steps is None:
        return ""
    return f"\n{ending_words(result.status, result.steps)}"  # a line of its own: the title stays in its panel


def plot_fit(result: Fit, *, size: tuple[float, float] = (10.0, 4.2)) -> Any:
    """Two panels: the data with the fitted curve (one regressor) or observed against fitted
    (several), and the residuals against the fitted values (for logistic: the 0/1 data and
    the fitted probability). For an iterative fit of one regressor, ``gdlab.animate(fit)``
    shows the curve moving step by step, and ``gdlab.plot(fit)`` its last step.

    Example:
        >>> from gdlab.fitting._fit import fit
        >>> figure = plot_fit(fit("cafe", y="y", x="x"))
        >>> [axis.get_title() for axis in figure.axes]
        ['y ~ x (ols)', 'residuals']
    """
    from matplotlib.figure import Figure

    table = result._data
    if table is None:
        raise InputError(
            "this fit of streamed or cluster data keeps no rows to draw; fit a sample read into "
            "memory to see its picture (its predict works on any rows)"
        )
    used = (result.y, *(result.x if result._predictor is None else result._predictor.columns))
    rows = _drawn_rows(table.n)
    columns = {c: np.asarray(table[c])[rows] for c in dict.fromkeys(used)}
    y = np.asarray(columns[result.y], dtype=np.float64)
    fitted = _predicted(result, columns)
    data_label = "data" if len(y) == table.n else f"data (a sample of {len(y):,} of {table.n:,} rows)"
    dot = 16 if len(y) <= 2_000 else 3
    figure = Figure(figsize=size, layout="constrained")
    data_axis, residual_axis = figure.subplots(1, 2)
    title = f"{result.y} ~ {result.model or ' + '.join(result.x)} ({result.method}){_unfinished(result)}"
    if len(result.x) == 1:
        x = np.asarray(columns[result.x[0]], dtype=np.float64)
        grid = np.linspace(x.min(), x.max(), 200)
        data_axis.scatter(x, y, s=dot, color="0.35", label=data_label, zorder=2)
        curve = _predicted(result, {result.x[0]: grid})
        data_axis.plot(grid, curve, color="C0", lw=2, label="fitted")
        low, high = float(y.min()), float(y.max())
        span = high - low or abs(high) or 1.0
        with np.errstate(invalid="ignore"):
            beyond = np.nanmax(np.abs(curve - (low + high) / 2), initial=0.0) > 2 * span
        if beyond:  # a curve far off the data (a diverged fit): the data stay in view, the curve leaves it
            data_axis.set_ylim(low - span / 2, high + span / 2)
        data_axis.set_xlabel(result.x[0])
        data_axis.set_ylabel(result.y)
    else:
        data_axis.scatter(fitted, y, s=dot, color="0.35", label=data_label, zorder=2)
        low, high = float(min(fitted.min(), y.min())), float(max(fitted.max(), y.max()))
        data_axis.plot([low, high], [low, high], color="C0", lw=1.5, label="observed = fitted")
        data_axis.set_xlabel("fitted")
        data_axis.set_ylabel(f"observed {result.y}")
    if len(y) <= 2_000:
        data_axis.legend(frameon=False)
    else:  # 'best' is slow over many points, and any place inside hides some: below the axes
        data_axis.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    data_axis.set_title(title)
    residual_axis.axhline(0, color="0.6", lw=1)
    residual_axis.scatter(fitted, y - fitted, s=dot, color="C3")
    residual_axis.set_xlabel("fitted probability" if result.family == "logistic" else "fitted")
    residual_axis.set_ylabel("residual")
    residual_axis.set_title("residuals")
    return figure

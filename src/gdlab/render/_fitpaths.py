"""Several fits of one two-coefficient model side by side: each method's path over the loss.

Each panel is the mean squared residual of the data over the two coefficients,
in the data's units (evaluated once, for every panel), with one method's
coefficient path and the reference solution marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np

from gdlab._checks import InputError
from gdlab._colours import run_style
from gdlab._text import count
from gdlab.render._figure import new_figure
from gdlab.render._fonts import font_family
from gdlab.render._levels import colorbar, filled_contour
from gdlab.render._view import padded

if TYPE_CHECKING:
    from gdlab.fitting._result import Fit

GRID = 160


def mean_squares(fit: Fit, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """The mean squared residual of ``fit``'s data at every (b0[i], b1[j]): (len(b0), len(b1))."""
    x = np.asarray(fit._data[fit.x[0]], dtype=np.float64)
    y = np.asarray(fit._data[fit.y], dtype=np.float64)
    rows = np.stack(np.meshgrid(b0, b1, indexing="ij"), axis=-1).reshape(-1, 2)
    with np.errstate(all="ignore"):  # a value that is not finite is left out of the picture
        residuals = y - fit._means({fit.x[0]: x}, rows)
    return np.mean(residuals**2, axis=1).reshape(len(b0), len(b1))


def _area(fits: Sequence[Fit]) -> tuple[tuple[float, float], tuple[float, float]]:
    points = np.concatenate([f.coefficient_path() for f in fits] + [f.closed_form[None, :] for f in fits])
    points = points[np.all(np.isfinite(points), axis=1)]
    low, high = points.min(axis=0), points.max(axis=0)
    return padded(float(low[0]), float(high[0]), 0.1), padded(float(low[1]), float(high[1]), 0.1)


def plot_fit_paths(
    fits: Sequence[Fit],
    *,
    labels: Sequence[str] | None = None,
    title: str | None = None,
    size: tuple[int, int] | None = None,
    dpi: int = 100,
):
    """One panel per fit: its coefficient path over the contour of the mean squared residual (MSE).

    Args:
        fits: iterative fits of the same two-coefficient model (one regressor and an
            intercept, or a two-parameter formula) to the same data.
        labels: each panel's title (default: the method, its steps and how it ended).
        title: a title over the panels.
        size: (width, height) in pixels (default 340 per panel by 440).
        dpi: dots per inch.

    Returns:
        A matplotlib ``Figure``.
    """
    fits = list(fits)
    if not fits or any(f.trajectory is None or len(f.names) != 2 or len(f.x) != 1 for f in fits):
        raise InputError("give iterative fits of a model with two coefficients and one regressor")
    if labels is not None and len(labels) != len(fits):
        raise InputError(f"labels gives {len(labels)} name(s) for {len(fits)} fits: give one each")
    (x0, x1), (y0, y1) = _area(fits)
    b0, b1 = np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID)
    values = mean_squares(fits[0], b0, b1)
    with mpl.rc_context({"font.family": font_family(), "axes.unicode_minus": False}):
        figure = new_figure(size or (340 * len(fits) + 90, 440), dpi)
        axes = figure.subplots(1, len(fits), sharey=True, squeeze=False)[0]
        for i, (ax, f) in enumerate(zip(axes, fits, strict=True)):
            filled, ticks = filled_contour(ax, b0, b1, values)
            _path(ax, f, run_style(i).colour)
            ax.set_title(labels[i] if labels else _label(f), fontsize=10)
            ax.set_xlabel(_axis_name(fits[0], 0))
        axes[0].set_ylabel(_axis_name(fits[0], 1))
        colorbar(figure, filled, list(axes), "MSE", ticks)
        if title:
            figure.suptitle(title, fontsize=11)
    return figure


def _axis_name(fit: Fit, i: int) -> str:
    name = fit.names[i]
    return f"coefficient of {name}" if fit.model is None and name != "intercept" else name


def _label(fit: Fit) -> str:
    path = fit.trajectory
    assert path is not None
    return f"{fit.method}: {count(path.steps, 'step')}, {path.status.value}"


def _path(ax, fit: Fit, color: str) -> None:
    path = fit.coefficient_path()
    marker = "o" if len(path) <= 200 else None
    ax.plot(path[:, 0], path[:, 1], color=color, lw=1.3, marker=marker, ms=3.5, mec="white", mew=0.5)
    ax.plot(*path[0], marker="s", ms=7, color="white", mec="black", ls="none", label="start")
    ax.plot(*path[-1], marker="o", ms=9, color=color, mec="white", mew=1.2, ls="none", label="end")
    ax.plot(*fit.closed_form, marker="*", ms=14, color="white", mec="black", ls="none", label=fit.reference)

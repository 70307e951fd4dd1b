"""A picture of a grid search: every point evaluated, and the best one."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from gdlab._checks import InputError
from gdlab._grid import GridResult
from gdlab.render._figure import new_figure
from gdlab.render._fonts import drawn_language, font_family
from gdlab.render._levels import colorbar, filled_contour
from gdlab.render._scene import WORDS
from gdlab.render._view import drawable


def plot_grid(
    result: GridResult,
    *,
    title: str | None = None,
    lang: str = "en",
    size: tuple[int, int] = (640, 480),
    dpi: int = 100,
) -> Figure:
    """The loss at every grid point, with the best point marked.

    One axis: the points on the loss curve. Two: a filled contour of the grid's
    losses. More axes cannot be drawn.

    Args:
        result: what :func:`gdlab.grid_search` returned.
        title: a title.
        lang: ``"en"`` or ``"ko"`` for the axis words.
        size: (width, height) in pixels.
        dpi: dots per inch.

    Returns:
        A matplotlib ``Figure``.

    Example:
        >>> import numpy as np, gdlab
        >>> found = gdlab.grid_search("(b/2-1)^2", np.linspace(-10, 10, 100))
        >>> gdlab.plot_grid(found).axes[0].get_title()
        'grid search: 100 evaluations'
    """
    if not isinstance(result, GridResult):
        raise InputError("plot_grid takes the result of gdlab.grid_search")
    if len(result.axes) > 2:
        raise InputError(f"a grid of {len(result.axes)} axes cannot be drawn; draw 1 or 2")
    words = WORDS[drawn_language(lang, [title or "", *WORDS.get(lang, {}).values()])]
    with mpl.rc_context({"font.family": font_family(), "axes.unicode_minus": False}):
        fig = new_figure(size, dpi)
        ax = fig.add_subplot()
        names = result.names or (("b",) if len(result.axes) == 1 else ("b[0]", "b[1]"))
        if len(result.axes) == 1:
            _one_axis(ax, result, names[0], words)
        else:
            _two_axes(fig, ax, result, names, words)
        ax.set_title(title or f"grid search: {result.evaluations:,} evaluations")
    return fig


def _one_axis(ax, result: GridResult, name: str, words: dict[str, str]) -> None:
    axis, losses = result.axes[0], drawable(result.losses)
    ax.plot(axis, losses, color="0.3", lw=1.5, zorder=1)
    ax.plot(axis, losses, "o", color="#1f77b4", ms=3.5, zorder=2, label="grid points")
    i = result.index if isinstance(result.index, int) else result.index[0]
    ax.plot(
        [axis[i]],
        [losses[i]],
        "o",
        color="#d62728",
        ms=10,
        mec="black",
        zorder=3,
        label=f"best {name} = {axis[i]:.6g} (index {i})",
    )
    ax.set_xlabel(name)
    ax.set_ylabel(words["loss"])
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center")


def _two_axes(fig, ax, result: GridResult, names, words: dict[str, str]) -> None:
    x, y = result.axes
    filled, ticks = filled_contour(ax, x, y, result.losses, lines=False)  # the points evaluated show instead
    colorbar(fig, filled, ax, words["loss"], ticks)
    if x.size * y.size <= 2500:  # the points evaluated, when few enough to see
        gx, gy = np.meshgrid(x, y, indexing="ij")
        ax.plot(gx.ravel(), gy.ravel(), ".", color="white", ms=2, alpha=0.6)
    assert isinstance(result.index, tuple)  # a grid of two axes gives (i, j)
    i, j = result.index
    ax.plot([x[i]], [y[j]], "o", color="#d62728", ms=10, mec="white", label=f"best ({x[i]:.4g}, {y[j]:.4g})")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.legend(loc="upper right")

"""A picture of a phase diagram: each (rate, momentum) cell in its regime's colour, and the theory."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from gdlab._checks import InputError
from gdlab._colours import REGIME_COLOURS
from gdlab._phase import Phase
from gdlab.render._figure import new_figure
from gdlab.render._fonts import font_family

NAMES = tuple(REGIME_COLOURS)


def plot_phase(
    result: Phase,
    *,
    title: str | None = None,
    size: tuple[int, int] = (800, 600),
    dpi: int = 100,
    lang: str = "en",
) -> Figure:
    """The regime of every cell over the log-scaled rate and the momentum; on a quadratic, the
    theory's boundary as a line and its fastest pair as a star.

    Args:
        result: what :func:`gdlab.phase` returned.
        title: a title (default: the method, the grid and the steps).
        size: (width, height) in pixels.
        dpi: dots per inch.
        lang: ``"en"`` or ``"ko"`` for the picture's words (the regimes in the lab page's words).

    Returns:
        A matplotlib ``Figure``.

    Example:
        >>> import gdlab
        >>> grid = gdlab.phase("(b/2-1)^2", -10.0, lrs=[0.5, 2, 5], momenta=[0, 0.5], steps=50)
        >>> figure = gdlab.plot_phase(grid)
        >>> figure.axes[0].get_xlabel(), figure.axes[0].get_ylabel()
        ('learning rate', 'momentum')
    """
    if not isinstance(result, Phase):
        raise InputError("plot_phase takes the result of gdlab.phase")
    from gdlab.render._sweep import sweep_words

    w = sweep_words(lang, title)
    with mpl.rc_context({"font.family": font_family(), "axes.unicode_minus": False}):
        fig = new_figure(size, dpi)
        ax = fig.subplots()
        codes = np.vectorize(NAMES.index, otypes=[int])(result.regime)
        cmap = ListedColormap([REGIME_COLOURS[n] for n in NAMES])
        x, y = _edges(result.lrs, log=True), _edges(result.momenta, log=False)
        ax.pcolormesh(x, y, codes.T, cmap=cmap, vmin=-0.5, vmax=len(NAMES) - 0.5, shading="flat")
        ax.set_xscale("log")
        ax.set_xlim(x[0], x[-1])
        ax.set_ylim(y[0], y[-1])
        ax.set_xlabel(w["learning rate"])
        same = result.setting == result.method
        ax.set_ylabel(result.setting if same else f"{result.setting} ({result.method})")
        handles = [
            Patch(color=REGIME_COLOURS[n], label=f"{w[n]} ({k:,})") for n, k in result.counts().items() if k
        ]
        handles += _theory(ax, result, y, w)
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4), fontsize=9)
        rows, cols = result.shape
        ax.set_title(
            title
            or w["phase title"].format(
                method=result.method, rows=rows, cols=cols, setting=result.setting, steps=result.steps
            )
        )
        if result.boundary is None:
            ax.text(
                0.99,
                0.01,
                result.theory_note,
                transform=ax.transAxes,
                ha="right",
                va="bottom",
                fontsize=8,
                color="0.15",
                wrap=True,
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0},
            )
    return fig


def _edges(values: np.ndarray, *, log: bool) -> np.ndarray:
    """Cell edges around sorted centres: midpoints (geometric on a log axis), half a cell outside."""
    v = np.log(values) if log else np.asarray(values, np.float64)
    if v.size == 1:
        width = 0.5 if log else 0.05
        edges = np.array([v[0] - width, v[0] + width])
    else:
        mid = (v[1:] + v[:-1]) / 2
        edges = np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])
    return np.exp(edges) if log else edges


def _theory(ax, result: Phase, y: np.ndarray, w: dict[str, str]) -> list:
    """The boundary as a line over the momentum axis, and the fastest pair; their legend entries."""
    boundary = result.boundary
    if boundary is None:
        return []
    momenta = np.linspace(max(y[0], 0.0), min(y[-1], 0.999999), 400)
    bound = np.array([boundary.bound(b) for b in momenta])
    ax.plot(bound, momenta, color="black", lw=1.8, ls="--")
    which = "2(1+b)/((1+2b)L)" if boundary.nesterov else "2(1+b)/L"
    handles: list = [Line2D([], [], color="black", lw=1.8, ls="--", label=w["theory"].format(which=which))]
    if boundary.best is not None:
        lr, b = boundary.best
        ax.plot([lr], [b], marker="*", ms=16, color="white", mec="black", mew=1.2, ls="none", clip_on=False)
        handles.append(
            Line2D(
                [],
                [],
                marker="*",
                ms=12,
                color="white",
                mec="black",
                ls="none",
                label=w["fastest"].format(lr=f"{lr:.3g}", setting=result.setting, b=f"{b:.3g}"),
            )
        )
    return handles

"""Contour levels and colour-bar ticks at round numbers (1e3, 300, 50), never 1.48e+03 or 263."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator

# matplotlib extends filled contours with levels at +-1e250: values stay well inside.
LIMIT = 1e200


def round_label(value: float, _position: object = None) -> str:
    """A round number written short: 1e3 -> '1000', 1e6 -> '1e6', 0.0001 -> '1e-4'."""
    text = f"{value:g}"
    mantissa, _, exponent = text.partition("e")
    return mantissa if not exponent else f"{mantissa}e{int(exponent)}"


FORMAT = FuncFormatter(round_label)


def contour_values(values: np.ndarray) -> np.ndarray:
    """``values`` as a filled contour can draw them: non-finite as gaps, the rest within +-LIMIT."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(values), np.clip(values, -LIMIT, LIMIT), np.nan)


def levels(values: np.ndarray):
    """(levels, norm or None, floor or None, tick locator) for a filled contour of ``values``.

    Log-spaced at 1, 2 and 5 per decade (more when there are few decades) when
    the values are positive and span over two orders of magnitude; else evenly
    spaced round numbers.
    """
    finite = np.clip(values[np.isfinite(values)], -LIMIT, LIMIT)
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if lo >= 0 and hi > 0 and hi / max(lo, hi * 1e-12) > 100:
        floor = max(lo, hi * 1e-6)
        decades = np.log10(hi / floor)
        subs = (1.0, 2.0, 5.0) if decades > 4 else (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)
        marks = np.asarray(LogLocator(subs=subs).tick_values(floor, hi))
        marks = marks[(marks > floor) & (marks < hi)]
        ticks = LogLocator(subs=(1.0,) if decades > 4 else (1.0, 3.0))
        return np.concatenate([[floor], marks, [hi]]), LogNorm(floor, hi), floor, ticks
    if not hi > lo:
        lo, hi = lo - max(1.0, abs(lo)) * 0.01, hi + max(1.0, abs(hi)) * 0.01
    locator = MaxNLocator(nbins=20, steps=[1, 2, 2.5, 5, 10])
    marks = np.asarray(locator.tick_values(lo, hi))
    marks = marks[(marks >= lo) & (marks <= hi)]
    if marks.size < 2:
        marks = np.array([lo, hi])
    return marks, None, None, MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10])


def filled_contour(ax, x: np.ndarray, y: np.ndarray, values: np.ndarray, lines: bool = True):
    """``values`` (one row per ``x``) as a filled contour at :func:`levels` (``lines``: white lines
    at every third level); returns the filled set and the ticks for its colour bar."""
    marks, norm, floor, ticks = levels(values)
    shown = contour_values(values)
    if floor is not None:  # log levels: values below the lowest level drawn at it
        shown = np.maximum(shown, floor)
    filled = ax.contourf(x, y, shown.T, levels=marks, norm=norm, cmap="viridis", extend="both")
    if lines:
        ax.contour(x, y, shown.T, levels=marks[::3], colors="white", linewidths=0.5, alpha=0.5)
    return filled, ticks


def colorbar(fig, filled, axes, word: str, ticks) -> None:
    """A colour bar beside ``axes`` with round ticks, its word above it (not beside a
    neighbouring panel's axis label)."""
    bar = fig.colorbar(filled, ax=axes, ticks=ticks, format=FORMAT)
    bar.ax.minorticks_off()
    bar.ax.set_title(word, fontsize=10)

"""Contour levels and colour-bar ticks at round numbers (1e3, 300, 50), never 1.48e+03 or 263."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.ticker import FixedLocator, FuncFormatter

from gdlab._levels import LIMIT, contour_levels


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
    """(levels, norm or None, floor or None, tick locator) for a filled contour of ``values``:
    the levels of :func:`gdlab._levels.contour_levels`, the rule the lab page follows too."""
    found = contour_levels(values)
    marks = found.values
    norm = LogNorm(found.floor, marks[-1]) if found.log else None
    return marks, norm, found.floor, FixedLocator(found.ticks.tolist())


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

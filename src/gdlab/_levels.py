"""Contour levels of a loss over a grid: one rule for the pictures, the animations and the lab
page, so that a landscape has the same levels on the page as in a GIF.

Log-spaced at 1, 2 and 5 per decade (more when there are few decades) when the values are
positive and span over two orders of magnitude; else evenly spaced round numbers. Log levels
reach at most :data:`ABOVE` decades above the grid's typical (median) value and span at most
:data:`DECADES`: a window that takes in a region where the loss explodes (an exponential whose
rate has turned negative: 1e26 beside a minimum of 1e3) would otherwise set every colour by that
region, and draw the rest, where the paths run, in one colour. Values past the top are drawn in
the top colour, as values below the floor are in the lowest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["LIMIT", "Levels", "contour_levels"]

# Levels stay well inside the floats (matplotlib extends filled contours with levels at +-1e250).
LIMIT = 1e200
_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
# Log levels: at most this many decades from the lowest to the highest, the highest at most ABOVE
# decades above the median of the positive values.
DECADES = 6
ABOVE = 3


@dataclass(frozen=True)
class Levels:
    """Where a filled contour changes colour, and the colour bar's ticks.

    Attributes:
        values: the levels, increasing (the first and last are the values' least and largest,
            or the floor and the top of log levels).
        log: whether they are log-spaced (colours then follow the logarithm of the loss).
        floor: the lowest log level (values below it are drawn at it), or None.
        ticks: round numbers for the colour bar, within the levels.
    """

    values: np.ndarray
    log: bool
    floor: float | None
    ticks: np.ndarray

    def to_dict(self) -> dict[str, object]:
        return {"levels": self.values.tolist(), "log": self.log, "ticks": self.ticks.tolist()}


def contour_levels(values: np.ndarray) -> Levels:
    """The levels of a filled contour of ``values`` (non-finite values are left out)."""
    values = np.asarray(values, dtype=float)
    finite = np.clip(values[np.isfinite(values)], -LIMIT, LIMIT)
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if lo >= 0 and hi > 0 and hi / max(lo, hi * 1e-12) > 100:
        top = min(hi, float(np.median(finite[finite > 0])) * 10.0**ABOVE)
        return _log_levels(max(lo, top * 10.0**-DECADES), top)
    if not hi > lo:
        lo, hi = lo - max(1.0, abs(lo)) * 0.01, hi + max(1.0, abs(hi)) * 0.01
    marks = _even(lo, hi, 20)
    if marks.size < 2:
        marks = np.array([lo, hi])
    return Levels(marks, False, None, _even(lo, hi, 6))


def _log_levels(floor: float, hi: float) -> Levels:
    decades = math.log10(hi / floor)
    subs = (1.0, 2.0, 5.0) if decades > 4 else (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)
    powers = range(math.floor(math.log10(floor)), math.ceil(math.log10(hi)) + 1)
    marks = np.array([s * 10.0**k for k in powers for s in subs])
    inside = marks[(marks > floor) & (marks < hi)]
    ticks = np.array([s * 10.0**k for k in powers for s in ((1.0,) if decades > 4 else (1.0, 3.0))])
    ticks = ticks[(ticks >= floor) & (ticks <= hi)]
    return Levels(np.concatenate([[floor], inside, [hi]]), True, floor, ticks)


def _even(lo: float, hi: float, bins: int) -> np.ndarray:
    """Round numbers a round step apart (1, 2, 2.5 or 5 times a power of ten), from ``lo`` to ``hi``."""
    raw = (hi / 2 - lo / 2) * 2 / bins
    scale = 10.0 ** math.floor(math.log10(raw))
    step = next(s * scale for s in _STEPS if s * scale >= raw * (1 - 1e-9))
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return np.arange(first, last + 1) * step

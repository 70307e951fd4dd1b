"""Where a legend or the step counter goes: a corner the paths and the curve never cross.

matplotlib's ``loc="best"`` looks at the lines as they are when the legend is
drawn; an animation draws its background while the paths are still empty, so
the legend would land on them later. Here every point a path will visit, and
the curve, are known beforehand: boxes are placed against all of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes

from gdlab.render._view import drawable

# Candidate places, in order of preference, as matplotlib legend locations with the
# axes-fraction corner of the box they anchor.
SPOTS = {
    "upper left": (0.0, 1.0),
    "upper right": (1.0, 1.0),
    "lower left": (0.0, 0.0),
    "lower right": (1.0, 0.0),
    "upper center": (0.5, 1.0),
    "lower center": (0.5, 0.0),
    "center left": (0.0, 0.5),
    "center right": (1.0, 0.5),
}
MARGIN = 0.02  # the gap matplotlib leaves between a legend and the spines, roughly
STEP = 0.004  # a path is sampled this often (in axes fractions) between its points


def axes_points(ax: Axes, xy: np.ndarray) -> np.ndarray:
    """Data points (n, 2), and the segments between them, as axes fractions inside the axes."""
    with np.errstate(all="ignore"):
        frac = (ax.transScale + ax.transLimits).transform(drawable(xy))
    ok = np.all(np.isfinite(frac), axis=1)  # a NaN breaks the line, as matplotlib draws it
    points = frac[ok & _inside(np.nan_to_num(frac, nan=-1.0))]
    if len(frac) < 2:
        return points
    joined = ok[:-1] & ok[1:]
    return np.concatenate([points, _sample_segments(frac[:-1][joined], frac[1:][joined])])


def _inside(p: np.ndarray) -> np.ndarray:
    return np.all((p >= 0) & (p <= 1), axis=1)


def _sample_segments(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Points along each segment a->b, clipped to the unit square first (Liang-Barsky)."""
    d = b - a
    t0, t1 = np.zeros(len(a)), np.ones(len(a))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(2):
            low, high = (0 - a[:, k]) / d[:, k], (1 - a[:, k]) / d[:, k]
            still = d[:, k] == 0
            t0 = np.where(still, t0, np.maximum(t0, np.minimum(low, high)))
            t1 = np.where(still, t1, np.minimum(t1, np.maximum(low, high)))
            outside = still & ((a[:, k] < 0) | (a[:, k] > 1))
            t1 = np.where(outside, -1.0, t1)
    keep = t1 >= t0
    a, d, t0, t1 = a[keep], d[keep], t0[keep], t1[keep]
    length = np.hypot(*(d * (t1 - t0)[:, None]).T)
    counts = np.minimum(np.ceil(length / STEP).astype(int), 1000) + 1
    which = np.repeat(np.arange(len(a)), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    t = t0[which] + (t1 - t0)[which] * within / np.maximum(counts[which] - 1, 1)
    return a[which] + d[which] * t[:, None]


def box_at(spot: str, size: tuple[float, float]) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) in axes fractions of a box of ``size`` placed at ``spot``."""
    (ax_, ay), (w, h) = SPOTS[spot], size
    left = MARGIN + ax_ * (1 - w - 2 * MARGIN)
    bottom = MARGIN + ay * (1 - h - 2 * MARGIN)
    return left, bottom, left + w, bottom + h


def _hits(points: np.ndarray, box: tuple[float, float, float, float], pad: float = 0.01) -> int:
    left, bottom, right, top = box
    inside = (
        (points[:, 0] >= left - pad)
        & (points[:, 0] <= right + pad)
        & (points[:, 1] >= bottom - pad)
        & (points[:, 1] <= top + pad)
    )
    return int(inside.sum())


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def free_spot(
    points: np.ndarray,
    size: tuple[float, float],
    taken: Sequence[tuple[float, float, float, float]] = (),
    spots: Sequence[str] = tuple(SPOTS),
) -> str | None:
    """The first of ``spots`` where a box of ``size`` covers none of ``points`` nor ``taken``."""
    for spot in spots:
        box = box_at(spot, size)
        if _hits(points, box) == 0 and not any(_overlaps(box, other) for other in taken):
            return spot
    return None


def fraction_size(ax: Axes, artist, shrink: float = 0.8) -> tuple[float, float]:
    """An artist's size as fractions of the axes, allowing for the layout shrinking the axes."""
    canvas = ax.figure.canvas
    if hasattr(canvas, "get_renderer"):
        renderer = canvas.get_renderer()
    else:  # a figure without a canvas that draws (a user's ax=): measure as Agg would
        from matplotlib.backends.backend_agg import RendererAgg

        width, height = ax.figure.bbox.size
        renderer = RendererAgg(int(width), int(height), ax.figure.dpi)
    box = artist.get_window_extent(renderer)
    frame = ax.get_position().transformed(ax.figure.transFigure)
    return box.width / (frame.width * shrink), box.height / (frame.height * shrink)

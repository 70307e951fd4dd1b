"""Which rows of the paths frame a picture: one rule for the pictures, the animations and the
lab page (which receives the window from /api/run), so they show the same race.

A run that diverged, or ended above where it began, frames only its rows no higher than its
start: one huge rate (4.01, 100) must not zoom the window out to +-30,000 and hide the others.
It still shows, pinned at the window's edge where it leaves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gdlab._trajectory import Status, Trajectory

__all__ = ["LIMIT", "framed_rows", "padded", "path_box", "path_points"]

# Axis limits and drawn values stay inside this, so a loss near the largest float
# can be padded, transformed and rasterised without overflowing.
LIMIT = 1e300


def padded(lo: float, hi: float, share: float) -> tuple[float, float]:
    """``(lo, hi)`` widened by ``share`` of their span on each side, finite however large they are."""
    lo, hi = min(max(lo, -LIMIT), LIMIT), min(max(hi, -LIMIT), LIMIT)
    pad = share * (hi / 2 - lo / 2) * 2 if hi > lo else share * max(1.0, abs(hi))
    return lo - pad, hi + pad


def framed_rows(t: Trajectory, cap: float) -> np.ndarray:
    """Rows of ``t`` worth framing: finite, at most ``cap``, and, for a run whose loss rose
    (diverged, or ended above its start), no higher than its start's loss."""
    ok = np.isfinite(t.loss) & np.all(np.isfinite(t.flat_params()), axis=1)
    start, end = float(t.loss[0]), float(t.loss[-1])
    rose = t.status is Status.DIVERGED or not end <= start
    return ok & (t.loss <= (min(cap, start) if rose and np.isfinite(start) else cap))


def path_points(items: Sequence[Trajectory]) -> np.ndarray:
    """The framed rows of every path, (rows, components); every start is among them."""
    cap = 10 * max(max(abs(float(t.loss[0])) for t in items), 1e-12)
    rows = [t.flat_params()[framed_rows(t, cap)] for t in items]
    starts = [t.flat_params()[:1] for t in items if np.all(np.isfinite(t.flat_params()[0]))]
    return np.concatenate(rows + starts)


def path_box(items: Sequence[Trajectory], share: float) -> list[tuple[float, float]]:
    """(low, high) per component around the framed rows of ``items``, padded by ``share``."""
    points = path_points(items)
    lo, hi = points.min(axis=0), points.max(axis=0)
    return [padded(float(a), float(b), share) for a, b in zip(lo, hi, strict=True)]

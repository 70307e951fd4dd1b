"""Which steps of a long trajectory become frames of an animation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gdlab._checks import InputError


def pick_frames(
    last_step: int, frames: int | Sequence[int] | None = None, spacing: str = "linear"
) -> np.ndarray:
    """Steps to show, from 0 to ``last_step``, always including both ends.

    Args:
        last_step: the largest step of the trajectories shown.
        frames: how many frames (default: every step, up to 100), or the steps themselves.
        spacing: ``"linear"`` (even) or ``"log"`` (dense at the start, where a
            descent moves fastest, then sparser).

    Returns:
        Sorted unique step numbers.

    Example:
        >>> pick_frames(10000, 6, "linear").tolist()
        [0, 2000, 4000, 6000, 8000, 10000]
        >>> pick_frames(10000, 8, "log").tolist()
        [0, 3, 13, 51, 192, 719, 2682, 10000]
    """
    if spacing not in ("linear", "log"):
        raise InputError(f"spacing must be 'linear' or 'log'; got {spacing!r}")
    if frames is not None and not isinstance(frames, int | np.integer):
        steps = np.unique(np.asarray(frames, dtype=int))
        if steps.size == 0 or steps[0] < 0 or steps[-1] > last_step:
            raise InputError(
                lambda s: f"{s.name('frames')} must be steps between 0 and {last_step}; got {frames!r}",
                parameter="frames",
            )
        return steps
    count = min(last_step + 1, 100) if frames is None else int(frames)
    if count < 1:
        raise InputError(
            lambda s: f"{s.name('frames')} must be at least 1; got {frames!r}", parameter="frames"
        )
    count = min(count, last_step + 1)
    if count == 1:
        return np.array([last_step])
    if spacing == "linear":
        return np.unique(np.round(np.linspace(0, last_step, count)).astype(int))
    chosen: list[int] = []
    previous = -1
    for i, g in enumerate(np.geomspace(1, last_step + 1, count)):
        step = max(round(float(g)) - 1, previous + 1)
        step = min(step, last_step - (count - 1 - i))
        chosen.append(step)
        previous = step
    return np.array(chosen)

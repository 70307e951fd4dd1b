"""Inline display in Jupyter: a trajectory shows as its summary over an animation player.

``import gdlab`` registers :func:`trajectory_html` with a running IPython by
name, so that neither IPython nor drawing is imported until a trajectory is
first shown. Animations show through their own ``_repr_html_``, and figures
from :func:`gdlab.plot` through their ``_repr_png_``.
"""

from __future__ import annotations

import html

from gdlab._checks import InputError
from gdlab._trajectory import Trajectory
from gdlab.render import animate

# Small and quick to build: a notebook draws these every time a cell shows one.
NOTEBOOK_FRAMES = 60
NOTEBOOK_SIZE = (560, 420)


def trajectory_html(trajectory: Trajectory) -> str | None:
    """The trajectory's summary over an animation of it, or None when it cannot be drawn.

    None (a two-parameter trajectory without its loss, say) lets the notebook
    fall back to the plain summary instead of printing an error.
    """
    spacing = "log" if trajectory.steps > 10 * NOTEBOOK_FRAMES else "linear"
    try:
        movie = animate(trajectory, frames=NOTEBOOK_FRAMES, spacing=spacing, size=NOTEBOOK_SIZE)
    except InputError:
        return None
    return f"<pre>{html.escape(repr(trajectory))}</pre>\n{movie.to_html()}"

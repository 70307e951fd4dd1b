"""Inline display in Jupyter: trajectories, lists of them and animations show as players."""

from __future__ import annotations

import html
import sys

# Small and quick to build: a notebook draws these every time a cell shows one.
NOTEBOOK_FRAMES = 60
NOTEBOOK_SIZE = (560, 420)


def trajectories_html(trajectories: list, summary: str) -> str:
    """An animation player of ``trajectories`` under a text summary."""
    from gdlab.render import animate

    items = list(trajectories)
    longest = max(t.steps for t in items)
    spacing = "log" if longest > 10 * NOTEBOOK_FRAMES else "linear"
    movie = animate(items, frames=NOTEBOOK_FRAMES, spacing=spacing, size=NOTEBOOK_SIZE)
    return f"<pre>{html.escape(summary)}</pre>\n{movie.to_html()}"


def _list_html(value: object) -> str | None:
    from gdlab._trajectory import Trajectory

    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(item, Trajectory) for item in value):
        return None
    sizes = {item.flat_params().shape[1] for item in value}
    if len(sizes) != 1:
        return None
    return trajectories_html(value, "\n\n".join(repr(item) for item in value))


def register_formatters() -> None:
    """Show a list of trajectories as one animation, when running inside IPython."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    shell.display_formatter.formatters["text/html"].for_type(list, _list_html)

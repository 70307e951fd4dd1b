"""Figures of gdlab's own, which a notebook shows as pictures.

gdlab draws on matplotlib ``Figure`` objects with an Agg canvas of their own,
never through pyplot: scripts, the command line and servers then keep no
global list of open figures and need no display. Jupyter, though, shows a
bare ``Figure`` only after pyplot's inline backend has been loaded (loading it
registers the display), and a figure pyplot does not manage is not shown by
``plt.show()`` either; so a figure from :func:`gdlab.plot` would print as
``<Figure size 1000x480 with 2 Axes>``. :class:`InlineFigure` hands IPython its
own PNG instead.
"""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gdlab._checks import LIMITS, InputError


class InlineFigure(Figure):
    """A matplotlib ``Figure`` that shows as a PNG picture when a notebook displays it."""

    def _repr_png_(self) -> bytes:
        from gdlab.render._writers import to_bytes

        return to_bytes(self, "png", animated=False)


def new_figure(size: tuple[int, int], dpi: float) -> InlineFigure:
    """An empty figure of ``size`` (width, height) pixels, with its own Agg canvas."""
    if not (len(size) == 2 and min(size) >= 64):
        raise InputError(f"size must be (width, height) in pixels, each >= 64; got {size!r}")
    if size[0] * size[1] > LIMITS.picture_pixels:  # checked before the canvas is drawn
        raise InputError(
            f"size {size[0]:,} x {size[1]:,} is {size[0] * size[1]:,} pixels, more than a picture may have "
            f"({LIMITS.picture_pixels:,}, gdlab.LIMITS.picture_pixels): give a smaller size, such as "
            "(2000, 1500) for print",
            parameter="size",
        )
    if not dpi > 0:
        raise InputError(f"dpi must be a number > 0; got {dpi!r}")
    figure = InlineFigure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure

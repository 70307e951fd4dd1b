"""How runs and regimes are drawn: one table that the pictures, the animations and the lab page
all read, so a run looks the same in a GIF and on the page.

Colour is never the only cue: the runs' colours are Okabe and Ito's palette for colour-blind
readers (distinct under deuteranopia and protanopia, tested with Machado's simulation), and
each run has its own dash pattern too, so runs stay apart in grey print and past six colours.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "COLORS",
    "DASHES",
    "FIT_COLOURS",
    "MARKERS",
    "REGIME_COLOURS",
    "REGIME_MARKERS",
    "RunStyle",
    "run_style",
    "run_styles",
]

# Okabe & Ito (2008), "Color Universal Design": vermillion, blue, bluish green, orange, reddish
# purple, sky blue. Black is the start's mark and yellow is faint on white, so they are left out.
COLORS = ("#D55E00", "#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9")

# Dash patterns as on-off lengths in line widths (() is a solid line). Four patterns against six
# colours: twelve runs get twelve different pairs, and two runs of one colour differ in dash.
DASHES: tuple[tuple[float, ...], ...] = ((), (5.0, 2.0), (1.0, 1.5), (5.0, 2.0, 1.0, 2.0))


@dataclass(frozen=True)
class RunStyle:
    """How run number ``i`` is drawn: its colour and its line's dash pattern.

    Attributes:
        colour: ``#rrggbb``.
        dash: on-off lengths in line widths; empty for a solid line.
    """

    colour: str
    dash: tuple[float, ...]

    @property
    def linestyle(self) -> str | tuple[float, tuple[float, ...]]:
        """The dash as matplotlib writes a line style (``"-"``, or an offset and on-off lengths)."""
        return (0.0, self.dash) if self.dash else "-"

    def to_dict(self) -> dict[str, object]:
        return {"colour": self.colour, "dash": list(self.dash)}


def run_style(i: int) -> RunStyle:
    """How the ``i``-th run (from 0) is drawn, in every picture, animation and on the page."""
    return RunStyle(COLORS[i % len(COLORS)], DASHES[i % len(DASHES)])


def run_styles(count: int) -> list[RunStyle]:
    """The first ``count`` runs' styles, in order."""
    return [run_style(i) for i in range(count)]


# The colour of each regime, by its name, from the same palette (green and red told apart by
# colour-blind readers too): the sweep picture draws with these, and the lab page receives them
# from /api/methods. Each regime also has its own marker (REGIME_MARKERS), so a reader who cannot
# tell the colours apart tells the shapes apart.
REGIME_COLOURS: dict[str, str] = {
    "converged": "#009E73",
    "slow": "#56B4E9",
    "oscillating": "#E69F00",
    "diverged": "#D55E00",
    "stalled": "#555555",
}

# Each regime's marker, by plotly's name (the page draws with these names); MARKERS gives
# matplotlib's letter for each, so the pictures draw the same shapes.
REGIME_MARKERS: dict[str, str] = {
    "converged": "circle",
    "slow": "square",
    "oscillating": "diamond",
    "diverged": "triangle-up",
    "stalled": "x",
}
MARKERS: dict[str, str] = {"circle": "o", "square": "s", "diamond": "D", "triangle-up": "^", "x": "X"}

# A fit's picture, still or moving, by role: its data, its fitted curve (the first run's colour, as
# a descent's path), the reference solution faint behind it (the closed form, or lm beside a
# descent), and its residuals (the second run's colour).
FIT_COLOURS: dict[str, str] = {
    "data": "#404040",
    "fitted": COLORS[0],
    "reference": "#8C8C8C",
    "residual": COLORS[1],
}

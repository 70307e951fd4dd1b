"""The colours of runs and of regimes: one table that the pictures, the animations and the lab
page all read, so a run is the same colour in a GIF and on the page."""

from __future__ import annotations

__all__ = ["COLORS", "REGIME_COLOURS"]

# The runs' colours, in order: every picture, animation and the lab page draw runs in these.
COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")

# The colour of each regime, by its name: the sweep picture draws with these, and the lab page
# receives them from /api/methods (its built-in copy is only for a backend too old to send them).
REGIME_COLOURS: dict[str, str] = {
    "converged": "#2ca02c",
    "slow": "#bcbd22",
    "oscillating": "#ff7f0e",
    "diverged": "#d62728",
    "stalled": "#7f7f7f",
}

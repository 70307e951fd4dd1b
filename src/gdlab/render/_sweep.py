"""A picture of a learning-rate sweep: what each rate did, and the 2/L bound."""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gdlab._checks import InputError
from gdlab._colours import MARKERS, REGIME_COLOURS, REGIME_MARKERS
from gdlab._sweep import Sweep
from gdlab._trajectory import Regime, flat_rows
from gdlab.render._figure import new_figure
from gdlab.render._fonts import drawn_language, font_family
from gdlab.render._words import SWEEP_WORDS

REGIME_COLORS = {regime: REGIME_COLOURS[regime.value] for regime in Regime}


def plot_sweep(
    result: Sweep,
    *,
    title: str | None = None,
    size: tuple[int, int] = (800, 600),
    dpi: int = 100,
    lang: str = "en",
) -> Figure:
    """Final loss and steps to converge against the rate, regimes as colour bands, and 2/L.

    Args:
        result: what :func:`gdlab.sweep` returned.
        title: a title (default: the method and the number of runs).
        size: (width, height) in pixels.
        dpi: dots per inch.
        lang: ``"en"`` or ``"ko"`` for the picture's words (the regimes in the lab page's words).

    Returns:
        A matplotlib ``Figure`` with two panels sharing the log-scaled rate axis.

    Example:
        >>> import gdlab
        >>> rates = gdlab.sweep("(b/2-1)^2", -10.0, lrs=[0.5, 2, 5], steps=50)
        >>> figure = gdlab.plot_sweep(rates)
        >>> len(figure.axes), figure.axes[-1].get_xlabel()
        (2, 'learning rate')
    """
    if not isinstance(result, Sweep):
        raise InputError("plot_sweep takes the result of gdlab.sweep")
    w = sweep_words(lang, title)
    with mpl.rc_context({"font.family": font_family(), "axes.unicode_minus": False}):
        fig = new_figure(size, dpi)
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        starts = _per_start(result)
        for ax in (top, bottom):
            _bands(ax, result, starts[0])
            ax.set_xscale("log")
            ax.grid(alpha=0.3, which="both")
        _final_losses(top, result, starts, w)
        _steps_taken(bottom, result, starts, w)
        _bound(top, bottom, result, w)
        seen = set(result.regime)  # only the regimes that occurred
        handles = [_regime_handle(r, w) for r in REGIME_COLORS if r in seen]
        top.legend(handles=handles + top.get_legend_handles_labels()[0], loc="best", fontsize=9)
        top.set_title(title or w["title"].format(method=result.method, runs=len(result), steps=result.steps))
    return fig


def sweep_words(lang: str, title: str | None = None) -> dict[str, str]:
    """The words of a sweep's or a phase diagram's picture in ``lang`` (checked), English where no
    font can draw Hangul (with a warning, as the descents' pictures)."""
    return SWEEP_WORDS[drawn_language(lang, [*SWEEP_WORDS.get(lang, {}).values(), title or ""])]


def _regime_handle(regime: Regime, w: dict[str, str]) -> Line2D:
    """The legend's entry for a regime: its band's colour behind its marker."""
    colour = REGIME_COLORS[regime]
    return Line2D(
        [],
        [],
        ls="",
        marker=MARKERS[REGIME_MARKERS[regime.value]],
        ms=7,
        color=colour,
        markeredgecolor=colour,
        label=w[regime.value],
    )


def _per_start(result: Sweep) -> list[np.ndarray]:
    """Run indices for each start, in rate order (runs are rate-major)."""
    count = len(result) // np.unique(result.lrs).size
    return [np.arange(s, len(result), count) for s in range(count)]


def _bands(ax, result: Sweep, runs: np.ndarray) -> None:
    lrs = result.lrs[runs]
    edges = np.sqrt(lrs[1:]) * np.sqrt(lrs[:-1]) if lrs.size > 1 else np.array([])  # no overflow
    low = np.concatenate([[lrs[0] / 1.5], edges])
    high = np.concatenate([edges, [lrs[-1] * 1.5]])
    for lo, hi, i in zip(low, high, runs, strict=True):
        ax.axvspan(lo, hi, color=REGIME_COLORS[result.regime[i]], alpha=0.25, lw=0)
    ax.set_xlim(low[0], high[-1])


def _final_losses(ax, result: Sweep, starts: list[np.ndarray], w: dict[str, str]) -> None:
    """Each run's final loss, marked with its regime's colour and shape."""
    _marked(ax, result, starts, result.final_loss, w["final loss"], w)
    ax.set_ylabel(w["final loss"])


def _marked(
    ax, result: Sweep, starts: list[np.ndarray], values: np.ndarray, label: str, w: dict[str, str]
) -> None:
    """One value per run on a log axis, joined per start, each marked with its regime's colour and
    shape (so the regimes read in grey print too). An infinite value is drawn at the top; one of
    exactly 0 cannot sit on a log axis, so it is drawn on the panel's floor as a hollow mark, and
    the legend says so."""
    finite = values[np.isfinite(values) & (values > 0)]
    top = min(float(finite.max()), 1e299) * 10 if finite.size else 1.0
    floor = max(float(finite.min()), 1e-300) / 100 if finite.size else 1e-300
    zero = np.isfinite(values) & (values <= 0)
    shown = np.clip(np.where(np.isfinite(values), values, top), floor, top)
    shown = np.where(np.isnan(values), np.nan, shown)  # a value that is not a number is left out
    for s, runs in enumerate(starts):
        alpha = 1 if s == 0 else 0.5
        name = label if len(starts) == 1 else w["start"].format(label=label, s=s)
        ax.plot(result.lrs[runs], shown[runs], "-", color="0.2", lw=1, alpha=alpha, label=name)
        for regime in dict.fromkeys(result.regime[i] for i in runs):
            mine = runs[[result.regime[i] is regime for i in runs]]
            colour = REGIME_COLORS[regime]
            ax.scatter(
                result.lrs[mine],
                shown[mine],
                s=22,
                marker=MARKERS[REGIME_MARKERS[regime.value]],
                facecolors=["white" if z else colour for z in zero[mine]],
                edgecolors=colour,
                linewidths=1.2,
                zorder=3,
                alpha=alpha,
            )
    if zero.any():
        ax.scatter([], [], s=22, marker="o", facecolors="white", edgecolors="0.2", label=w["zero"])
    ax.set_yscale("log", nonpositive="clip")
    if zero.any():
        ax.set_ylim(floor / 3, None)


def _steps_taken(ax, result: Sweep, starts: list[np.ndarray], w: dict[str, str]) -> None:
    """Steps to converge; when no run stopped early, each run's final gradient norm instead."""
    converged = np.array([r is Regime.CONVERGED for r in result.regime])
    stopped = converged & (result.steps_taken < result.steps)
    ax.set_xlabel(w["learning rate"])
    if not stopped.any():
        _final_gradients(ax, result, starts, w)
        return
    for s, runs in enumerate(starts):
        steps = np.where(stopped[runs], result.steps_taken[runs].astype(float), np.nan)
        ax.plot(result.lrs[runs], steps, ".-", color="0.2", lw=1, ms=4, alpha=1 if s == 0 else 0.5)
    ax.set_ylabel(w["steps to converge"])
    ax.set_yscale("log")


def _final_gradients(ax, result: Sweep, starts: list[np.ndarray], w: dict[str, str]) -> None:
    """Each run's gradient norm at its end: how far from flat it stopped."""
    flat = flat_rows(result.final_grad, len(result)).astype(float)
    with np.errstate(over="ignore", invalid="ignore"):
        norm = np.sqrt(np.sum(np.square(np.clip(flat, -1e150, 1e150)), axis=1))
    _marked(ax, result, starts, norm, w["final gradient norm"], w)
    ax.set_ylabel(w["final gradient norm"])
    early = np.flatnonzero(result.steps_taken < result.steps)  # stopped, but none converged
    if early.size:
        kinds = ", ".join(sorted({w[result.regime[i].value] for i in early}))
        why = w["none met"].format(steps=result.steps, count=early.size, kinds=kinds)
    else:
        why = w["none stopped"].format(steps=result.steps)
    why += "" if result.tol is not None else w["give tol"]
    ax.set_title(why, fontsize=9, color="0.25")


def _bound(top, bottom, result: Sweep, w: dict[str, str]) -> None:
    stability = result.stability
    if stability is None or not math.isfinite(stability.critical_lr):
        return
    bound = stability.critical_lr
    for ax in (top, bottom):
        ax.axvline(bound, color="black", ls="--", lw=1.2)
    whose = "" if result.method in ("gd", "sign") else w["plain bound"]
    top.plot([], [], color="black", ls="--", label=f"2/L = {bound:.4g}{whose}")
    best = stability.best_lr
    if best is not None and not math.isclose(best, bound, rel_tol=1e-2):  # else one line shows both
        for ax in (top, bottom):
            ax.axvline(best, color="0.4", ls=":", lw=1.2)
        top.plot([], [], color="0.4", ls=":", label=f"2/(mu+L) = {best:.4g}")

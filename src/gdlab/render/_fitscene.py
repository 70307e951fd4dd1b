"""A fit as a moving picture: the data, the curve at each step's coefficients, the residuals.

The curves are computed once for the steps that become frames (one matrix
product for a linear model, one vectorised call of the formula for ``model=``);
each frame then only moves two lines, the residuals and one line of text over
a background drawn once, like every other :class:`~gdlab.render._scene.Scene`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.text import Text

from gdlab._checks import InputError
from gdlab.render._fonts import font_family
from gdlab.render._scene import WORDS, Scene, scene_figure
from gdlab.render._view import drawable, padded

if TYPE_CHECKING:
    from gdlab.fitting._result import Fit
    from gdlab.render._scene import Options

GRID = 200
# How far beyond the data the curves may take the vertical axis, in data spans: a start
# far from the data shows the curve arriving; one further away is clipped at the edge.
REACH = 1.5
# At most this many rows are drawn (a fixed sample of larger data): a frame stays quick, and
# the fitted values kept for every frame stay small.
MAX_POINTS = 2000
STEMS = 200
CURVE, REFERENCE, DATA, RESIDUAL = "#d62728", "0.55", "0.25", "#1f77b4"
ITERATIVE = "'gd', 'momentum', 'adam', 'newton', 'lbfgs' or 'sgd' ('lm' or 'gauss-newton' for a formula)"


@dataclass(frozen=True)
class FitCurves:
    """What the frames show, computed once.

    Attributes:
        x: the regressor's values at the data rows; ``y`` the response.
        grid: where the curves are evaluated (the data's range).
        steps: the steps computed (the frames' steps), in order.
        coef: the coefficients at each of those steps, in original units.
        curves: the fitted curve on ``grid`` at each step, (steps, GRID).
        fitted: the fitted values at the data rows at each step, (steps, n).
        reference: the reference solution's curve on ``grid``.
        rows: the rows in the data (``x`` holds at most :data:`MAX_POINTS` of them).
    """

    x: np.ndarray
    y: np.ndarray
    grid: np.ndarray
    steps: np.ndarray
    coef: np.ndarray
    curves: np.ndarray
    fitted: np.ndarray
    reference: np.ndarray
    rows: int

    def row(self, step: int) -> int:
        """The row of the last computed step at or before ``step``."""
        return max(int(np.searchsorted(self.steps, step, side="right")) - 1, 0)


def drawable_fit(fit: object) -> Fit:
    """``fit`` checked for an animation: iterative, one regressor, its data kept."""
    from gdlab.fitting._result import Fit

    if not isinstance(fit, Fit):
        raise InputError("give a Fit (from gdlab.fit)")
    if fit.trajectory is None:
        raise InputError(
            lambda s: (
                f"a {fit.method} fit is solved in closed form and has no steps to animate: "
                f"fit with {s.setting('method', ITERATIVE)}, or draw this one as a picture"
            ),
            parameter="method",
        )
    if fit._data is None:
        raise InputError("this fit keeps no data to draw")
    if len(fit.x) != 1:
        columns = ", ".join(fit.x) or "none"
        raise InputError(
            f"an animated fit draws y against one regressor; this fit has {len(fit.x)} ({columns}): "
            "draw it with fit.plot() (observed against fitted, and the residuals), or animate "
            "fit.trajectory to watch the coefficients"
        )
    return fit


def predictions(fit: Fit, column: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """The fit's predictions at ``column`` (its one regressor) for each row of ``coef``: (rows, n)."""
    rows = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    if fit._predictor is not None:  # a formula: parsed once, evaluated for every row at once
        import jax
        import jax.numpy as jnp

        from gdlab._expr import parse

        predictor = fit._predictor
        expression = parse(predictor.model, data={predictor.columns[0]: np.asarray(column)})
        call = lambda b: expression.function(dict(zip(predictor.params, b, strict=True)))  # noqa: E731
        values = np.asarray(jax.vmap(call)(jnp.asarray(rows)))
        return np.broadcast_to(values.reshape(len(rows), -1), (len(rows), column.size)).copy()
    design = np.column_stack([np.ones_like(column), column]) if fit.intercept else column[:, None]
    eta = rows @ design.T
    if fit.family == "logistic":
        with np.errstate(over="ignore"):
            return 1 / (1 + np.exp(-eta))
    return eta


def fit_curves(fit: Fit, steps: np.ndarray) -> FitCurves:
    """The curves and fitted values at ``steps`` (each clipped to the fit's last step)."""
    fit = drawable_fit(fit)
    x = np.asarray(fit._data[fit.x[0]], dtype=np.float64)
    y = np.asarray(fit._data[fit.y], dtype=np.float64)
    grid = np.linspace(float(x.min()), float(x.max()), GRID)
    rows = x.size
    if rows > MAX_POINTS:  # the same sample every time: frames and pictures agree
        keep = np.sort(np.random.default_rng(0).choice(rows, MAX_POINTS, replace=False))
        x, y = x[keep], y[keep]
    shown = np.minimum(np.asarray(steps, dtype=int), fit.trajectory.steps)  # type: ignore[union-attr]
    coef = fit.coefficient_path()[shown]
    # One call for the steps and the reference (its last row): a formula is parsed and compiled once.
    both = predictions(fit, np.concatenate([grid, x]), np.vstack([coef, fit.closed_form]))
    return FitCurves(x, y, grid, shown, coef, both[:-1, :GRID], both[:-1, GRID:], both[-1, :GRID], rows)


def _data_limits(c: FitCurves, logistic: bool) -> tuple[float, float]:
    if logistic:
        return -0.08, 1.08
    lo, hi = float(c.y.min()), float(c.y.max())
    span = max(hi - lo, 1e-12 * max(abs(lo), abs(hi), 1.0))
    curves = drawable(c.curves[np.isfinite(c.curves)])
    if curves.size:
        lo = max(min(lo, float(curves.min())), lo - REACH * span)
        hi = min(max(hi, float(curves.max())), hi + REACH * span)
    return padded(lo, hi, 0.06)


def _residual_scale(ax, residuals: np.ndarray, final: np.ndarray) -> None:
    """A linear scale when the residuals keep their size; else symlog, linear up to the final
    residuals' size, so the last frames' residuals stay readable beside the first ones'."""
    finite = drawable(residuals[np.isfinite(residuals)])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    small = float(np.max(np.abs(final[np.isfinite(final)]), initial=0.0))
    if small > 0 and max(-lo, hi) > 10 * small:
        small = _round_up(small)  # a round number: the ticks near zero stay apart
        lo, hi = max(min(lo, -small), -1e12 * small), min(max(hi, small), 1e12 * small)
        ax.set_yscale("symlog", linthresh=small, linscale=1.5)
        ax.set_ylim(lo * 1.6, hi * 1.6)
        ax.set_title(f"{ax.get_title()} (symlog scale, linear within ±{small:.3g})", fontsize=10)
    else:
        top = max(abs(lo), abs(hi), 1e-300)
        ax.set_ylim(*padded(-top, top, 0.08))


def _round_up(value: float) -> float:
    """The smallest of 1, 2, 5 times a power of 10 that is at least ``value``."""
    power = 10 ** np.floor(np.log10(value))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= value * (1 - 1e-12)))


def fit_scene(fit: Fit, options: Options, steps: np.ndarray) -> Scene:
    """The data with the moving fitted curve (left) and the residuals (right), at ``steps``."""
    fit = drawable_fit(fit)
    c = fit_curves(fit, steps)
    path = fit.trajectory
    assert path is not None  # checked by drawable_fit
    logistic = fit.family == "logistic"
    words = WORDS[options.lang]
    with mpl.rc_context({"font.family": font_family(), "axes.unicode_minus": False}):
        figure = scene_figure(options, (1000, 440))
        scene = Scene(figure, [path], path.steps)
        data_ax, residual_ax = figure.subplots(1, 2, gridspec_kw={"width_ratios": (3, 2)})
        _draw_data(scene, data_ax, fit, c, logistic, options)
        _draw_residuals(scene, residual_ax, fit, c)
        _info(scene, data_ax, fit, c, words)
        figure.suptitle(options.title or _title(fit), fontsize=11)
    return scene


def _title(fit: Fit) -> str:
    formula = fit.model or fit.x[0]
    where = " on standardised regressors" if fit.model is None and fit.standardized else ""
    if fit.model is None and not fit.standardized:
        where = " on the raw columns"
    family = ", logistic" if fit.family == "logistic" else ""
    return f"{fit.y} ~ {formula}{family}: {fit.method}{where}"


def _draw_data(scene: Scene, ax, fit: Fit, c: FitCurves, logistic: bool, options: Options) -> None:
    sample = f" ({c.x.size:,} of {c.rows:,} rows)" if c.x.size < c.rows else ""
    ax.scatter(c.x, c.y, s=18 if not sample else 6, color=DATA, zorder=3, label=f"data{sample}")
    ax.plot(c.grid, c.reference, color=REFERENCE, lw=3, alpha=0.45, zorder=2, label=fit.reference)
    curve = scene.add(Line2D([], [], color=CURVE, lw=2, zorder=4, gid="fitted"))
    ax.add_line(curve)
    ax.set_xlim(*padded(float(c.grid[0]), float(c.grid[-1]), 0.04))
    ax.set_ylim(*(options.ylim or _data_limits(c, logistic)))
    ax.set_xlabel(fit.x[0])
    ax.set_ylabel(f"P({fit.y} = 1)" if logistic else fit.y)
    ax.grid(alpha=0.3)
    handle = Line2D([], [], color=CURVE, lw=2, label=f"{fit.method}, at the step shown")
    handles, _ = ax.get_legend_handles_labels()
    # A logistic curve leaves the middle of one side free (the data lie at 0 and 1).
    where = ("center left" if c.reference[0] < c.reference[-1] else "center right") if logistic else "best"
    ax.legend(handles=[*handles, handle], loc=where, fontsize=9, framealpha=0.85)

    low, high = ax.get_ylim()
    away: Text = scene.add(
        ax.text(0.5, 0.0, "", transform=ax.transAxes, color=CURVE, fontsize=9, ha="center")
    )

    def update(step: int) -> None:
        values = c.curves[c.row(step)]
        curve.set_data(c.grid, drawable(values))
        below, above = bool(np.all(values < low)), bool(np.all(values > high))
        away.set_y(0.03 if below else 0.97)
        away.set_verticalalignment("bottom" if below else "top")
        where = "below" if below else "above"
        lo, hi = f"{np.nanmin(values):.3g}", f"{np.nanmax(values):.3g}"
        span = f"at {lo}" if lo == hi else f"{lo} to {hi}"
        away.set_text(f"{fit.method}'s curve is {where} the chart ({span})" if below or above else "")

    scene.updaters.append(update)


def _draw_residuals(scene: Scene, ax, fit: Fit, c: FitCurves) -> None:
    residuals = c.y[None, :] - c.fitted
    sample = f", {c.x.size:,} of {c.rows:,} rows" if c.x.size < c.rows else ""
    ax.set_title(f"residuals{sample}", fontsize=10)
    _residual_scale(ax, residuals, residuals[-1])
    ax.axhline(0, color="0.5", lw=1)
    ax.set_xlim(*padded(float(c.grid[0]), float(c.grid[-1]), 0.04))
    ax.set_xlabel(fit.x[0])
    ax.set_ylabel(f"{fit.y} − fitted")
    ax.grid(alpha=0.3)
    few = c.x.size <= STEMS  # a stem from zero to each residual; many would be a solid band
    stems = scene.add(Line2D([], [], color=RESIDUAL, lw=1, alpha=0.6, zorder=3, visible=few))
    points = scene.add(
        Line2D([], [], color=RESIDUAL, ls="none", marker="o", ms=4 if few else 2, zorder=4, gid="residuals")
    )
    for artist in (stems, points):
        ax.add_line(artist)
    gaps = np.full_like(c.x, np.nan)

    def update(step: int) -> None:
        r = drawable(residuals[c.row(step)])
        if few:
            zero = np.zeros_like(r)
            stems.set_data(
                np.column_stack([c.x, c.x, gaps]).ravel(), np.column_stack([zero, r, gaps]).ravel()
            )
        points.set_data(c.x, r)

    scene.updaters.append(update)


def _info(scene: Scene, ax, fit: Fit, c: FitCurves, words: dict[str, str]) -> None:
    """Step, loss and coefficients in one line above the data panel (where the title would be)."""
    path = fit.trajectory
    assert path is not None
    last = path.steps

    def label(row: int) -> str:
        step = int(c.steps[row])
        coefs = ", ".join(f"{n} {v:.4g}" for n, v in zip(fit.names, c.coef[row], strict=True))
        ended = f"   ({path.status.value})" if step == last else ""
        loss = f"{words['loss']} {float(path.loss[step]):.4g}"
        return f"{words['step']} {step:,} / {last:,}   {loss}   {coefs}{ended}"

    longest = max((label(i) for i in range(len(c.steps))), key=len)
    title = ax.set_title(longest, fontsize=9, loc="left", color=(0, 0, 0, 0))  # room for the line
    text: Text = scene.add(
        ax.text(0.0, 1.0, "", transform=title.get_transform(), fontsize=9, ha="left", va="baseline")
    )
    text.set_gid("info")

    def update(step: int) -> None:
        text.set_position(title.get_position())  # where the layout put the (transparent) title
        text.set_text(label(c.row(step)))

    scene.updaters.append(update)

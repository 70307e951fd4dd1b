"""A fit as a picture, still or moving: its data, its fitted curve, its residuals.

A fit has one picture wherever it is drawn: ``fit.plot()`` and ``gdlab.plot(fit)`` draw it at the
fit's answer (an iterative fit's last step), and ``gdlab.animate(fit)`` at each step (its axes
sized to hold every step, so its last frame may show more around the data). With one
regressor (or a formula of one column) it shows the data with the fitted curve over that column
and the residuals against it; with several, the observed values against the fitted ones and the
residuals against the fitted values. Where a method ran beside a reference solution (a descent
beside the closed form or lm), the reference's curve is drawn faint behind the fitted one.

The fitted values at the steps drawn are computed once, by the fit's own rule for its predictions
(one evaluation a step; a formula's NumPy form where it has one); each frame then only moves a few
lines and one line of text over a background drawn once, like every other
:class:`~gdlab.render._scene.Scene`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import offset_copy

from gdlab._checks import InputError
from gdlab._colours import FIT_COLOURS
from gdlab._trajectory import ending_words
from gdlab.render._fonts import drawn_language, font_family
from gdlab.render._scene import Options, Scene, scene_figure
from gdlab.render._view import drawable, padded
from gdlab.render._words import FIT_WORDS, WORDS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from gdlab.fitting._result import Fit

__all__ = ["DRAW_POINTS", "drawable_fit", "fit_curves", "fit_scene", "fit_title", "plot_fit"]

GRID = 200
# How far beyond the data the curves may take the vertical axis, in data spans: a start
# far from the data shows the curve arriving; one further away is clipped at the edge.
REACH = 1.5
# At most this many rows are drawn, a fixed sample of larger data (the same in a picture and in
# every frame of an animation): a frame stays quick, and the fitted values kept for every frame
# stay small (5,000 rows x 100 frames: 4 MB).
DRAW_POINTS = 5_000
STEMS = 200  # up to this many residuals get a stem from 0; more would make a solid band
ITERATIVE = "'momentum', 'adam', 'newton', 'lbfgs', 'sgd'; 'lm' or 'gauss-newton' for a formula"


@dataclass(frozen=True)
class FitCurves:
    """What the picture shows, computed once.

    Attributes:
        column: the one column drawn along x, or ``None``: observed against fitted (several).
        x: that column at the drawn rows (empty with several).
        y: the response at the drawn rows.
        grid: where the curves are evaluated, the column's range (empty with several).
        steps: the steps drawn, in order (``[0]`` for a closed form).
        coef: the coefficients at each of those steps, in original units.
        curves: the fitted curve on ``grid`` at each step, (steps, GRID), or (steps, 0).
        fitted: the fitted values at the drawn rows at each step, (steps, rows drawn).
        reference: the reference solution's curve on ``grid`` where a method ran beside it, else
            ``None``.
        rows: the rows of the data (at most :data:`DRAW_POINTS` of them are drawn).
    """

    column: str | None
    x: np.ndarray
    y: np.ndarray
    grid: np.ndarray
    steps: np.ndarray
    coef: np.ndarray
    curves: np.ndarray
    fitted: np.ndarray
    reference: np.ndarray | None
    rows: int

    def row(self, step: int) -> int:
        """The row of the last computed step at or before ``step``."""
        return max(int(np.searchsorted(self.steps, step, side="right")) - 1, 0)

    def along(self, row: int) -> np.ndarray:
        """Where the drawn rows lie along x at that row's step: the column, or the fitted values."""
        return self.x if self.column is not None else self.fitted[row]

    @property
    def sample(self) -> bool:
        return self.y.size < self.rows


def drawable_fit(fit: object, *, animated: bool = False) -> Fit:
    """``fit`` checked for its picture (its data kept) or its animation (steps to show too)."""
    from gdlab.fitting._result import Fit

    if not isinstance(fit, Fit):
        raise InputError("give a Fit (from gdlab.fit)")
    if animated and fit.trajectory is None and fit.settings:  # no descent runs beside such a fit
        raise InputError(
            lambda s: (
                f"this fit ({fit.method}, {', '.join(fit.settings)}) is solved in closed form and has no "
                f"steps to animate, and no descent runs beside a fit with {fit.settings[0].split()[0]}: "
                f"draw it as a picture ({s.picture('fit')})"
            ),
            parameter="method",
        )
    if animated and fit.trajectory is None:
        raise InputError(
            lambda s: (
                f"this fit ({fit.method}) is solved in closed form and has no steps to animate: fit "
                f"with {s.setting('method', 'gd', quoted=True)} or another iterative method ({ITERATIVE}), "
                f"or draw this one as a picture ({s.picture('fit')})"
            ),
            parameter="method",
        )
    if fit._data is None:
        scaled = [setting for setting in fit.settings if setting.startswith(("trials", "offset"))]
        if scaled:  # a GLM whose response is not on its mean's scale
            raise InputError(
                f"a {fit.family} fit with {' and '.join(scaled)} has no picture: its response is not on "
                "the scale of its mean (a count beside a rate, successes beside a probability), so "
                "they cannot share an axis; its predict gives the mean of new rows"
            )
        raise InputError(
            "this fit of streamed or cluster data keeps no rows to draw; fit a sample read into "
            "memory to see its picture (its predict works on any rows)"
        )
    return fit


def plot_fit(fit: object, options: Options | None = None) -> Figure:
    """The fit's picture at its answer (an iterative fit's last step): what ``fit.plot()`` and
    ``gdlab.plot(fit)`` both draw; ``gdlab.animate(fit)`` draws each step alike, its axes sized to
    hold every step.

    Example:
        >>> from gdlab.fitting._fit import fit
        >>> figure = plot_fit(fit("cafe", y="y", x="x"))
        >>> figure.texts[0].get_text(), [axis.get_title() for axis in figure.axes]
        ('y ~ x: ols', ['', 'residuals'])
    """
    checked = drawable_fit(fit)
    last = checked.steps or 0
    return fit_scene(checked, options or Options(), np.array([last])).freeze(last)


def _drawn_rows(n: int) -> np.ndarray:
    """All the rows, or a sorted sample of :data:`DRAW_POINTS` of them (the same each time)."""
    if n <= DRAW_POINTS:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, DRAW_POINTS, replace=False))


def _columns(fit: Fit) -> tuple[str, ...]:
    """The columns a fit's values are computed from: a formula's data columns; a Wilkinson
    formula's one number where its terms read one (``y ~ x + I(x**2)``, ``y ~ log(x)``: a curve
    over ``x``, as a teacher draws it); else the regressors (the design's columns)."""
    if fit._predictor is not None:
        return tuple(fit._predictor.columns)
    if fit.terms is not None and fit._data is not None and not fit.terms.levels:
        formula = fit.terms.formula
        read = [c for c in formula.columns() if c not in formula.response.columns]
        if len(read) == 1 and read[0] in fit._data.columns:
            return (read[0],)
    return tuple(fit.x)


def fit_curves(fit: Fit, steps: np.ndarray) -> FitCurves:
    """The curves and fitted values at ``steps`` (each clipped to the fit's last step; a closed
    form's answer is its step 0), by the fit's own predictions; of a fit :func:`drawable_fit` took."""
    table = fit._data
    assert table is not None  # checked by drawable_fit
    columns = _columns(fit)
    keep = _drawn_rows(table.n)
    data = {c: np.asarray(table[c])[keep] for c in columns}
    y = np.asarray(table[fit.y], dtype=np.float64)[keep]
    if fit.trajectory is None:
        shown, coef = np.zeros(1, dtype=int), fit.coef[None]
    else:
        shown = np.minimum(np.asarray(steps, dtype=int), fit.trajectory.steps)
        coef = fit.coefficient_path()[shown]
    beside = fit.max_difference is not None  # a method run beside its reference solution
    both = np.vstack([coef, fit.closed_form]) if beside else coef  # one call: a formula bound once
    k = len(coef)
    with np.errstate(all="ignore"):  # a value that is not finite is left out of the picture
        if len(columns) == 1:
            (column,) = columns
            x = np.asarray(data[column], dtype=np.float64)
            grid = np.linspace(float(x.min()), float(x.max()), GRID)
            values = np.asarray(fit._means({column: np.concatenate([grid, x])}, both), dtype=np.float64)
            curves, fitted = values[:k, :GRID], values[:k, GRID:]
            reference = values[k, :GRID] if beside else None
            return FitCurves(column, x, y, grid, shown, coef, curves, fitted, reference, table.n)
        fitted = np.asarray(fit._means(data, coef), dtype=np.float64)
    empty = np.empty(0)
    return FitCurves(None, empty, y, empty, shown, coef, np.empty((k, 0)), fitted, None, table.n)


def _reached(lo: float, hi: float, values: np.ndarray) -> tuple[float, float]:
    """``lo`` to ``hi`` widened to the finite ``values``, at most :data:`REACH` spans each way."""
    span = max(hi - lo, 1e-12 * max(abs(lo), abs(hi), 1.0))
    finite = drawable(values[np.isfinite(values)])
    if finite.size:
        lo = max(min(lo, float(finite.min())), lo - REACH * span)
        hi = min(max(hi, float(finite.max())), hi + REACH * span)
    return lo, hi


def _data_limits(c: FitCurves, logistic: bool) -> tuple[float, float]:
    if logistic:
        return -0.08, 1.08
    return padded(*_reached(float(c.y.min()), float(c.y.max()), c.curves), 0.06)


def _residual_scale(ax, residuals: np.ndarray, final: np.ndarray, span: float, w: dict[str, str]) -> None:
    """A linear scale when the residuals keep their size; else symlog, linear up to the final
    residuals' size, so the last frames' residuals stay readable beside the first ones'. At most
    ``1 + 2 REACH`` data spans each way (``span``, the response's): a diverged fit's residuals of
    1e283 would draw every other residual at 0."""
    cap = (1 + 2 * REACH) * span
    residuals = np.clip(residuals, -cap, cap)
    final = np.clip(final, -cap, cap)
    finite = drawable(residuals[np.isfinite(residuals)])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    small = float(np.max(np.abs(final[np.isfinite(final)]), initial=0.0))
    if small > 0 and max(-lo, hi) > 10 * small:
        small = _round_up(small)  # a round number: the ticks near zero stay apart
        lo, hi = max(min(lo, -small), -1e12 * small), min(max(hi, small), 1e12 * small)
        ax.set_yscale("symlog", linthresh=small, linscale=1.5)
        ax.set_ylim(lo * 1.6, hi * 1.6)
        ax.set_title(f"{ax.get_title()} ({w['symlog'].format(small=f'{small:.3g}')})", fontsize=10)
    else:
        top = max(abs(lo), abs(hi), 1e-300)
        ax.set_ylim(*padded(-top, top, 0.08))


def _round_up(value: float) -> float:
    """The smallest of 1, 2, 5 times a power of 10 that is at least ``value``."""
    power = 10 ** np.floor(np.log10(value))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= value * (1 - 1e-12)))


def fit_scene(fit: Fit, options: Options, steps: np.ndarray) -> Scene:
    """The data with the fitted curve, or observed against fitted (left), and the residuals
    (right), at ``steps``, of a fit :func:`drawable_fit` took."""
    c = fit_curves(fit, steps)
    lang = drawn_language(options.lang, [options.title or "", *FIT_WORDS.get(options.lang, {}).values()])
    path = fit.trajectory
    logistic = fit.family == "logistic"
    with mpl.rc_context({"font.family": font_family(), "axes.unicode_minus": False}):
        figure = scene_figure(options, (1000, 440))
        scene = Scene(figure, [] if path is None else [path], 0 if path is None else path.steps, lang=lang)
        data_ax, residual_ax = figure.subplots(1, 2, gridspec_kw={"width_ratios": (3, 2)})
        w = {**WORDS[lang], **FIT_WORDS[lang]}
        if c.column is not None:
            _draw_curve(scene, data_ax, fit, c, logistic, options, w)
        else:
            _draw_observed(scene, data_ax, fit, c, logistic, options, w)
        _draw_residuals(scene, residual_ax, fit, c, data_ax.get_xlim(), w)
        _info(scene, data_ax, fit, c, w, lang)
        width = figure.get_size_inches()[0] * 72  # points: characters of 11 pt, about half an em each
        figure.suptitle(options.title or fit_title(fit, int(0.9 * width / (0.5 * 11)), w), fontsize=11)
    return scene


def fit_title(fit: Fit, budget: int = 1000, w: dict[str, str] | None = None) -> str:
    """A fit's picture's title: its formula, its family where not linear, and its method (a
    descent's on standardised regressors or the raw columns), in at most about ``budget``
    characters (a formula of many regressors names its first ones and counts the rest)."""
    w = w or FIT_WORDS["en"]
    family = "" if fit.least_squares else f", {fit.family}"
    where = ""
    if fit.model is None and fit.max_difference is not None:  # a descent on a linear model's design
        where = w["standardised"] if fit.standardized else w["raw"]
    rest = f"{family}: {fit.method}{where}"
    if fit.terms is not None:
        formula = fit.terms.formula.text
    elif fit.model is not None:
        formula = f"{fit.y} ~ {fit.model}"
    else:
        formula = _fitted_to(f"{fit.y} ~ ", list(fit.x), budget - len(rest), " + ", w["more"])
    return f"{formula}{rest}"


def _label(fit: Fit, c: FitCurves, w: dict[str, str]) -> str:
    """The fitted curve's name: a still picture's is the fit's, a moving one's the step's."""
    return (w["at the step"] if len(c.steps) > 1 else w["fitted as"]).format(method=fit.method)


def _legend(ax, handles: list, logistic: bool, reference: np.ndarray | None, many: bool) -> None:
    if many:  # 'best' is slow over many points, and any place inside hides some: below the axes
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.13),
            ncol=3,
            fontsize=9,
            frameon=False,
        )
        return
    # A logistic curve leaves the middle of one side free (the data lie at 0 and 1).
    where = "best"
    if logistic and reference is not None:
        where = "center left" if reference[0] < reference[-1] else "center right"
    ax.legend(handles=handles, loc=where, fontsize=9, framealpha=0.85)


def _data_label(c: FitCurves, w: dict[str, str]) -> str:
    return w["sample"].format(shown=c.y.size, rows=c.rows) if c.sample else w["data"]


def _dot(c: FitCurves) -> float:
    return 18 if not c.sample else 4


def _draw_curve(
    scene: Scene, ax, fit: Fit, c: FitCurves, logistic: bool, options: Options, w: dict[str, str]
) -> None:
    ax.scatter(c.x, c.y, s=_dot(c), color=FIT_COLOURS["data"], zorder=3, label=_data_label(c, w))
    if c.reference is not None:
        ax.plot(
            c.grid,
            c.reference,
            color=FIT_COLOURS["reference"],
            lw=3,
            alpha=0.6,
            zorder=2,
            label=w["closed form"] if fit.reference == "closed form" else fit.reference,
        )
    curve = scene.add(Line2D([], [], color=FIT_COLOURS["fitted"], lw=2, zorder=4, gid="fitted"))
    ax.add_line(curve)
    ax.set_xlim(*padded(float(c.grid[0]), float(c.grid[-1]), 0.04))
    ax.set_ylim(*(options.ylim or _data_limits(c, logistic)))
    ax.set_xlabel(c.column)
    ax.set_ylabel(f"P({fit.y} = 1)" if logistic else fit.y)
    ax.grid(alpha=0.3)
    handle = Line2D([], [], color=FIT_COLOURS["fitted"], lw=2, label=_label(fit, c, w))
    handles, _ = ax.get_legend_handles_labels()
    _legend(
        ax, [*handles, handle], logistic, c.reference if c.reference is not None else c.curves[-1], c.sample
    )

    low, high = ax.get_ylim()
    away: Text = scene.add(
        ax.text(0.5, 0.0, "", transform=ax.transAxes, color=FIT_COLOURS["fitted"], fontsize=9, ha="center")
    )

    def update(step: int) -> None:
        values = c.curves[c.row(step)]
        curve.set_data(c.grid, drawable(values))
        below, above = bool(np.all(values < low)), bool(np.all(values > high))
        away.set_y(0.03 if below else 0.97)
        away.set_verticalalignment("bottom" if below else "top")
        lo, hi = f"{np.nanmin(values):.3g}", f"{np.nanmax(values):.3g}"
        span = w["at"].format(lo=lo) if lo == hi else w["between"].format(lo=lo, hi=hi)
        said = w["below" if below else "above"].format(method=fit.method, span=span)
        away.set_text(said if below or above else "")

    scene.updaters.append(update)


def _draw_observed(
    scene: Scene, ax, fit: Fit, c: FitCurves, logistic: bool, options: Options, w: dict[str, str]
) -> None:
    """Several regressors: the observed values against the fitted ones at each step, about the
    line where they are equal."""
    low, high = (-0.08, 1.08) if logistic else padded(float(c.y.min()), float(c.y.max()), 0.06)
    left, right = padded(*_reached(float(c.y.min()), float(c.y.max()), c.fitted), 0.04)
    ends = [min(left, low), max(right, high)]
    ax.plot(ends, ends, color=FIT_COLOURS["reference"], lw=1.5, zorder=2, label=w["equal"])
    points = scene.add(
        Line2D(
            [], [], color=FIT_COLOURS["data"], ls="none", marker="o", ms=4 if not c.sample else 2, zorder=3
        )
    )
    points.set_gid("fitted")
    ax.add_line(points)
    ax.set_xlim(left, right)
    ax.set_ylim(*(options.ylim or (low, high)))
    ax.set_xlabel(w["fitted probability"] if logistic else w["fitted"])
    ax.set_ylabel(w["observed"].format(y=fit.y))
    ax.grid(alpha=0.3)
    handle = Line2D([], [], color=FIT_COLOURS["data"], ls="none", marker="o", ms=4, label=_data_label(c, w))
    handles, _ = ax.get_legend_handles_labels()
    _legend(ax, [handle, *handles], False, None, c.sample)

    def update(step: int) -> None:
        points.set_data(drawable(c.fitted[c.row(step)]), c.y)

    scene.updaters.append(update)


def _draw_residuals(
    scene: Scene, ax, fit: Fit, c: FitCurves, xlim: tuple[float, float], w: dict[str, str]
) -> None:
    residuals = c.y[None, :] - c.fitted
    sample = w["residual rows"].format(shown=c.y.size, rows=c.rows) if c.sample else ""
    ax.set_title(f"{w['residuals']}{sample}", fontsize=10)
    span = float(np.ptp(c.y)) or max(abs(float(c.y[0])), 1.0)
    _residual_scale(ax, residuals, residuals[-1], span, w)
    ax.axhline(0, color="0.5", lw=1)
    ax.set_xlim(*xlim)
    if c.column is not None:
        ax.set_xlabel(c.column)
    else:
        ax.set_xlabel(w["fitted probability"] if fit.family == "logistic" else w["fitted"])
    ax.set_ylabel(w["minus"].format(y=fit.y))
    ax.grid(alpha=0.3)
    few = c.y.size <= STEMS  # a stem from zero to each residual; many would be a solid band
    colour = FIT_COLOURS["residual"]
    stems = scene.add(Line2D([], [], color=colour, lw=1, alpha=0.6, zorder=3, visible=few))
    points = scene.add(
        Line2D([], [], color=colour, ls="none", marker="o", ms=4 if few else 2, zorder=4, gid="residuals")
    )
    for artist in (stems, points):
        ax.add_line(artist)
    gaps = np.full(c.y.size, np.nan)

    def update(step: int) -> None:
        row = c.row(step)
        x, r = drawable(c.along(row)), drawable(residuals[row])
        if few:
            zero = np.zeros_like(r)
            stems.set_data(np.column_stack([x, x, gaps]).ravel(), np.column_stack([zero, r, gaps]).ravel())
        points.set_data(x, r)

    scene.updaters.append(update)


def _loss_words(fit: Fit, w: dict[str, str]) -> str:
    """What a fit's path calls its loss: a formula's sum of squares, a linear model's mean squared
    residual, a logistic model's mean log-loss, another GLM's half its mean deviance (the same
    model by a formula or by ``x=`` reads a different number, so it is named)."""
    if fit.model is not None:
        return w["sum of squares"]
    if fit.family == "logistic":
        return w["mean log-loss"]
    return w["mean squared residual"] if fit.least_squares else w["half the mean deviance"]


def _fitted_to(
    line: str, parts: list[str], budget: int, between: str = ", ", more: str = " … ({n} more)"
) -> str:
    """``line`` followed by as many of ``parts`` (``between`` each) as ``budget`` characters hold,
    and how many more there are (``more``, of ``n``)."""
    shown: list[str] = []
    for i, part in enumerate(parts):
        left = len(parts) - i - 1
        tail = more.format(n=left) if left else ""
        if shown and len(line + between.join([*shown, part]) + tail) > budget:
            return line + between.join(shown) + more.format(n=len(parts) - len(shown))
        shown.append(part)
    return line + between.join(shown)


def _info(scene: Scene, ax, fit: Fit, c: FitCurves, w: dict[str, str], lang: str) -> None:
    """The step and its loss, on a second line its coefficients, and at the last step a third, how
    the run ended, above the data panel; a closed form's: how it was solved, and its coefficients.
    The lines are cut to the data panel's width (the coefficients that do not fit are counted), so
    that they neither push the panels apart nor run over the residuals' title."""
    path = fit.trajectory
    figure = ax.figure
    inches = figure.get_size_inches()[0]
    # characters of 9 pt (about half an em each) across the data panel (about 0.42 of the figure)
    budget = max(30, int(0.42 * inches * 72 / (0.5 * 9)))
    loss_word = _loss_words(fit, w)
    longest = f"{w['step']} {path.steps:,} / {path.steps:,}   {loss_word} 1.234e+05" if path else ""
    if len(longest) > 1.25 * budget:  # a narrow picture (the line may run a little into the gap)
        loss_word = w["loss"]  # the short word

    def label(row: int) -> str:
        named = [f"{n} {v:.4g}" for n, v in zip(fit.names, c.coef[row], strict=True)]
        coefs = _fitted_to("", named, budget, more=w["more"])
        if path is None:
            return f"{w['closed']}\n{coefs}"  # a closed form's Fit.message, in the picture's language
        step, last = int(c.steps[row]), path.steps
        ended = f"\n{ending_words(path.status, last, lang)}" if step == last else ""
        return f"{w['step']} {step:,} / {last:,}   {loss_word} {float(path.loss[step]):.4g}\n{coefs}{ended}"

    # three lines' room above the panel (a transparent title of short lines: no width to make room for)
    ax.set_title("0\n0\n0", fontsize=9, loc="left", color=(0, 0, 0, 0))
    pad = mpl.rcParams["axes.titlepad"]
    text: Text = scene.add(
        ax.text(
            0.0,
            1.0,
            "",
            transform=offset_copy(ax.transAxes, fig=figure, y=pad, units="points"),
            fontsize=9,
            ha="left",
            va="bottom",
        )
    )
    text.set_gid("info")

    def update(step: int) -> None:
        text.set_text(label(c.row(step)))

    scene.updaters.append(update)

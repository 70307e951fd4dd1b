"""Figures of descents: a background drawn once, and the few artists that move.

A :class:`Scene` never computes a descent. It reads trajectories, and draws the
loss behind them from a :class:`~gdlab._landscape.Landscape` computed once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, cast

import matplotlib as mpl
import numpy as np
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy

from gdlab._checks import LANGUAGES, InputError
from gdlab._colours import RunStyle, run_style
from gdlab._trajectory import Status, Trajectory, ending_words
from gdlab.render._figure import new_figure
from gdlab.render._fonts import drawn_language, font_family
from gdlab.render._levels import FORMAT, colorbar, filled_contour
from gdlab.render._placement import SPOTS, axes_points, box_at, fraction_size, free_spot
from gdlab.render._view import (
    GRID,
    LIMIT,
    box,
    drawable,
    minimum_1d,
    minimum_newton,
    padded,
    param_names,
    runaway_capped,
)
from gdlab.render._words import WORDS

if TYPE_CHECKING:  # the landscape (and JAX) is imported where a loss is drawn: a fit's picture needs neither
    from gdlab._landscape import Landscape

A = TypeVar("A", bound=Artist)


# A single picture with its history puts the history beside it when the figure is
# at least this many times as wide as it is high, else below it.
WIDE = 1.6


@dataclass(frozen=True)
class Options:
    """How to draw; see :func:`gdlab.plot` for the meaning of each field."""

    layout: str = "overlay"
    history: bool = False
    log_history: bool = True
    tangent: bool = True
    view: str = "contour"
    xlim: tuple[float, float] | None = None
    ylim: tuple[float, float] | None = None
    title: str | None = None
    lang: str = "en"
    size: tuple[int, int] | None = None
    dpi: int = 100
    loss: Callable[[object], object] | None = None
    labels: tuple[str, ...] | None = None
    log_steps: bool = False
    names: tuple[str, ...] | None = None
    minimum: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        choices = {"layout": ("overlay", "panels"), "view": ("contour", "surface"), "lang": LANGUAGES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise InputError(
                    f"{name} must be one of {', '.join(map(repr, allowed))}; got {getattr(self, name)!r}"
                )
        for name in ("xlim", "ylim"):
            lim = getattr(self, name)
            if lim is not None and not (len(lim) == 2 and np.all(np.isfinite(lim)) and lim[0] < lim[1]):
                raise InputError(f"{name} must be (low, high) with low < high; got {lim!r}")
        if self.minimum is not None and not np.all(np.isfinite(self.minimum)):
            raise InputError(f"minimum must be finite numbers; got {self.minimum!r}")
        if self.size is not None and not (len(self.size) == 2 and min(self.size) >= 64):
            raise InputError(f"size must be (width, height) in pixels, each >= 64; got {self.size!r}")

    @property
    def words(self) -> dict[str, str]:
        return WORDS[self.lang]


def as_trajectories(trajectories: object) -> list[Trajectory]:
    """One trajectory or a sequence of them, checked."""
    if isinstance(trajectories, Trajectory):
        items = [trajectories]
    elif isinstance(trajectories, Iterable) and not isinstance(trajectories, str | bytes | dict):
        items = list(cast("Iterable[Trajectory]", trajectories))  # each checked just below
    else:
        items = []
    if not items or not all(isinstance(t, Trajectory) for t in items):
        raise InputError(
            "give a Trajectory or a list of them (from gdlab.descend or gdlab.sgd), a Sweep, a Phase, "
            f"a grid search's result or a Fit; got {type(trajectories).__name__}"
        )
    sizes = {t.flat_params().shape[1] for t in items}
    if len(sizes) != 1:
        raise InputError(f"the trajectories have different numbers of parameters: {sorted(sizes)}")
    return items


def _legend_label(t: Trajectory, options: Options | None = None, i: int = 0) -> str:
    if options is not None and options.labels is not None:
        return options.labels[i]
    if t.status in (Status.DIVERGED, Status.CONVERGED):  # a race's runs at the limit are named alone
        return f"{t.label} ({ending_words(t.status, t.steps, options.lang if options else 'en')})"
    return t.label


@dataclass
class Scene:
    """A figure whose background is static and whose ``moving`` artists follow the steps."""

    figure: Figure
    trajectories: list[Trajectory]
    last_step: int
    updaters: list[Callable[[int], None]] = field(default_factory=list)
    moving: list[Artist] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    counters: list[Artist] = field(default_factory=list)
    blit: bool = True
    lang: str = "en"  # the language of its words, which its player's controls follow

    def update(self, step: int) -> list[Artist]:
        """Move every artist to ``step`` (each trajectory stops at its own end)."""
        for updater in self.updaters:
            updater(step)
        return self.moving

    def add(self, artist: A) -> A:
        artist.set_animated(True)
        self.moving.append(artist)
        if isinstance(artist, Text):
            self.texts.append(artist)
        return artist

    def freeze(self, step: int) -> Figure:
        """Draw ``step`` into the figure for good: a static picture (without step counter)."""
        self.update(step)
        for artist in self.moving:
            artist.set_animated(False)
        for counter in self.counters:
            counter.set_visible(False)
        return self.figure

    def keep_layout(self) -> None:
        """Keep the layout of the draw just made for every later draw.

        Constrained layout moves the axes by a millionth on each draw until it
        settles, enough to change a pixel: without this the first export of an
        animation would differ from the next, and a 3D view laid out afresh
        every frame could shift.
        """
        if not isinstance(self.figure.get_layout_engine(), PlaceHolderLayoutEngine | None):
            self.figure.set_layout_engine("none")

    def thaw(self) -> None:
        """Undo :meth:`freeze`: the artists move again and the step counter shows."""
        for artist in self.moving:
            artist.set_animated(True)
        for counter in self.counters:
            counter.set_visible(True)


def scene_figure(options: Options, default: tuple[int, int]) -> Figure:
    width, height = options.size or default
    width, height = 2 * round(width / 2), 2 * round(height / 2)  # video needs even sizes
    return new_figure((width, height), options.dpi)


def build_scene(trajectories: object, options: Options, ax=None, frame_steps=None) -> Scene:
    """The scene for one or several trajectories of one or two parameters.

    ``frame_steps`` are the steps that will be frames: the trail marks them.
    """
    items = as_trajectories(trajectories)
    if options.labels is not None and len(options.labels) != len(items):
        raise InputError(
            f"labels gives {len(options.labels)} name(s) for {len(items)} trajectories: give one each"
        )
    dims = items[0].flat_params().shape[1]
    texts = [options.title or "", *options.words.values(), *[t.label for t in items]]
    options = dataclasses.replace(options, lang=drawn_language(options.lang, texts))
    with mpl.rc_context({"font.family": font_family(), "axes.unicode_minus": False}):
        if dims == 1:
            scene = _scene_1d(items, options, ax, frame_steps)
        elif dims == 2:
            scene = _scene_2d(items, options, ax)
        else:
            scene = _scene_history_only(items, options, ax)
        if options.title and options.layout == "panels":
            scene.figure.suptitle(options.title)
    return scene


def _main_axes(fig: Figure, options: Options, n: int, ax, projection=None):
    panels = n if options.layout == "panels" else 1
    if ax is not None:
        if panels > 1 or options.history:
            raise InputError("ax= takes a single-panel picture: use layout='overlay', history=False")
        return [ax], None
    rows = 2 if options.history else 1
    width, height = fig.get_size_inches()
    if options.history and panels == 1 and width >= WIDE * height:  # else below: each panel wide enough
        grid = fig.add_gridspec(1, 2, width_ratios=(3, 2))
        return [fig.add_subplot(grid[0, 0], projection=projection)], [fig.add_subplot(grid[0, 1])]
    grid = fig.add_gridspec(rows, panels, height_ratios=(3, 2) if rows == 2 else None)
    mains = [fig.add_subplot(grid[0, i], projection=projection) for i in range(panels)]
    hist = [fig.add_subplot(grid[1, i]) for i in range(panels)] if rows == 2 else None
    return mains, hist


def _default_size(options: Options, n: int) -> tuple[int, int]:
    panels = n if options.layout == "panels" else 1
    if panels == 1:
        return (1000, 480) if options.history else (640, 480)
    return (min(420 * panels, 1680), 720 if options.history else 420)


def _panel_view(group, options: Options, ranges, num: int, cache: dict) -> Landscape | None:
    """The loss behind one panel, computed once per loss function.

    Every trajectory drawn over it must lie on it: one whose starting loss the
    drawn loss does not reproduce minimised something else.
    """
    from gdlab._landscape import landscape
    from gdlab._loss import scalar_loss

    f = options.loss or group[0][1].loss_fn
    if f is None:
        return None
    for i, t in group:
        if t.loss_fn is f or not np.isfinite(t.loss[0]):
            continue
        drawn = float(scalar_loss(f)(t.at(0)))
        if not np.isclose(drawn, float(t.loss[0]), rtol=1e-6, atol=1e-9):
            raise InputError(
                f"trajectory {i} ({t.label}) minimised a different loss from the one drawn "
                f"(at its start: {float(t.loss[0]):.6g}, the drawn loss: {drawn:.6g}); "
                "draw each on its own with layout='panels', or pass loss="
            )
    if id(f) not in cache:
        cache[id(f)] = landscape(f, group[0][1].at(0), ranges, num=num)
    return cache[id(f)]


def _groups(items: list[Trajectory], options: Options) -> list[list[tuple[int, Trajectory]]]:
    indexed = list(enumerate(items))
    return [[pair] for pair in indexed] if options.layout == "panels" else [indexed]


def _names(items: list[Trajectory], options: Options) -> tuple[str, ...]:
    names = param_names(items[0], options.loss or items[0].loss_fn, options.names)
    if len(names) != items[0].flat_params().shape[1]:
        raise InputError(
            f"names gives {len(names)} name(s) for {items[0].flat_params().shape[1]} parameter(s): "
            "give one each"
        )
    return names


def _minimum(items: list[Trajectory], options: Options, dims: int) -> np.ndarray | None:
    """The minimum to frame and mark: given, else estimated from the loss (None if not found)."""
    if options.minimum is not None:
        minimum = np.asarray(options.minimum, dtype=float).ravel()
        if minimum.size != dims:
            raise InputError(f"minimum must have {dims} component(s); got {options.minimum!r}")
        return minimum
    f = options.loss or items[0].loss_fn
    shared = options.layout == "overlay" or options.loss is not None or all(t.loss_fn is f for t in items)
    if f is None or not shared:
        return None  # panels of different losses: no one minimum (an overlay shares its loss)
    with np.errstate(all="ignore"):
        return (minimum_1d if dims == 1 else minimum_newton)(f, items[0].at(0), items)


def _obstacles(ax, curves: list[np.ndarray]) -> np.ndarray:
    """Every point of ``curves`` (each (n, 2) in data) as axes fractions: what boxes must not cover."""
    parts = [axes_points(ax, c) for c in curves if len(c)]
    return np.concatenate(parts) if parts else np.empty((0, 2))


_COUNTER_SPOTS = ("upper left", "upper right", "lower left", "lower right", "upper center", "lower center")


def _counter(scene: Scene, ax, last: int, words: dict[str, str], obstacles: np.ndarray) -> list:
    """The step counter in a corner the paths and curve do not cross; returns its box (or none)."""
    if last == 0:  # a picture of starting points only: no steps to count
        return []
    label = lambda s: f"{words['step']} {s:,} / {last:,}"  # noqa: E731
    # The box is background, sized by the longest label drawn invisibly inside it.
    box_style = {"boxstyle": "round", "fc": "white", "ec": "0.3", "alpha": 0.85}
    box = ax.text(0, 0, label(last), color=(0, 0, 0, 0), fontsize=10, transform=ax.transAxes, bbox=box_style)
    size = fraction_size(ax, box)
    spot = free_spot(obstacles, size, spots=_COUNTER_SPOTS) or "upper left"
    fx, fy = SPOTS[spot]
    x, y = 0.02 + 0.96 * fx, 0.97 if fy == 1.0 else 0.03
    where = {
        "transform": ax.transAxes,
        "va": "top" if fy == 1.0 else "bottom",
        "ha": {0.0: "left", 0.5: "center", 1.0: "right"}[fx],
        "fontsize": 10,
    }
    box.set_position((x, y))
    box.set_verticalalignment(where["va"])
    box.set_horizontalalignment(where["ha"])
    text: Text = scene.add(ax.text(x, y, "", **where))
    scene.counters += [box, text]
    scene.updaters.append(lambda s: text.set_text(label(s)))
    return [box_at(spot, size)]


def _scene_1d(items, options: Options, ax, frame_steps) -> Scene:
    fig = ax.figure if ax is not None else scene_figure(options, _default_size(options, len(items)))
    last = max(t.steps for t in items)
    scene = Scene(fig, items, last, lang=options.lang)
    minimum = None if options.xlim else _minimum(items, options, 1)
    xlim = options.xlim or box(items, minimum, 0.1)[0]
    names = _names(items, options)
    mains, hists = _main_axes(fig, options, len(items), ax)
    marks = np.asarray(frame_steps if frame_steps is not None else np.arange(last + 1))
    views: dict[int, Landscape] = {}
    for panel, group in enumerate(_groups(items, options)):
        main = mains[panel]
        curve = _draw_curve(
            main, _panel_view(group, options, [xlim], GRID, views), group, xlim, options, names
        )
        for i, t in group:
            _moving_point_1d(scene, main, t, run_style(i), xlim, marks, options, len(group), names)
        paths = [np.column_stack([t.flat_params()[:, 0], t.loss]) for _, t in group]
        obstacles = _obstacles(main, [curve, *paths, *[_pinned(main, p) for p in paths]])
        taken = _counter(scene, main, last, options.words, obstacles)
        _label_panel(main, group, options, obstacles, taken)
        if hists is not None:
            _history(scene, hists[panel], group, last, options, items)
    return scene


def _pinned(ax, path: np.ndarray) -> np.ndarray:
    """Where the points of ``path`` off the chart are pinned, inside its edge (each on its own)."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    x, y = drawable(path[:, 0]), np.nan_to_num(drawable(path[:, 1]), nan=LIMIT)  # in float64
    off = (x < x0) | (x > x1) | (y < y0) | (y > y1)
    inset = lambda v, lo, hi: np.clip(v, lo + 0.03 * (hi - lo), hi - 0.03 * (hi - lo))  # noqa: E731
    pins = np.column_stack([inset(x[off], x0, x1), inset(y[off], y0, y1)])
    # a NaN between pins: each is a point, not a line along the edge
    return np.column_stack([pins, np.full_like(pins, np.nan)]).reshape(-1, 2)


def _draw_curve(ax, view: Landscape | None, group, xlim, options: Options, names) -> np.ndarray:
    """The loss curve (or, without a loss, the losses' range) and the axes; returns the curve drawn."""
    words = options.words
    if view is not None:
        values = drawable(view.values)
        curve = np.column_stack([view.axes[0], values])
        ax.plot(view.axes[0], values, color="0.3", lw=2, zorder=1)
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    else:
        values = drawable(np.concatenate([t.loss[np.isfinite(t.loss)] for _, t in group]))
        curve = np.empty((0, 2))
        lo, hi = float(values.min()), float(values.max())
    ax.set_xlim(*xlim)
    if options.ylim:
        ax.set_ylim(*options.ylim)
    else:  # room above the curve for the step counter and the legend
        ax.set_ylim(padded(lo, hi, 0.08)[0], padded(lo, hi, 0.22)[1])
    ax.set_xlabel(names[0])
    ax.set_ylabel(words["loss"])
    ax.grid(alpha=0.3)
    return curve


def _label_panel(ax, group, options: Options, obstacles: np.ndarray, taken: list) -> None:
    """A legend for an overlay, where no path or curve passes (else beside the axes);
    a panel of one trajectory is named in its title instead."""
    if options.layout == "panels":
        i, t = group[0]
        ax.set_title(_legend_label(t, options, i), fontsize=10, color=run_style(i).colour)
        return
    if options.title:
        ax.set_title(options.title)
    handles = [
        Line2D(
            [],
            [],
            color=run_style(i).colour,
            ls=run_style(i).linestyle,
            marker="o",
            label=_legend_label(t, options, i),
        )
        for i, t in group
    ]
    handles += [h for h in ax.get_legend_handles_labels()[0] if isinstance(h, Line2D)]
    legend = ax.legend(handles=handles, loc="upper right", fontsize=9, framealpha=0.85)
    spot = free_spot(obstacles, fraction_size(ax, legend), taken=taken)
    if spot is not None:
        legend.set_loc(spot)
        return
    # Every place inside is crossed by a path or the curve: above the axes, the title above it.
    legend.remove()
    above = {"loc": "lower center", "bbox_to_anchor": (0.5, 1.01), "borderaxespad": 0, "fontsize": 9}
    legend = ax.legend(handles=handles, ncols=min(len(handles), 2), **above)
    if len(handles) > 1 and fraction_size(ax, legend)[0] > 1:  # wider than the axes: one column
        legend.remove()
        ax.legend(handles=handles, ncols=1, **above)
    if options.title:
        ax.set_title("")
        ax.figure.suptitle(options.title)


def _moving_point_1d(
    scene: Scene, ax, t: Trajectory, style: RunStyle, xlim, marks, options, count: int, names
):
    """The point, its trail, the tangent and a note (slope, or where it went off the chart).

    ``count`` is how many trajectories share the axes: slopes are written only
    for one or two, or they would print over each other.
    """
    b, loss, g = drawable(t.flat_params()[:, 0]), drawable(t.loss), drawable(t.flat_grad()[:, 0])
    raw_b, raw_loss = t.flat_params()[:, 0], t.loss
    color = style.colour
    # One artist for the trail and its dots at the steps shown (markevery): one draw a frame.
    trail = scene.add(
        Line2D([], [], color=color, ls=style.linestyle, lw=1, alpha=0.55, marker="o", ms=4, mew=0, zorder=3)
    )
    point = scene.add(Line2D([], [], color=color, ls="none", marker="o", ms=10, mec="black", mew=1, zorder=5))
    for artist in (trail, point):
        ax.add_line(artist)
    half = 0.12 * (xlim[1] - xlim[0])
    tangent = None
    if options.tangent:
        tangent = scene.add(Line2D([], [], color=color, ls="--", lw=1.5, zorder=4))
        ax.add_line(tangent)
    note: Text = scene.add(ax.text(0, 0, "", color=color, fontsize=9, zorder=6, clip_on=True))
    places = {
        (dx, dy): offset_copy(ax.transData, fig=ax.figure, x=dx, y=dy, units="points")
        for dx in (10, -10)
        for dy in (12, -14, -36)
    }
    word = options.words["slope"]

    def place(x: float, y: float, text: str, right: bool, above: bool, low: bool = False) -> None:
        """Write ``text`` beside (x, y): right or left, above or below (``low``: further,
        clear of the step counter when the point is pinned to the top edge)."""
        dx, dy = (10 if right else -10), (12 if above else (-36 if low else -14))
        note.set_transform(places[(dx, dy)])
        note.set_horizontalalignment("left" if right else "right")
        note.set_verticalalignment("bottom" if dy > 0 else "top")
        note.set_position((x, y))
        note.set_text(text)

    def update(step: int) -> None:
        k = min(step, t.steps)
        seen = marks[marks <= k]
        trail.set_data(b[: k + 1], loss[: k + 1])
        trail.set_markevery(seen.tolist())
        low, high = ax.get_ylim()
        inside = bool(xlim[0] <= raw_b[k] <= xlim[1] and low <= raw_loss[k] <= high)
        fx = (np.clip(b[k], *xlim) - xlim[0]) / (xlim[1] - xlim[0])
        fy = (np.clip(np.nan_to_num(loss[k]), low, high) - low) / (high - low)
        if not inside:  # a diverging run: pin the point inside the edge and say where it went
            x = xlim[0] + (xlim[1] - xlim[0]) * float(np.clip(fx, 0.03, 0.97))
            y = low + (high - low) * float(np.clip(fy, 0.03, 0.97))
            point.set_marker(_edge_arrow(raw_b[k], raw_loss[k], xlim, (low, high)))
            point.set_data([x], [y])
            # Two lines: the numbers can be long, and the note must stay inside a narrow panel.
            where = f"{names[0]}={raw_b[k]:.3g}, {options.words['loss']}={raw_loss[k]:.3g}"
            text = f"{options.words['off']}:\n{where}"
            place(x, y, text, right=fx < 0.5, above=fy < 0.5, low=True)
            note.set_visible(True)
        else:
            point.set_marker("o")
            point.set_data([b[k]], [loss[k]])
            note.set_visible(show_slope)
            if show_slope:
                # Away from the trail (it came from the start's side), where there is room.
                right = fx <= 0.3 or (fx < 0.75 and b[0] <= b[k])
                above = fy < 0.3 or (fy <= 0.75 and right == (b[0] <= b[k]))
                place(b[k], loss[k], f"{word} {g[k]:.3g}", right=bool(right), above=bool(above))
        if tangent is not None:
            tangent.set_visible(inside)
            span = np.array([b[k] - half, b[k] + half])
            with np.errstate(all="ignore"):
                tangent.set_data(span, drawable(loss[k] + g[k] * (span - b[k])))

    show_slope = options.tangent and count <= 2
    scene.updaters.append(update)


def _edge_arrow(x: float, y: float, xlim, ylim) -> str:
    """A triangle pointing the way a point left the chart: down for a value below it
    (-inf too), up above it (+inf), else left or right; up for a loss that is NaN."""
    if y < ylim[0]:
        return "v"
    if y > ylim[1]:
        return "^"
    if x > xlim[1]:
        return ">"
    if x < xlim[0]:
        return "<"
    return "^"


def _edge_arrow_2d(x: float, y: float, xlim, ylim) -> str:
    """A triangle pointing the way a point of a plane left the chart (its larger excursion)."""

    def over(v: float, lim) -> float:  # how far past the limits, in their spans (NaN: 0)
        past = max(v - lim[1], lim[0] - v, 0.0) / (lim[1] - lim[0])
        return float(np.nan_to_num(past, nan=0.0))

    if not (np.isfinite(x) or np.isfinite(y)):
        return "^"
    if over(y, ylim) >= over(x, xlim):
        return "^" if y > ylim[1] else "v"
    return ">" if x > xlim[1] else "<"


def _history(scene: Scene, ax, group, last: int, options: Options, everyone) -> None:
    """The loss against the iteration; panels share one scale so they can be compared."""
    values = drawable(np.concatenate([t.loss[np.isfinite(t.loss)] for t in everyone]))
    positive = values[values > 0]
    log = options.log_history and positive.size and values.min() >= 0
    if options.log_steps:  # frames spaced by powers: so is the iteration axis, from step 0
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xlim(0, max(last, 1))
    else:
        ax.set_xlim(-0.02 * max(last, 1), max(last, 1))  # the first step's drop clear of the spine
    if log:  # a loss of exactly 0 (a landing on the minimum) sits on the bottom edge
        ax.set_yscale("log", nonpositive="clip")
        bottom = float(positive.min()) / 2
        if positive.size < values.size:  # leave room below for the drop to zero
            bottom = min(bottom, float(positive.max()) * 1e-6)
        ax.set_ylim(bottom, min(float(positive.max()) * 2, LIMIT * 10))
    else:
        ax.set_ylim(*padded(float(values.min()), float(values.max()), 0.05))
    ax.set_xlabel(options.words["iteration"])
    ax.set_ylabel(options.words["loss"])
    ax.grid(alpha=0.3, which="both")
    for i, t in group:
        marker = "." if t.steps <= 200 else None  # short runs: show each step
        style = run_style(i)
        line = scene.add(Line2D([], [], color=style.colour, ls=style.linestyle, lw=1.5, marker=marker))
        ax.add_line(line)
        scene.updaters.append(_loss_so_far(line, t))


def _loss_so_far(line: Line2D, t: Trajectory) -> Callable[[int], None]:
    """An updater showing ``t``'s loss up to each step on ``line``."""
    steps = np.arange(t.steps + 1)
    loss = drawable(t.loss)

    def update(step: int) -> None:
        k = min(step, t.steps)
        line.set_data(steps[: k + 1], loss[: k + 1])

    return update


def _scene_2d(items, options: Options, ax) -> Scene:
    surface = options.view == "surface"
    fig = ax.figure if ax is not None else scene_figure(options, _default_size(options, len(items)))
    last = max(t.steps for t in items)
    scene = Scene(fig, items, last, lang=options.lang)
    minimum = None if options.xlim and options.ylim else _minimum(items, options, 2)
    framed = box(items, minimum, 0.12)
    if not surface:  # a path running away along one axis would flatten the picture to bands
        framed = runaway_capped(framed, items, minimum, (options.xlim is None, options.ylim is None))
    area = [options.xlim or framed[0], options.ylim or framed[1]]
    names = _names(items, options)
    mains, hists = _main_axes(fig, options, len(items), ax, "3d" if surface else None)
    views: dict[int, Landscape] = {}
    for panel, group in enumerate(_groups(items, options)):
        main = mains[panel]
        # A surface gets one face per grid cell (31 x 31 points): uniform faces, no padding.
        view = _panel_view(group, options, area, 31 if surface else 160, views)
        if view is None:
            raise InputError("two-parameter pictures draw the loss: pass loss=the loss function")
        if surface:
            _draw_surface(main, view, options, names)
        else:  # panels share one colour bar, drawn beside the last of them
            _draw_contour(fig, main, view, options, names, mains if panel == len(mains) - 1 else None)
        if minimum is not None and not surface:
            main.plot(
                *minimum,
                marker="*",
                ms=15,
                color="white",
                mec="black",
                ls="none",
                zorder=6,
                label=f"minimum ({minimum[0]:.4g}, {minimum[1]:.4g})",
            )
        for i, t in group:
            _moving_path_2d(scene, main, t, run_style(i), surface, options, names)
        paths = [t.flat_params() for _, t in group] + ([minimum[None, :]] if minimum is not None else [])
        obstacles = np.empty((0, 2)) if surface else _obstacles(main, paths)
        taken = [] if surface else _counter(scene, main, last, options.words, obstacles)
        _label_panel(main, group, options, obstacles, taken)
        if hists is not None:
            _history(scene, hists[panel], group, last, options, items)
    return scene


def _draw_contour(fig, ax, view: Landscape, options: Options, names, colorbar_for) -> None:
    x, y = view.axes
    filled, ticks = filled_contour(ax, x, y, view.values)
    if colorbar_for is not None:
        colorbar(fig, filled, colorbar_for, options.words["loss"], ticks)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])


def _draw_surface(ax, view: Landscape, options: Options, names) -> None:
    x, y = np.meshgrid(*view.axes, indexing="ij")
    values = np.where(np.isfinite(view.values), drawable(view.values), np.nan)
    ax.plot_surface(
        x, y, values, rstride=1, cstride=1, cmap="viridis", alpha=0.7, linewidth=0, antialiased=False
    )
    ax.set_box_aspect(None, zoom=0.8)  # room for the z label
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    # Fixed limits: the paths start empty and must not rescale the view as they grow.
    ax.set_xlim(view.axes[0][0], view.axes[0][-1])
    ax.set_ylim(view.axes[1][0], view.axes[1][-1])
    ax.set_zlim(*(padded(lo, hi, 0.0) if hi > lo else padded(lo, hi, 0.05)))
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(nbins=5))
    ax.zaxis.set_major_formatter(FORMAT)
    ax.set_xlabel(names[0], labelpad=10)  # each label clear of its tick labels
    ax.set_ylabel(names[1], labelpad=10)
    ax.set_zlabel(options.words["loss"], labelpad=14)


def _moving_path_2d(
    scene: Scene, ax, t: Trajectory, style: RunStyle, surface: bool, options: Options, names
) -> None:
    p, loss = drawable(t.flat_params()), drawable(t.loss)
    color, dash = style.colour, style.linestyle
    if surface:
        path = ax.plot([], [], [], color=color, ls=dash, marker="o", ms=3, lw=1.2, zorder=10)[0]
        point = ax.plot([], [], [], color=color, marker="o", ms=9, mec="black", zorder=11)[0]
        scene.add(path)
        scene.add(point)
        scene.blit = False

        def update(step: int) -> None:
            k = min(step, t.steps)
            path.set_data_3d(p[: k + 1, 0], p[: k + 1, 1], loss[: k + 1])
            point.set_data_3d(p[k : k + 1, 0], p[k : k + 1, 1], loss[k : k + 1])

    else:
        path = scene.add(Line2D([], [], color=color, ls=dash, marker="o", ms=3, lw=1.2, zorder=4))
        point = scene.add(
            Line2D([], [], color=color, ls="none", marker="o", ms=10, mec="white", mew=1.2, zorder=5)
        )
        ax.add_line(path)
        ax.add_line(point)
        note: Text = scene.add(ax.text(0, 0, "", color=color, fontsize=9, zorder=6, clip_on=True))
        raw = t.flat_params()

        def update(step: int) -> None:
            k = min(step, t.steps)
            path.set_data(p[: k + 1, 0], p[: k + 1, 1])
            xlim, ylim = ax.get_xlim(), ax.get_ylim()
            x, y = raw[k]
            if xlim[0] <= x <= xlim[1] and ylim[0] <= y <= ylim[1]:
                point.set_marker("o")
                point.set_data(p[k : k + 1, 0], p[k : k + 1, 1])
                note.set_visible(False)
                return
            # Off the chart: pinned inside the edge, pointing the way it went, with where it is.
            fx = (np.clip(np.nan_to_num(p[k, 0]), *xlim) - xlim[0]) / (xlim[1] - xlim[0])
            fy = (np.clip(np.nan_to_num(p[k, 1]), *ylim) - ylim[0]) / (ylim[1] - ylim[0])
            fx, fy = float(np.clip(fx, 0.03, 0.97)), float(np.clip(fy, 0.03, 0.97))
            point.set_marker(_edge_arrow_2d(x, y, xlim, ylim))
            point.set_data([xlim[0] + fx * (xlim[1] - xlim[0])], [ylim[0] + fy * (ylim[1] - ylim[0])])
            note.set_transform(ax.transAxes)
            note.set_position((fx + (0.03 if fx < 0.5 else -0.03), fy + (0.04 if fy < 0.5 else -0.04)))
            note.set_horizontalalignment("left" if fx < 0.5 else "right")
            note.set_verticalalignment("bottom" if fy < 0.5 else "top")
            note.set_text(f"{options.words['off']}:\n{names[0]}={x:.3g}, {names[1]}={y:.3g}")
            note.set_visible(True)

    scene.updaters.append(update)


def _scene_history_only(items, options: Options, ax) -> Scene:
    fig = ax.figure if ax is not None else scene_figure(options, (640, 480))
    last = max(t.steps for t in items)
    scene = Scene(fig, items, last, lang=options.lang)
    target = ax if ax is not None else fig.add_subplot()
    _history(scene, target, list(enumerate(items)), last, options, items)
    handles = [
        Line2D(
            [], [], color=run_style(i).colour, ls=run_style(i).linestyle, label=_legend_label(t, options, i)
        )
        for i, t in enumerate(items)
    ]
    lines = [np.column_stack([np.arange(t.steps + 1), drawable(t.loss)]) for t in items]
    obstacles = _obstacles(target, lines)
    taken = _counter(scene, target, last, options.words, obstacles)
    legend = target.legend(handles=handles, loc="upper right", fontsize=9)
    spot = free_spot(obstacles, fraction_size(target, legend), taken=taken)
    if spot is not None:
        legend.set_loc(spot)  # type: ignore[arg-type]  # one of SPOTS
    if options.title:
        target.set_title(options.title)
    return scene

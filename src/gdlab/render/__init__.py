"""Pictures and animations of descents, for one or two parameters.

Rendering reads trajectories and never runs a descent. The loss drawn behind
them is evaluated once on a grid (:func:`gdlab._landscape.landscape`).
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

import numpy as np

if TYPE_CHECKING:
    from gdlab._grid import GridResult
    from gdlab._phase import Phase
    from gdlab._sweep import Sweep
    from gdlab.render._animation import Animation
    from gdlab.render._fonts import MissingFontWarning
    from gdlab.render._grid import plot_grid
    from gdlab.render._phase import plot_phase
    from gdlab.render._scene import Options
    from gdlab.render._sweep import plot_sweep
    from gdlab.render._writers import WRITERS, BinaryStream, Writer, available_writers

__all__ = [
    "WRITERS",
    "Animation",
    "BinaryStream",
    "MissingFontWarning",
    "Writer",
    "animate",
    "available_writers",
    "figure_bytes",
    "plot",
    "plot_grid",
    "plot_phase",
    "plot_sweep",
    "save_figure",
    "write_figure",
]

# matplotlib is imported when something draws, not when gdlab.render is: code that
# computes may use gdlab._progress without it.
_LAZY = {
    "Animation": "_animation",
    "MissingFontWarning": "_fonts",
    "plot_grid": "_grid",
    "plot_phase": "_phase",
    "plot_sweep": "_sweep",
    "WRITERS": "_writers",
    "BinaryStream": "_writers",
    "Writer": "_writers",
    "available_writers": "_writers",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(f"gdlab.render.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'gdlab.render' has no attribute {name!r}")


def plot(
    trajectories: object,
    *,
    ax=None,
    layout: str = "overlay",
    history: bool = False,
    log_history: bool = True,
    tangent: bool = False,
    view: str = "contour",
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    title: str | None = None,
    lang: str = "en",
    size: tuple[int, int] | None = None,
    dpi: int = 100,
    loss: Callable[[object], object] | None = None,
    labels: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    minimum: object = None,
):
    """A static picture of one or more descents.

    One parameter: the loss curve with each path and its final point (and the
    tangent there). Two: a filled contour of the loss (log-spaced levels when it
    spans orders of magnitude) with the paths, or a 3D surface. More: the loss
    against the iteration.

    Args:
        trajectories: a :class:`~gdlab.Trajectory` or a list of them; or a
            :class:`~gdlab.Phase`, drawn as its regime map (:func:`plot_phase`; ``title``,
            ``size`` and ``dpi`` apply); or a :class:`~gdlab.Sweep` (:func:`plot_sweep`, likewise);
            or a :class:`~gdlab.GridResult` (:func:`plot_grid`; ``lang`` too); or a
            :class:`~gdlab.Fit`, drawn as ``fit.plot()`` draws it (as :func:`animate`
            draws each step, at its answer; ``title``, ``ylim``, ``lang``, ``size``
            and ``dpi`` apply, the other options are a descent's and refused); or a
            list of iterative fits of one
            two-coefficient model to the same data, one panel each: its path over
            the mean squared residual, the least-squares solution starred.
        ax: draw into this matplotlib Axes (single-panel pictures only).
        layout: ``"overlay"`` (one plot, distinct colours) or ``"panels"``
            (side by side, one per trajectory).
        history: add a panel of the loss against the iteration.
        log_history: that panel on a log scale (when the loss is positive).
        tangent: draw the tangent line and its slope at the final point.
        view: ``"contour"`` or ``"surface"`` for two parameters.
        xlim: the parameter range to draw (default: the paths' extent, padded).
        ylim: the loss range (one parameter) or the second parameter's range.
        title: a title; Korean text renders with a Hangul font when installed.
        lang: ``"en"`` or ``"ko"`` for the axis words.
        size: (width, height) in pixels.
        dpi: dots per inch.
        loss: the loss to draw, when the trajectories do not carry theirs.
        labels: legend names, one per trajectory (default: method and rate).
        names: the parameters' axis names (default: the loss's own, as an
            expression or a function's argument names them).
        minimum: where the loss is lowest, shaped like the parameters (default:
            estimated from the loss); framed when it is near the paths and
            marked with a star in a contour.

    Returns:
        A matplotlib ``Figure``; save it with :func:`save_figure` or ``savefig``,
        get its bytes with :func:`figure_bytes`. A notebook shows it as a
        picture when it is a cell's value (or with ``display(figure)``).

    Raises:
        InputError: something it cannot draw (it names what it takes), or a bad option.

    Example:
        >>> import gdlab
        >>> path = gdlab.descend("(b/2-1)^2", -10.0, lr=0.5, steps=20)
        >>> figure = gdlab.plot(path)
        >>> len(figure.axes), figure.axes[0].get_xlabel()
        (1, 'b')
        >>> rates = gdlab.sweep("(b/2-1)^2", -10.0, lrs=[0.5, 2, 5], steps=50)
        >>> len(gdlab.plot(rates).axes)  # a sweep, drawn as plot_sweep draws it
        2
    """
    from gdlab.render._scene import Options

    options = Options(
        layout=layout,
        history=history,
        log_history=log_history,
        tangent=tangent,
        view=view,
        xlim=xlim,
        ylim=ylim,
        title=title,
        lang=lang,
        size=size,
        dpi=dpi,
        loss=loss,
        labels=None if labels is None else tuple(labels),
        names=None if names is None else tuple(names),
        minimum=_flat_minimum(minimum),
    )
    from gdlab.render._scene import as_trajectories, build_scene

    if _is_phase(trajectories):
        from gdlab.render._phase import plot_phase

        return plot_phase(trajectories, title=title, size=size or (800, 600), dpi=dpi, lang=lang)
    if _is_sweep(trajectories):
        from gdlab.render._sweep import plot_sweep

        return plot_sweep(trajectories, title=title, size=size or (800, 600), dpi=dpi, lang=lang)
    if _is_grid(trajectories):
        from gdlab.render._grid import plot_grid

        return plot_grid(trajectories, title=title, lang=lang, size=size or (640, 480), dpi=dpi)
    if isinstance(trajectories, list | tuple) and trajectories and all(map(_is_fit, trajectories)):
        from gdlab.render._fitpaths import plot_fit_paths

        return plot_fit_paths(trajectories, labels=labels, title=title, size=size, dpi=dpi)
    if _is_fit(trajectories):
        from gdlab._checks import InputError
        from gdlab.render._fitscene import plot_fit

        if ax is not None:
            raise InputError(
                "a fit is drawn in two panels (data and residuals) of its own figure: leave out ax"
            )
        _for_a_fit(options, Options(tangent=False))
        return plot_fit(trajectories, options)
    items = as_trajectories(trajectories)
    scene = build_scene(items, options, ax=ax)
    return scene.freeze(scene.last_step)


# What a fit's picture is drawn with: every other option is a descent's picture's.
_FIT_OPTIONS = ("title", "ylim", "lang", "size", "dpi", "log_steps")


def _for_a_fit(options: Options, defaults: Options) -> None:
    """Refuse an option that a fit's picture would leave unused (``defaults``: the function's own)."""
    from gdlab._checks import InputError

    given = [
        field.name
        for field in dataclasses.fields(options)
        if field.name not in _FIT_OPTIONS
        and not _same(getattr(options, field.name), getattr(defaults, field.name))
    ]
    if given:
        named = ", ".join(given)
        raise InputError(
            f"{named} {'sets' if len(given) == 1 else 'set'} a descent's picture; a fit's picture takes "
            "title, ylim, lang, size and dpi (and an animation's frames, spacing and fps): leave "
            f"{'it' if len(given) == 1 else 'them'} out",
            parameter=given[0],
        )


def _same(a: object, b: object) -> bool:
    return a is b or (type(a) is type(b) and not isinstance(a, np.ndarray) and a == b)


def _is_fit(value: object) -> bool:
    """Whether ``value`` is a :class:`~gdlab.Fit` (without importing the fitting code otherwise)."""
    import sys

    module = sys.modules.get("gdlab.fitting._result")
    return module is not None and isinstance(value, module.Fit)


def _is_a(value: object, module_name: str, name: str) -> bool:
    """Whether ``value`` is an instance of ``module_name.name`` (without importing the module)."""
    import sys

    module = sys.modules.get(module_name)
    return module is not None and isinstance(value, getattr(module, name))


def _is_sweep(value: object) -> TypeGuard[Sweep]:
    return _is_a(value, "gdlab._sweep", "Sweep")


def _is_grid(value: object) -> TypeGuard[GridResult]:
    return _is_a(value, "gdlab._grid", "GridResult")


def _is_phase(value: object) -> TypeGuard[Phase]:
    """Whether ``value`` is a :class:`~gdlab.Phase` (without importing its module otherwise)."""
    import sys

    module = sys.modules.get("gdlab._phase")
    return module is not None and isinstance(value, module.Phase)


def animate(
    trajectories: object,
    *,
    frames: int | Sequence[int] | None = 100,
    spacing: str = "linear",
    fps: float = 20,
    layout: str = "overlay",
    history: bool = False,
    log_history: bool = True,
    tangent: bool = True,
    view: str = "contour",
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    title: str | None = None,
    lang: str = "en",
    size: tuple[int, int] | None = None,
    dpi: int = 100,
    loss: Callable[[object], object] | None = None,
    labels: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    minimum: object = None,
) -> Animation:
    """An animation of one or more descents; ``.save(path)`` or show it in a notebook.

    ``layout``, ``history``, ``log_history``, ``tangent``, ``view``, ``xlim``, ``ylim``,
    ``title``, ``lang``, ``size``, ``dpi``, ``loss``, ``labels``, ``names`` and ``minimum`` are
    as in :func:`plot` (the tangent is on by default here).

    Args:
        trajectories: a :class:`~gdlab.Trajectory` or a list of them; several
            advance in step, each stopping at its own end. Or a
            :class:`~gdlab.Fit` by an iterative method (gd, momentum, adam,
            sgd, newton, lbfgs, lm ...): with one regressor or a one-column
            ``model=``, the data with the fitted curve at each step's
            coefficients (the reference solution faint behind it where the
            method ran beside one; for logistic, the probability) and the
            residuals against the regressor; with several, the observed
            values against the fitted ones and the residuals against the
            fitted values; the step, loss and coefficients above; drawn as
            ``fit.plot()`` draws the answer, its axes sized to hold every
            step. ``frames``, ``spacing``, ``fps``, ``ylim``,
            ``title``, ``lang``, ``size`` and ``dpi`` apply.
        frames: how many frames (default 100, or one per step when fewer), or
            the steps to show.
        spacing: ``"linear"`` or ``"log"`` (dense at the start, so the early
            fast motion of a long run is visible).
        fps: frames per second.

    Returns:
        An :class:`Animation`.

    Example:
        >>> import gdlab
        >>> path = gdlab.descend(lambda b: (b / 2 - 1) ** 2, -10.0, lr=0.5, steps=30)
        >>> gdlab.animate(path, frames=10)
        Animation(10 frames of steps 0..30, 640x480 px, 20 fps)
    """
    from gdlab.render._scene import Options

    options = Options(
        layout=layout,
        history=history,
        log_history=log_history,
        tangent=tangent,
        view=view,
        xlim=xlim,
        ylim=ylim,
        title=title,
        lang=lang,
        size=size,
        dpi=dpi,
        loss=loss,
        labels=None if labels is None else tuple(labels),
        names=None if names is None else tuple(names),
        minimum=_flat_minimum(minimum),
        log_steps=spacing == "log",
    )
    from gdlab.render._animation import Animation
    from gdlab.render._frames import pick_frames
    from gdlab.render._scene import as_trajectories, build_scene

    if _is_fit(trajectories):
        from gdlab.render._fitscene import drawable_fit, fit_scene

        _for_a_fit(options, Options(log_steps=options.log_steps))
        fitted = drawable_fit(trajectories, animated=True)
        steps = pick_frames(fitted.steps or 0, frames, spacing)
        note = _few_frames(frames, steps, fitted.lr, fitted.status)
        return Animation(fit_scene(fitted, options, steps), steps, fps, note)
    still = next((name for name, seen in _STILLS.items() if seen(trajectories)), None)
    if still is not None:  # a picture of many runs, each of which animates
        from gdlab._checks import InputError

        runs = (
            " (its runs animate: gdlab.animate([sweep.trajectory(i) for i in (0, 5)]))"
            if still == "Sweep"
            else ""
        )
        raise InputError(f"a {still} is drawn as one picture, not animated: gdlab.plot(it){runs}")
    items = as_trajectories(trajectories)
    steps = pick_frames(max(t.steps for t in items), frames, spacing)
    one = items[0] if len(items) == 1 else None
    note = _few_frames(frames, steps, one and one.lr, one and one.status)
    return Animation(build_scene(items, options, frame_steps=steps), steps, fps, note)


# What gdlab.plot draws as one picture of many runs, and animate does not.
_STILLS: dict[str, Callable[[object], bool]] = {
    "Sweep": _is_sweep,
    "Phase": _is_phase,
    "grid search": _is_grid,
}


def _few_frames(frames: object, steps: np.ndarray, lr: object, status: object) -> str:
    """Why an animation of a run that converged has fewer frames than asked for (a frame a step at
    most), and that a smaller rate takes more steps to watch; ``""`` otherwise (a run that took
    the steps it was given has a frame a step, as asked)."""
    if not isinstance(frames, int) or steps.size >= frames or getattr(status, "value", None) != "converged":
        return ""
    taken = int(steps[-1])
    plural = "s" if taken != 1 else ""
    note = f"{steps.size} frames, not {frames}: the run converged in {taken} step{plural}"
    note += ", and a frame shows a step"
    if isinstance(lr, int | float) and np.isfinite(lr) and lr > 0:
        note += f"; a smaller rate than {lr:.4g} takes more steps to watch"
    return note


def _flat_minimum(minimum: object) -> tuple[float, ...] | None:
    if minimum is None:
        return None
    from gdlab._trajectory import flat_rows

    return tuple(float(v) for v in flat_rows(minimum, 1)[0])


def save_figure(figure, path: str | os.PathLike[str]) -> Path:
    """Save a static figure (``.png``, ``.svg``, ``.pdf``) atomically.

    The file is written under a temporary name and renamed, so an interrupted save leaves no
    broken file behind.

    Args:
        figure: a matplotlib ``Figure``, as :func:`plot` and the other ``plot_*`` return.
        path: where to write it; the extension picks the format.

    Returns:
        The path written.

    Raises:
        ValueError: an unsupported extension (the message lists the supported
            ones) or a folder that cannot be written.

    Example:
        >>> import gdlab
        >>> path = gdlab.descend(lambda b: (b / 2 - 1) ** 2, -10.0, lr=0.5, steps=5)
        >>> gdlab.save_figure(gdlab.plot(path), "descent.png").name
        'descent.png'
    """
    from gdlab.render import _writers

    return _writers.save(figure, path, animated=False)


def write_figure(figure, stream: BinaryStream, format: str = "png") -> None:
    """Write a static figure's bytes (``"png"``, ``"svg"``, ``"pdf"``) to a binary ``stream``."""
    from gdlab.render import _writers

    _writers.write(figure, stream, format, animated=False)


def figure_bytes(figure, format: str = "png") -> bytes:
    """A static figure encoded as ``"png"``, ``"svg"`` or ``"pdf"``, e.g. for a web response.

    Args:
        figure: a matplotlib ``Figure``, as :func:`plot` and the other ``plot_*`` return.
        format: ``"png"``, ``"svg"`` or ``"pdf"``.

    Returns:
        The encoded file's bytes.

    Raises:
        ValueError: an unsupported format (the message lists the supported ones).

    Example:
        >>> import gdlab
        >>> from gdlab.render import figure_bytes
        >>> path = gdlab.descend(lambda b: (b / 2 - 1) ** 2, -10.0, lr=0.5, steps=5)
        >>> figure_bytes(gdlab.plot(path), "png")[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
    """
    from gdlab.render import _writers

    return _writers.to_bytes(figure, format, animated=False)

"""What the lab computes, as plain JSON-ready dicts: shared by the web server and the notebook widget.

Everything here calls gdlab's public functions (parse, descend, sweep,
stability, landscape, animate and the trajectory's writers). What it adds is
only what a page needs: parsed expressions kept per text (so compiled code is
reused), rows thinned to what can be drawn (the final row always exact), and
strict JSON (non-finite numbers as ``null``).
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

import gdlab
from gdlab._bind import moving_start
from gdlab._cancel import checkpoint
from gdlab._checks import Spelling
from gdlab._levels import contour_levels
from gdlab._stepped import STEPPED_STEPS, descend_soonest, elementwise, landscape_stepped
from gdlab._window import path_box
from gdlab.web._cost import Budget
from gdlab.web._models import (
    DEFAULT,
    DescentIn,
    ExportIn,
    FieldError,
    FitIn,
    LandscapeIn,
    ParseIn,
    PhaseIn,
    PhasePictureIn,
    RunIn,
    StabilityIn,
    SweepIn,
    WebLimits,
    problems,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Json = dict[str, object]

_RENDER_LOCK = threading.Lock()  # matplotlib draws one picture at a time


def _optax():
    import optax

    return optax


def finite(values: object) -> object:
    """Nested lists of floats with NaN and infinities as ``None`` (strict JSON)."""
    array = np.asarray(values, dtype=float)
    out = array.astype(object)
    out[~np.isfinite(array)] = None
    return out.tolist()


def thin(rows: int, points: int) -> np.ndarray:
    """At most ``points`` row indices, evenly spread, always the first and the last."""
    if rows <= points:
        return np.arange(rows)
    return np.unique(np.round(np.linspace(0, rows - 1, points)).astype(int))


class _Bounded:
    """A small least-recently-used map, safe across threads."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict[object, object](), threading.Lock()

    def get(self, key: object, make: Callable[[], object]) -> object:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = make()  # outside the lock: parsing may take a while
        with self.lock:
            value = self.items.setdefault(key, value)
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


def _uploaded(err: gdlab.InputError, path: str) -> gdlab.InputError:
    """A fit's refusal in the page's words: the private file's path is the uploaded CSV; options
    keep their spelling."""

    def said(spelling: Spelling) -> str:
        return err.spelled(spelling).replace(path, "the uploaded CSV")

    return gdlab.InputError(said, parameter=err.parameter)


class Lab:
    """The lab's computations, with expressions and optimiser settings cached (bounded)."""

    def __init__(self, limits: WebLimits | None = None):
        self.limits = limits or WebLimits()
        self.budget = Budget(self.limits)
        self._expressions = _Bounded(self.limits.cached_expressions)
        self._parsed = _Bounded(self.limits.cached_expressions)
        self._shapes = _Bounded(self.limits.cached_expressions)

    # -- inputs ---------------------------------------------------------------

    def expression(self, text: str, data: str | None) -> gdlab.Expression:
        """The parsed loss: one object per (text, data), so compiled code is reused.

        Expressions compare by identity, so parsing the same text again would compile again.
        """
        from gdlab._bind import parse_with_data

        found = self._expressions.get((text, data), lambda: parse_with_data(text, data))
        assert isinstance(found, gdlab.Expression)
        return found

    @staticmethod
    def method(name: str, hyper: Mapping[str, float]) -> gdlab.Method:
        """The named method with the page's settings (the registry checks and caches them)."""
        return gdlab.METHODS[name].configured(**hyper)

    @staticmethod
    def start(
        loss: gdlab.Expression, values: Mapping[str, float | list[float]]
    ) -> dict[str, float | np.ndarray]:
        missing = [p for p in loss.params if p not in values]
        extra = [p for p in values if p not in loss.params]
        if missing or extra:  # both at once: a renamed parameter is one of each
            said = [f"give a start for {', '.join(missing)}"] if missing else []
            if extra:
                verb = "is not a parameter" if len(extra) == 1 else "are not parameters"
                said.append(
                    f"{', '.join(extra)} {verb} of {loss.text} (its parameters: {', '.join(loss.params)})"
                )
            raise gdlab.InputError("; ".join(said))
        start = {p: _value(values[p]) for p in loss.params}
        size = sum(np.size(v) for v in start.values())
        if size > WebLimits().params:
            raise gdlab.InputError(f"a start of {size} numbers: at most {WebLimits().params} are allowed")
        from gdlab._bind import check_start

        if not elementwise(loss, start):  # that one takes any numbers: no need to compute it here
            check_start(loss, start)
        return start

    # -- endpoints ------------------------------------------------------------

    def parse(self, request: ParseIn) -> Json:
        """Parameters and exact derivatives, kept per text: SymPy's simplification is the slow part."""
        key = (request.expression, request.data)
        found = self._parsed.get(key, lambda: self._describe(self.expression(*key), self.shapes(*key)))
        assert isinstance(found, dict)
        return found

    def shapes(self, text: str, data: str | None) -> dict[str, tuple[int, ...]]:
        """Each parameter's shape: ``()``, or ``(k,)`` for the vector of the lecture's matrix form."""
        from gdlab._bind import loss_data, start_shapes

        loss = self.expression(text, data)
        found = self._shapes.get((text, data), lambda: start_shapes(loss, loss_data(data, text)))
        assert isinstance(found, dict)
        return found

    @staticmethod
    def _describe(loss: gdlab.Expression, shapes: dict[str, tuple[int, ...]]) -> Json:
        derivatives: dict[str, str | None] = {}
        latex: dict[str, str | None] = {}
        notes = [loss.symbolic_note] if loss.symbolic_note else []
        for name in loss.params:
            found = loss.exact_derivative(name)  # within the symbolic budget, with the reason if not
            if found.note and found.note not in notes:
                notes.append(found.note)
            derivatives[name] = None if found.exact is None else str(found.exact)
            latex[name] = None if found.exact is None else _latex(found.exact)
        return {
            "notes": notes,
            "text": loss.text,
            "params": list(loss.params),
            "shapes": {name: list(shape) for name, shape in shapes.items()},
            "data": list(loss.data),
            "latex": loss.latex(),
            "derivatives": derivatives,
            "derivatives_latex": latex,
            "start": moving_start(loss, shapes),  # where a parameter without a start begins
        }

    def trajectories(self, request: RunIn) -> list[gdlab.Trajectory]:
        loss = self.expression(request.expression, request.data)
        start = self.start(loss, request.start)
        method = self.method(request.method, request.hyper)
        if request.batch_size is not None:
            return self._sgd(loss, start, method, request)
        if not gdlab.METHODS[request.method].needs_lr:  # it chooses its own steps: one run, no rate
            self.budget.descents(loss, 1, request.steps)
            return [gdlab.descend(loss, start, steps=request.steps, method=method, tol=request.tol)]
        self.budget.descents(loss, len(request.rates), request.steps)
        paths = []
        # Short runs of a typed loss are stepped in NumPy until compiling it pays (_stepped).
        short = len(request.rates) * request.steps <= STEPPED_STEPS
        for lr in request.rates:
            checkpoint()  # a request stopped from outside ends between runs too
            paths.append(
                descend_soonest(
                    loss, start, lr=lr, steps=request.steps, method=method, tol=request.tol, step=short
                )
            )
        return paths

    def _sgd(
        self, loss: gdlab.Expression, start: Mapping[str, object], method: gdlab.Method, request: RunIn
    ) -> list[gdlab.Trajectory]:
        """Minibatch runs (:func:`gdlab.sgd`) of the typed loss over its data, one per rate, each
        batch taking the data's place in the loss; shuffled from seed 0, so a run is repeatable."""
        batch_size = request.batch_size
        assert batch_size is not None
        rows = {int(np.shape(v)[0]) for v in loss.data_values.values() if np.ndim(v) > 0}
        if not rows:
            raise FieldError(
                "batch_size",
                "minibatches are rows of data, and this loss names none; choose the cafe data "
                "and a loss over its x and y, such as sum((y - b0 - b1*x)^2)",
            )
        if not gdlab.METHODS[request.method].needs_lr:
            raise FieldError("method", f"{request.method} chooses its own steps; sgd takes a rate")
        n = min(rows)
        if batch_size > n:
            raise FieldError("batch_size", f"at most {n}, the rows of the data; got {batch_size}")
        steps = request.epochs * (n // batch_size)
        if steps > self.limits.steps:
            most = self.limits.steps // (n // batch_size)
            raise FieldError(
                "epochs",
                f"{request.epochs:,} epochs of {n // batch_size} steps are {steps:,} steps, over the "
                f"{self.limits.steps:,} a run may take: at most {most:,} epochs at batch size {batch_size}",
            )
        self.budget.descents(loss, len(request.rates), steps)
        data = {name: np.asarray(v) for name, v in loss.data_values.items()}

        def on_batch(params: Mapping[str, object], batch: Mapping[str, object]) -> object:
            return loss.function({**batch, **params})  # the batch's rows in the data's place

        paths = []
        for lr in request.rates:
            checkpoint()
            paths.append(
                gdlab.sgd(
                    on_batch,
                    dict(start),
                    data,
                    lr=lr,
                    batch_size=batch_size,
                    epochs=request.epochs,
                    method=method,
                )
            )
        return paths

    @staticmethod
    def methods(_: object = None) -> Json:
        """The optimisers by name, whether each takes a rate, and the settings the page may change;
        and the colour and marker of each regime, as the pictures draw them."""
        from gdlab._colours import REGIME_COLOURS, REGIME_MARKERS, run_styles
        from gdlab._expr import FUNCTIONS

        styles = run_styles(DEFAULT.rates)
        return {
            "run_colours": [style.colour for style in styles],
            "run_styles": [style.to_dict() for style in styles],
            "regime_colours": dict(REGIME_COLOURS),
            "regime_markers": dict(REGIME_MARKERS),
            "functions": sorted(FUNCTIONS),  # the names a loss may call
            "max_steps": DEFAULT.steps,  # the most steps a request may ask (the page checks it first)
            "methods": [
                {
                    "name": name,
                    "needs_lr": spec.needs_lr,
                    "settings": spec.defaults,
                    "summary": spec.summary,
                    "momentum": spec.momentum,  # the setting a phase diagram varies, if any
                }
                for name, spec in gdlab.METHODS.items()
            ],
        }

    def run(self, request: RunIn) -> Json:
        loss, paths = self.expression(request.expression, request.data), self.trajectories(request)
        points = self.budget.points(loss, len(paths), request.points)  # no more than the page can draw
        # The window the pictures frame (gdlab._window): a run that diverged does not set it.
        window = dict(zip(paths[0].names, path_box(paths, 0.15), strict=True)) if paths else {}
        return {
            "params": list(loss.params),
            "runs": [_run_json(t, points) for t in paths],
            "window": {name: finite([lo, hi]) for name, (lo, hi) in window.items()},
        }

    def descent(self, request: DescentIn) -> Json:
        """The runs, the loss on a grid over their window and the loss's parameters, in one answer:
        the page's first picture, and a typed loss redrawn, from one request."""
        import pydantic

        try:
            loss = self.expression(request.expression, request.data)
        except gdlab.ExpressionError as err:  # named, so a page says it under the loss it typed
            raise FieldError("expression", str(err)) from None
        shapes = self.shapes(request.expression, request.data)
        start = self.start_for(loss, shapes, request.start)
        out = self.run(request.model_copy(update={"start": start}))
        view: Json | None = None
        trouble: str | None = None
        window = out["window"]
        assert isinstance(window, dict)
        if request.landscape and 1 <= len(window) <= 2:
            try:
                ranges = LandscapeIn.model_validate(
                    {"expression": request.expression, "data": request.data, "ranges": window}
                )
                view = self.landscape(ranges)
            except gdlab.InputError as err:  # the runs still show, against the iteration
                trouble = str(err)
            except pydantic.ValidationError as err:  # a window without finite ends
                trouble = problems(err.errors())
        return {
            **out,
            "loss": {
                "text": loss.text,
                "params": list(loss.params),
                "shapes": {name: list(shape) for name, shape in shapes.items()},
                "data": list(loss.data),
            },
            "start": {name: np.asarray(value, dtype=float).tolist() for name, value in start.items()},
            "landscape": view,
            "landscape_error": trouble,
        }

    @staticmethod
    def start_for(
        loss: gdlab.Expression, shapes: dict[str, tuple[int, ...]], given: Mapping[str, object]
    ) -> dict[str, object]:
        """The start for the loss as it is now: the values given for its parameters, and for a
        parameter without one the start where its gradient is not zero; other names left out."""
        fresh = moving_start(loss, shapes) if any(p not in given for p in loss.params) else {}
        return {p: given[p] if p in given else fresh[p] for p in loss.params}

    def landscape(self, request: LandscapeIn) -> Json:
        from gdlab._bind import component_list, point_from_components

        loss = self.expression(request.expression, request.data)
        shapes = self.shapes(request.expression, request.data)
        components = component_list(shapes)  # a vector's components are drawn one axis each
        names = list(request.ranges)
        if sorted(names) != sorted(components):
            raise gdlab.InputError(
                f"give a range for each parameter ({', '.join(components)}); a picture takes one or two",
                parameter="ranges",
            )
        for name, (start, stop) in request.ranges.items():
            if not start < stop:
                raise gdlab.InputError(
                    f"the range of {name} must go from low to high; got {start} to {stop}", parameter="ranges"
                )
            if not math.isfinite(stop - start):
                raise gdlab.InputError(
                    f"the range of {name} is too wide to draw ({start:g} to {stop:g})", parameter="ranges"
                )
        num = request.num or (400 if len(names) == 1 else 80)
        self.budget.landscape(loss, num, len(names))

        def by_position(p: Sequence[object]) -> object:
            return loss.function(point_from_components(shapes, dict(zip(names, p, strict=True))))

        like = tuple(0.0 for _ in names)
        ranges = [request.ranges[n] for n in names]
        # A loss the lab steps without compiling is drawn without JAX too (its NumPy form, at once).
        view = landscape_stepped(loss, names, ranges, num) or gdlab.landscape(
            by_position, like, ranges, num=num
        )
        values = np.asarray(view.values, dtype=float)
        shown = values[np.isfinite(values)]
        low: float | None = float(shown.min()) if shown.size else None
        high: float | None = float(shown.max()) if shown.size else None
        found = contour_levels(values)  # the pictures' own levels: the page draws the same
        return {
            "names": names,
            "axes": [finite(a) for a in view.axes],
            "values": finite(values),
            "min": low,
            "max": high,
            "log": found.log,
            "offset": 0.0 if found.log else None,
            "levels": finite(found.values),
            "ticks": finite(found.ticks),
        }

    def sweep(self, request: SweepIn) -> Json:
        loss = self.expression(request.expression, request.data)
        start = self.start(loss, request.start)
        if request.rates:
            lrs = np.asarray(request.rates, dtype=float)
        else:
            lrs = gdlab.rates(request.low, request.high, request.num, log=request.log)
        self.budget.sweep(loss, lrs.size, request.steps)
        method = self.method(request.method, request.hyper)
        result = gdlab.sweep(
            loss, start, lrs=lrs, steps=request.steps, method=method, tol=request.tol, save="final"
        )
        out = result.to_dict()
        bound = result.stability
        for run in out["runs"]:  # type: ignore[attr-defined]
            run["explain"] = None if bound is None else bound.explain(run["lr"])
        out["summary"] = None if bound is None else bound.summary()
        return out

    def phase(self, request: PhaseIn) -> Json:
        """Every (rate, momentum) cell's regime and sentence, with the theory's boundary on a quadratic."""
        from gdlab._colours import REGIME_COLOURS

        return {**self._phase(request).to_dict(), "regime_colours": dict(REGIME_COLOURS)}

    def phase_picture(self, request: PhasePictureIn) -> tuple[bytes, str, str]:
        """The phase diagram as PNG or SVG, drawn by gdlab's renderer from the same runs."""
        result = self._phase(request)
        with _render_lock():
            checkpoint()
            data = _save(gdlab.plot(result, size=(1000, 700)), request.format)
        return data, _PICTURES[request.format], f"gdlab-phase-{result.method}.{request.format}"

    def _phase(self, request: PhaseIn) -> gdlab.Phase:
        loss = self.expression(request.expression, request.data)
        start = self.start(loss, request.start)
        spec = gdlab.METHODS[request.method]
        varied = spec.momentum
        if varied in request.hyper:
            raise FieldError(
                "hyper", f"{varied} is the setting the phase diagram varies; give its values as momenta"
            )
        if request.rates:
            lrs = np.asarray(request.rates, dtype=float)
        else:
            lrs = gdlab.rates(request.low, request.high, request.num)
        if request.momenta:
            momenta = np.asarray(request.momenta, dtype=float)
        else:
            low, high, num = request.momentum_low, request.momentum_high, request.momentum_num
            momenta = np.linspace(low, high, num) if num > 1 else np.asarray([low])
        cells = lrs.size * momenta.size
        if cells > self.limits.phase_side**2:
            raise FieldError(
                "num", f"a grid of {cells:,} cells; at most {self.limits.phase_side**2:,} are drawn at once"
            )
        self.budget.phase(loss, cells, request.steps)
        return gdlab.phase(
            loss,
            start,
            lrs=lrs,
            momenta=momenta,
            method=self.method(request.method, request.hyper),
            steps=request.steps,
            tol=request.tol,
        )

    def fit(self, request: FitIn) -> Json:
        """A formula fitted to the CSV's text: the summary the command line prints, and the fit's
        dictionary. The text is written to a private temporary file and read by gdlab's CSV reader,
        with its checks; the formula goes through gdlab's expression compiler, never ``eval``."""
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory(prefix="gdlab-fit-") as folder:
            path = Path(folder) / "data.csv"
            path.write_text(request.csv, encoding="utf-8")
            try:
                result = gdlab.fit(
                    path,
                    request.formula,
                    family=request.family,
                    cov=request.cov,
                    groups=request.groups,
                    weights=request.weights,
                    dropna=request.dropna,
                )
            except gdlab.InputError as err:
                raise _uploaded(err, str(path)) from None
        out = result.to_dict()
        return {"summary": result.summary(), "fit": out}

    def stability(self, request: StabilityIn) -> Json:
        loss = self.expression(request.expression, request.data)
        report = gdlab.stability(loss, self.start(loss, request.at))
        out = report.to_dict()
        out["summary"] = report.summary()
        out["explain"] = [{"lr": lr, "text": report.explain(lr)} for lr in request.lrs]
        return out

    def export(self, request: ExportIn) -> tuple[bytes, str, str]:
        """The current runs as a file: (bytes, media type, file name), from gdlab's own writers."""
        if request.format in ("csv", "json"):
            self.budget.file(self.expression(request.expression, request.data), request.steps)
        paths = self.trajectories(request)
        if request.format in ("csv", "json"):
            if request.run >= len(paths):
                raise gdlab.InputError(
                    f"run {request.run} does not exist; there are {len(paths)} runs", parameter="run"
                )
            chosen = paths[request.run]
            text = chosen.to_csv() if request.format == "csv" else chosen.to_json() + "\n"
            data = text.encode("utf-8")
            media = "text/csv" if request.format == "csv" else "application/json"
            rate = chosen.method if chosen.lr is None else f"lr{chosen.lr:g}"
            return data, media, f"gdlab-{rate}.{request.format}"
        # The page's window (gdlab._window), so that the file frames the race the page showed.
        window = path_box(paths, 0.15)
        if request.format in ("png", "svg"):
            return _picture(paths, window, request.format, request.lang)
        with _render_lock():
            movie = gdlab.animate(
                paths,
                xlim=window[0] if len(window) <= 2 else None,
                ylim=window[1] if len(window) == 2 else None,
                frames=request.frames,
                spacing=request.spacing,
                history=len(paths[0].names) <= 2,
                lang=request.lang,
                size=(640, 480),
            )
            _check_between_frames(movie)
            data = movie.to_bytes(request.format)
        media = "image/gif" if request.format == "gif" else "video/mp4"
        return data, media, f"gdlab-descent.{request.format}"


@contextlib.contextmanager
def _render_lock() -> Iterator[None]:
    """The render lock, waited for in short tries: an export stopped while it waits stops waiting."""
    while not _RENDER_LOCK.acquire(timeout=0.1):
        checkpoint()
    try:
        yield
    finally:
        _RENDER_LOCK.release()


_PICTURES = {"png": "image/png", "svg": "image/svg+xml"}


def _picture(
    paths: list[gdlab.Trajectory], window: list[tuple[float, float]], format: str, lang: str
) -> tuple[bytes, str, str]:
    """The runs' picture at their last step, drawn by gdlab's own renderer (:func:`gdlab.plot`:
    the same run colours and dashes as the page), in the page's window."""
    with _render_lock():
        checkpoint()
        figure = gdlab.plot(
            paths,
            xlim=window[0] if len(window) <= 2 else None,
            ylim=window[1] if len(window) == 2 else None,
            history=len(paths[0].names) <= 2,
            lang=lang,
            size=(1200, 560),
        )
        data = _save(figure, format)
    return data, _PICTURES[format], f"gdlab-descent.{format}"


def _save(figure: Figure, format: str) -> bytes:
    """A matplotlib figure's file, without a date or software stamp (the same picture gives the
    same bytes); the figure is closed."""
    import io

    import matplotlib.pyplot as plt

    try:
        out = io.BytesIO()
        stamp = {"Software": None} if format == "png" else {"Date": None}
        figure.savefig(out, format=format, metadata=stamp)
        return out.getvalue()
    finally:
        plt.close(figure)


def _check_between_frames(movie: gdlab.Animation) -> None:
    """Make ``movie`` check for a stop between frames, so an export past its time limit ends
    (and gives the render lock back) within a frame rather than after the whole file."""
    frames = movie.frames

    def checked() -> Iterator[np.ndarray]:
        for frame in frames():
            checkpoint()
            yield frame

    movie.frames = checked  # type: ignore[method-assign]  # this one object's, for its writer


def _value(value: float | list[float]) -> float | np.ndarray:
    """A start's value: a number, or a vector parameter's array."""
    return np.asarray(value, dtype=float) if isinstance(value, list) else float(value)


def _latex(exact: object) -> str | None:
    """The derivative in LaTeX for the page, within the symbolic time budget (None past it)."""
    import sympy

    from gdlab._checks import LIMITS
    from gdlab._symbolic import OutOfTime, within

    try:
        return str(within(LIMITS.symbolic_seconds, lambda: sympy.latex(exact)))
    except (Exception, OutOfTime):  # a picture of the formula is optional; plain text still shows
        return None


def _run_json(path: gdlab.Trajectory, points: int) -> Json:
    rows = thin(path.steps + 1, points)
    params, grads = path.flat_params(), path.flat_grad()
    return {
        **path.summary(),  # its final_loss is the last row's, exact
        "names": list(path.names),
        "index": rows.tolist(),
        "params": finite(params[rows]),
        "loss": finite(path.loss[rows]),
        "grad": finite(grads[rows]),
    }

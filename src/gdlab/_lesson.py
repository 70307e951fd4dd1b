"""The lecture as a guided lesson: every chapter's words, numbers, code and task, in one place.

A :class:`Chapter` holds what the reader sees (title and prose in Korean and
English, the lecture's TensorFlow code, gdlab's code, the lecture's printed
values), the settings the reader may change, and one function that computes the
chapter live from those settings with gdlab's public functions: the values, the
picture (as plotly traces, so the page only draws), and whether the chapter's
task is met and why. The page (``/lesson``), the notebook export
(:func:`notebook`) and ``gdlab.lesson()`` are all made from :data:`CHAPTERS`.
"""

from __future__ import annotations

import functools
import math
import re
import string
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jax.numpy as jnp
import numpy as np

from gdlab import datasets
from gdlab._checks import InputError, closest
from gdlab._derivatives import grad
from gdlab._descend import descend
from gdlab._expr import ExpressionError, number
from gdlab._grid import GridEdgeWarning, grid_search
from gdlab._ols import ols
from gdlab._sgd import sgd
from gdlab._stability import stability

Text = Mapping[str, str]  # {"en": ..., "ko": ...}
Settings = dict[str, float]
LANGS = ("ko", "en")


def lecture_loss(b):
    """The lecture's ``(b/2 - 1)^2``, minimised at b = 2."""
    return (b / 2 - 1) ** 2


def homework_loss(x):
    """The homework's ``(x - 1)^2``, minimised at x = 1."""
    return (x - 1) ** 2


def homework_batch_loss(x, batch):
    """``(x - 1)^2`` written as a mean over samples ``z`` whose mean is 1: SGD's form of it."""
    return jnp.mean((x - batch) ** 2)


@functools.cache
def homework_samples(n: int = 20) -> np.ndarray:
    """Samples with mean exactly 1: the mean of ``(x - z)^2`` over them is ``(x - 1)^2`` plus a constant."""
    noise = np.random.default_rng(43052).normal(size=n)
    return 1 + 0.5 * (noise - noise.mean())


@dataclass(frozen=True)
class Control:
    """A setting the reader changes: a number typed as arithmetic (``0.01/6``), within [low, high]."""

    name: str
    label: Text
    default: str
    low: float
    high: float
    whole: bool = False

    @property
    def log(self) -> bool:
        """Whether a slider over this setting is spaced logarithmically (a range over 3 decades)."""
        return self.low > 0 and self.high / self.low >= 1000

    def read(self, value: object) -> float:
        """The reader's value as a number in range, or an :class:`InputError` naming this setting."""
        try:
            got = float(value) if isinstance(value, int | float) else number(str(value))
        except ExpressionError as err:
            raise InputError(f"{self.name}: {err.problem}") from None
        if self.whole and got != int(got):
            raise InputError(f"{self.name} must be a whole number; got {value}")
        if not self.low <= got <= self.high:
            raise InputError(f"{self.name} must be between {self.low:g} and {self.high:g}; got {got:g}")
        return float(int(got)) if self.whole else got

    def written(self, typed: object, value: float) -> str:
        """The setting as Python code: as typed when it is plain arithmetic on numbers (``0.01/6``)."""
        if self.whole:
            return str(int(value))
        text = str(typed).strip()
        if not _ARITHMETIC.fullmatch(text):
            return repr(value)
        return f"{text}.0" if _INTEGER.fullmatch(text) else text


_NUMBER = r"\d+(?:\.\d*)?(?:e[-+]?\d+)?"
_ARITHMETIC = re.compile(rf"-?{_NUMBER}(?:\s*[*/+-]\s*{_NUMBER})*")
_INTEGER = re.compile(r"-?\d+")


@dataclass(frozen=True)
class Row:
    """One number: its label, the lecture's print of it (``None``: the lecture printed none)."""

    label: Text
    lecture: str | None


@dataclass(frozen=True)
class Live:
    """A chapter computed at some settings: a value per row, the picture, and the task's verdict."""

    values: tuple[str, ...]
    picture: dict[str, Any]
    met: bool
    why: Text


@dataclass(frozen=True)
class Chapter:
    """One step of the lecture (see the module's docstring)."""

    key: str
    title: Text
    prose: Text
    rows: tuple[Row, ...]
    controls: tuple[Control, ...]
    tf_code: str
    code: str  # gdlab's code, with $name for each control
    task: Text
    hint: Text
    compute: Callable[[Settings], Live]
    note: Text = field(default_factory=lambda: {"en": "", "ko": ""})
    animate: bool = False

    def settings(self, given: Mapping[str, object] | None = None) -> Settings:
        """The defaults, overridden by ``given`` (each checked against its control)."""
        given = dict(given or {})
        unknown = sorted(set(given) - {c.name for c in self.controls})
        if unknown:
            raise InputError(f"chapter {self.key} has no setting {', '.join(unknown)}")
        return {c.name: c.read(given.get(c.name, c.default)) for c in self.controls}

    def code_at(self, given: Mapping[str, object] | None = None) -> str:
        """gdlab's code at the reader's settings (as typed where Python reads it alike), ready to run."""
        values = self.settings(given)
        given = dict(given or {})
        return string.Template(self.code).substitute(
            {c.name: c.written(given.get(c.name, c.default), values[c.name]) for c in self.controls}
        )

    def live(self, given: Mapping[str, object] | None = None) -> Live:
        """The chapter computed at the reader's settings."""
        return self.compute(self.settings(given))

    def at_lecture(self) -> Live:
        """The chapter computed at the lecture's own settings."""
        return _at_lecture(self.key)


def _t(en: str, ko: str) -> Text:
    return {"en": en, "ko": ko}


def f32(v: Any) -> str:
    """A float32 value as TensorFlow prints it: float32's shortest digits."""
    return str(np.float32(v))


def _g(v: Any, digits: int = 10) -> str:
    return f"{float(v):.{digits}g}"


def _curve(f: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, name: str) -> dict[str, Any]:
    xs = np.linspace(lo, hi, 301)
    return {
        "type": "scatter",
        "mode": "lines",
        "x": xs.tolist(),
        "y": np.asarray(f(xs)).tolist(),
        "name": name,
    }


def _points(xs: object, ys: object, name: str, mode: str = "markers", **more: Any) -> dict[str, Any]:
    x, y = np.asarray(xs, float).ravel(), np.asarray(ys, float).ravel()
    return {"type": "scatter", "mode": mode, "x": x.tolist(), "y": y.tolist(), "name": name, **more}


def _picture(traces: list[dict[str, Any]], x: str, y: str, **layout: Any) -> dict[str, Any]:
    return {
        "traces": traces,
        "layout": {"xaxis": {"title": {"text": x}}, "yaxis": {"title": {"text": y}}, **layout},
    }


def _thin(values: np.ndarray, most: int = 240) -> np.ndarray:
    """At most ``most`` frames of a path, the first and last kept."""
    if len(values) <= most:
        return values
    return values[np.unique(np.linspace(0, len(values) - 1, most).round().astype(int))]


# --- 1. the cafe data and its scalar-form gradient ------------------------------------------


def _data(s: Settings) -> Live:
    cafe = datasets.cafe()
    x, y = jnp.asarray(cafe.x, "float32"), jnp.asarray(cafe.y, "float32")
    g0, g1 = grad(lambda b0, b1: jnp.sum((y - b0 - b1 * x) ** 2), (0, 1), dtype="float32")(s["b0"], s["b1"])
    line = s["b0"] + s["b1"] * cafe.x
    gaps = [
        v for xi, yi, fi in zip(cafe.x, cafe.y, line, strict=True) for v in ((xi, yi), (xi, fi), (None, None))
    ]
    picture = _picture(
        [
            _points(cafe.x, cafe.y, "y", marker={"size": 10}),
            _points(cafe.x, line, "b0 + b1 x", mode="lines"),
            {
                "type": "scatter",
                "mode": "lines",
                "x": [g[0] for g in gaps],
                "y": [g[1] for g in gaps],
                "name": "y - b0 - b1 x",
                "line": {"dash": "dot"},
            },
        ],
        "x",
        "y",
    )
    met = float(g1) > 0
    why = (
        _t(
            f"d/db1 = {f32(g1)} > 0: the loss rises as b1 grows, so a step should lower b1",
            f"d/db1 = {f32(g1)} > 0: b1을 키우면 loss가 커지므로 b1을 줄이는 쪽이 내리막입니다",
        )
        if met
        else _t(
            f"d/db1 = {f32(g1)} is still negative: raising b1 still lowers the loss",
            f"d/db1 = {f32(g1)}, 아직 음수입니다: b1을 키우면 loss가 아직 줄어듭니다",
        )
    )
    return Live((str(cafe.y[0]), f32(g0), f32(g1)), picture, met, why)


# --- 2. the matrix form beside autodiff ---------------------------------------------------------


def _cafe_matrix():
    cafe = datasets.cafe()
    X, y = cafe.X, cafe.y.reshape(-1, 1)
    return X, y, lambda b: (y - X @ b).T @ (y - X @ b)


def _matrix(s: Settings) -> Live:
    X, y, sse = _cafe_matrix()
    b = np.array([[s["b0"]], [s["b1"]]])
    auto = np.asarray(grad(sse)(b)).ravel()
    formula = (-2 * X.T @ y + 2 * X.T @ X @ b).ravel()
    b0s, b1s = np.linspace(0, 20, 61), np.linspace(1.5, 2.9, 61)
    B0, B1 = np.meshgrid(b0s, b1s)
    res = y.reshape(1, 1, -1) - B0[..., None] - B1[..., None] * X[:, 1]
    sse_grid = np.log10((res**2).sum(-1))
    picture = _picture(
        [
            {
                "type": "contour",
                "x": b0s.tolist(),
                "y": b1s.tolist(),
                "z": sse_grid.tolist(),
                "colorscale": "Viridis",
                "showscale": False,
                "name": "log10 loss",
                "ncontours": 18,
            },
            _points([s["b0"]], [s["b1"]], "b", marker={"size": 14, "color": "#d62728"}),
            _points(
                [9.94457323],
                [2.21570461],
                "β̂",
                marker={"size": 13, "symbol": "x", "color": "white", "line": {"width": 1.5}},
            ),
        ],
        "b0",
        "b1",
    )
    size = float(np.abs(auto).max())
    met = size < 200
    why = (
        _t(
            f"the largest component is {size:.3g} < 200: b is near the bottom of the valley",
            f"가장 큰 성분이 {size:.3g} < 200: b가 골짜기 바닥 가까이에 있습니다",
        )
        if met
        else _t(
            f"the largest component is {size:.4g}, not yet under 200",
            f"가장 큰 성분이 {size:.4g}, 아직 200보다 큽니다",
        )
    )
    values = (*(f"{v:.8f}" for v in (*auto, *formula)), f"{np.abs(auto - formula).max():.2e}")
    return Live(values, picture, met, why)


# --- 3. the closed form, and the gradient vanishing there ---------------------------------------


def _regression(n: int):
    return datasets.cafe() if n == 10 else datasets.make_regression(n, seed=0)


def _sse_by_moments(b, xtx, xty, yty):
    """``(y - Xb)'(y - Xb)`` written with X'X, X'y and y'y: its shape does not depend on n."""
    return yty - 2 * b.T @ xty + b.T @ xtx @ b


def _closed(s: Settings) -> Live:
    data = _regression(int(s["n"]))
    X, y = data.X, data.y.reshape(-1, 1)
    beta_hat = ols(X, y)
    if len(y) == 10:  # the lecture's data, differentiated as the lecture wrote its loss
        sse = _cafe_matrix()[2]
        slope = lambda b: grad(sse)(b)  # noqa: E731
    else:  # a compiled gradient per sample size would be kept for each size a reader types
        moments = (X.T @ X, X.T @ y, y.T @ y)
        slope = lambda b: grad(_sse_by_moments)(b, *moments)  # noqa: E731
    at_hat = np.asarray(slope(beta_hat)).ravel()
    at_true = np.asarray(slope(data.beta.reshape(2, 1))).ravel()
    shown = slice(None, 400)
    xs = np.array([20.0, 30.0])
    picture = _picture(
        [
            _points(data.x[shown], data.y[shown], "y", marker={"size": 7, "opacity": 0.6}),
            _points(xs, beta_hat[0, 0] + beta_hat[1, 0] * xs, "β̂: (X'X)⁻¹X'y", mode="lines"),
            _points(
                xs,
                data.beta[0] + data.beta[1] * xs,
                "β true (10.2, 2.2)",
                mode="lines",
                line={"dash": "dash"},
            ),
        ],
        "x",
        "y",
    )
    off = np.abs(beta_hat.ravel() - data.beta)
    met = bool(off.max() < 0.1)
    why = (
        _t(
            f"β̂ is within {off.max():.3f} of β true with n = {int(s['n'])}",
            f"n = {int(s['n'])}에서 β̂이 참값과 {off.max():.3f} 이내입니다",
        )
        if met
        else _t(
            f"β̂ is {off.max():.3g} away from β true: more data brings it closer",
            f"β̂이 참값과 {off.max():.3g} 떨어져 있습니다: 데이터가 많을수록 가까워집니다",
        )
    )
    values = (
        f"{beta_hat[0, 0]:.8f}", f"{beta_hat[1, 0]:.8f}",
        f"{at_hat[0]:.8e}", f"{at_hat[1]:.8e}", f"{at_true[0]:.8f}", f"{at_true[1]:.8f}",
    )  # fmt: skip
    return Live(values, picture, met, why)


# --- 4. grid search -----------------------------------------------------------------------------


def _fewest_points(tol: float = 0.01) -> int:
    """The fewest points of linspace(-10, 10, n) that put one within ``tol`` of 2."""
    return next(n for n in range(2, 10_001) if np.abs(np.linspace(-10, 10, n) - 2).min() <= tol)


def _grid(s: Settings) -> Live:
    num = int(s["num"])
    beta = np.linspace(-10, 10, num)
    # The grid's last point repeated up to a power of two: the same best point (the first of equal
    # losses), and one compiled search per power of two rather than one per size a reader types.
    padded = np.concatenate([beta, np.full((1 << (num - 1).bit_length()) - num, beta[-1])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridEdgeWarning)  # a coarse grid's best may sit at its edge
        result = grid_search(lecture_loss, padded)
    best, index = float(result.best), int(result.index)  # type: ignore[arg-type]
    picture = _picture(
        [
            _curve(lecture_loss, -10, 10, "(β/2-1)²"),
            _points(beta, result.losses[:num], "grid", marker={"size": 7 if num <= 200 else 3}),
            _points(
                [best], [result.loss], "argmin", marker={"size": 16, "symbol": "star", "color": "#d62728"}
            ),
        ],
        "β",
        "loss",
    )
    gap, fewest = abs(best - 2), _fewest_points()
    met = gap <= 0.01 and num == fewest
    if met:
        why = _t(
            f"{num} points: β = {best:.6g}, {gap:.2g} from 2, and no fewer points get within 0.01",
            f"점 {num}개: β = {best:.6g}, 2와의 거리 {gap:.2g}; 이보다 적은 점으로는 0.01 안에 못 들어갑니다",
        )
    elif gap <= 0.01:
        why = _t(
            f"within 0.01 of 2 with {num} points; fewer points can do it",
            f"점 {num}개로 2와 0.01 이내입니다; 더 적은 점으로도 됩니다",
        )
    else:
        why = _t(
            f"the best point {best:.6g} is {gap:.3g} from the minimum 2: not within 0.01",
            f"가장 좋은 점 {best:.6g}이 최솟값 2와 {gap:.3g} 떨어져 있습니다: 0.01 이내가 아닙니다",
        )
    return Live(
        (str(index), repr(best), repr(float(result.losses[60])) if num > 60 else "-"), picture, met, why
    )


# --- 5. the sign step ----------------------------------------------------------------------------


def _sign(s: Settings) -> Live:
    path = descend(lecture_loss, s["start"], lr=s["step"], steps=int(s["steps"]), method="sign")
    bs = np.asarray(path.params, float)
    final = float(bs[-1])
    picture = _picture(
        [
            _curve(lecture_loss, -10, 10, "(β/2-1)²"),
            _points(_thin(bs), lecture_loss(_thin(bs)), "β", marker={"size": 7}),
        ],
        "β",
        "loss",
    )
    met = abs(final - 2) <= 0.01
    why = (
        _t(
            f"after {len(bs) - 1} steps β = {final:.6g}, within 0.01 of 2",
            f"{len(bs) - 1}번 이동한 뒤 β = {final:.6g}, 2와 0.01 이내입니다",
        )
        if met
        else _t(
            f"β ends at {final:.6g}, {abs(final - 2):.3g} from 2",
            f"β가 {final:.6g}에서 멈췄습니다: 2와 {abs(final - 2):.3g} 떨어져 있습니다",
        )
    )
    values = (*(repr(float(lecture_loss(v))) for v in (-5.0, -4.99, -5.01)), f"{final:.6g}")
    return Live(values, picture, met, why)


# --- 6. gradient descent at lr 0.01/6, and 7. its animation ---------------------------------------


def _gd_path(s: Settings, dtype: str | None = None):
    return descend(lecture_loss, s["start"], lr=s["lr"], steps=int(s["steps"]), dtype=dtype)


def _descent(s: Settings) -> Live:
    bs = np.asarray(_gd_path(s, "float32").params)
    at = [f32(bs[k]) if k < len(bs) else "-" for k in (100, 1000, 10_000)]  # a diverging run stops early
    thin = _thin(bs.astype(float))
    picture = _picture(
        [
            _curve(lecture_loss, -10, 14, "(β/2-1)²"),
            _points(thin, lecture_loss(thin), "β", mode="lines+markers"),
        ],
        "β",
        "loss",
    )
    k = _first_near(bs)
    met = k is not None and k <= 100
    why = (
        _t(f"β is within 0.01 of 2 after {k} steps", f"{k}번 만에 β가 2와 0.01 이내입니다")
        if met
        else _t(
            "β is not within 0.01 of 2 within 100 steps"
            if k is None
            else f"β needs {k} steps to get within 0.01 of 2",
            "100번 안에 β가 2와 0.01 이내로 가지 못했습니다"
            if k is None
            else f"β가 2와 0.01 이내로 가는 데 {k}번 걸립니다",
        )
    )
    return Live((*at, f32(bs[-1])), picture, met, why)


def _first_near(bs: np.ndarray, target: float = 2.0, tol: float = 0.01) -> int | None:
    """The first step from which the path stays within ``tol`` of ``target``."""
    far = np.flatnonzero(np.abs(np.asarray(bs, float) - target) > tol)
    k = 0 if far.size == 0 else int(far[-1]) + 1
    return k if k < len(bs) else None


def _animation(s: Settings) -> Live:
    path = _gd_path(s, "float32")
    bs = np.asarray(path.params, float)
    lo, hi = min(-10.0, float(bs.min())), max(14.0, float(bs.max()))
    thin = _thin(bs, 200)
    picture = _picture(
        [
            _curve(lecture_loss, lo, hi, "(β/2-1)²"),
            _points(
                thin, lecture_loss(thin), "β", mode="lines+markers", marker={"size": 8, "color": "#d62728"}
            ),
        ],
        "β",
        "loss",
    )
    picture["animate"] = {"traces": [1], "frames": len(thin)}
    k = _first_near(bs)
    met = k is not None and k <= 10
    why = (
        _t(
            f"the point settles within 0.01 of 2 after {k} steps",
            f"{k}번 만에 점이 2와 0.01 이내에 자리잡습니다",
        )
        if met
        else _t(
            "the point does not settle within 0.01 of 2"
            if k is None
            else f"the point needs {k} steps (more than 10)",
            "점이 2와 0.01 이내에 자리잡지 못했습니다" if k is None else f"점이 {k}번 걸립니다 (10번 초과)",
        )
    )
    return Live((f32(bs[-1]), str(path.regime)), picture, met, why)


# --- 8. the learning rate past 2/L ---------------------------------------------------------------


def _rate(s: Settings) -> Live:
    path = _gd_path(s)
    bs = np.asarray(path.params, float)
    bound = stability(lecture_loss, 2.0).critical_lr
    shown = bs[np.isfinite(bs) & (np.abs(bs) < 1e6)]
    lo, hi = min(-12.0, float(shown.min())), max(16.0, float(shown.max()))
    picture = _picture(
        [
            _curve(lecture_loss, lo, hi, "(β/2-1)²"),
            _points(_thin(shown), lecture_loss(_thin(shown)), "β", mode="lines+markers", marker={"size": 8}),
        ],
        "β",
        "loss",
    )
    side = np.sign(bs[:-1] - 2)
    flips = bool(np.all(side[1:] * side[:-1] < 0)) if len(side) > 1 else False
    bounded = bool(np.isfinite(bs[-1]) and abs(bs[-1] - 2) <= abs(bs[0] - 2) + 1e-9)
    met = flips and bounded
    lr = s["lr"]
    if met:
        why = _t(
            f"lr = {lr:g}: β jumps across 2 at every step and does not run away",
            f"lr = {lr:g}: β가 매 걸음 2를 건너뛰며 오가지만 멀어지지 않습니다",
        )
    elif flips:
        why = _t(
            f"lr = {lr:g} > 2/L = {bound:g}: β jumps across 2 but runs away (diverges)",
            f"lr = {lr:g} > 2/L = {bound:g}: β가 오가면서 점점 멀어집니다 (발산)",
        )
    else:
        why = _t(
            f"lr = {lr:g}: β stays on one side of 2; it creeps rather than oscillates",
            f"lr = {lr:g}: β가 2의 한쪽에만 머뭅니다; 진동하지 않습니다",
        )
    slope = grad(lecture_loss)
    values = (
        repr(float(slope(-10.0))),
        repr(float(slope(-4.0))),
        f"{bound:g}",
        str(path.regime),
        f"{float(bs[-1]):.6g}",
    )
    return Live(values, picture, met, why)


# --- 9. the homework: SGD on (x-1)^2 ---------------------------------------------------------


def _homework(s: Settings) -> Live:
    z = homework_samples()
    batch, epochs = int(s["batch"]), int(s["epochs"])
    if len(z) % batch:
        raise InputError(f"batch must divide the {len(z)} samples (1, 2, 4, 5, 10 or 20); got {batch}")
    xs = _sgd_path(batch, s["lr"])[: epochs * len(z) // batch + 1]
    gd = descend(homework_loss, -3.0, lr=0.01 / 3, steps=100)
    picture = _homework_picture(xs)
    per_epoch = len(z) // batch
    last = xs[-per_epoch:]
    off = float(np.abs(last - 1).max()) if np.all(np.isfinite(last)) else math.inf
    met = batch == 1 and off <= 0.1
    if met:
        why = _t(
            f"batch size 1: every step of the last epoch is within {off:.3f} of 1",
            f"배치 크기 1: 마지막 에폭의 모든 걸음이 1과 {off:.3f} 이내입니다",
        )
    elif batch != 1:
        why = _t(
            f"batch size {batch}: set it to 1 (one sample per step)",
            f"배치 크기 {batch}: 1로 바꾸세요 (한 걸음에 샘플 하나)",
        )
    else:
        why = _t(
            f"the last epoch strays {off:.3g} from 1 (more than 0.1)",
            f"마지막 에폭에서 1과 {off:.3g}까지 벗어납니다 (0.1 초과)",
        )
    closed = 1 - 4 * (1 - 2 * 0.01 / 3) ** 100
    return Live((_g(gd.final), _g(closed), _g(xs[-1])), picture, met, why)


def _sgd_path(batch: int, lr: float) -> np.ndarray:
    """x at every step of SGD over the most epochs a reader may ask for. A shorter run is the start
    of this one (each epoch's shuffle comes from the seed and the epoch), and one compiled run per
    batch size serves every number of epochs."""
    epochs = int(next(c.high for c in chapter("homework").controls if c.name == "epochs"))
    path = sgd(homework_batch_loss, -3.0, homework_samples(), lr=lr, batch_size=batch, epochs=epochs, seed=0)
    return np.asarray(path.params, float)


def _homework_picture(xs: np.ndarray) -> dict[str, Any]:
    """The curve with the moving point (left), and x against the step with the band 1 ± 0.1 (right)."""
    keep = np.flatnonzero(np.isfinite(xs) & (np.abs(xs) < 1e6))
    keep = _thin(keep, 200)
    shown = xs[keep]
    lo, hi = min(-4.0, float(shown.min())), max(6.0, float(shown.max()))
    red = {"size": 8, "color": "#d62728"}
    last = float(len(xs) - 1)
    band = {"type": "scatter", "mode": "lines", "x": [0, last, last, 0, 0], "y": [0.9, 0.9, 1.1, 1.1, 0.9],
            "fill": "toself", "fillcolor": "rgba(30,123,52,0.15)", "line": {"width": 0}, "name": "1 ± 0.1",
            "xaxis": "x2", "yaxis": "y2"}  # fmt: skip
    picture = _picture(
        [
            _curve(homework_loss, lo, hi, "(x-1)²"),
            _points(shown, homework_loss(shown), "x", mode="lines+markers", marker=red),
            band,
            _points(keep, shown, "x", mode="lines", line={"color": "#d62728"}, xaxis="x2", yaxis="y2",
                    showlegend=False),
        ],
        "x",
        "loss",
        xaxis2={"title": {"text": "step"}, "domain": [0.56, 1], "anchor": "y2"},
        yaxis2={"title": {"text": "x"}, "anchor": "x2"},
    )  # fmt: skip
    picture["layout"]["xaxis"]["domain"] = [0, 0.46]
    picture["animate"] = {"traces": [1, 3], "frames": len(shown)}
    return picture


def _chapters() -> tuple[Chapter, ...]:
    from gdlab._lesson_text import CHAPTER_TEXT

    computes = {
        "data": _data, "matrix": _matrix, "closed": _closed, "grid": _grid, "sign": _sign,
        "descent": _descent, "animation": _animation, "rate": _rate, "homework": _homework,
    }  # fmt: skip
    return tuple(_built(t, computes[t["key"]]) for t in CHAPTER_TEXT)


def _built(text: Mapping[str, Any], compute: Callable[[Settings], Live]) -> Chapter:
    controls = tuple(
        Control(name, _t(en, ko), default, low, high, whole)
        for name, en, ko, default, low, high, whole in text["controls"]
    )
    rows = tuple(Row(_t(en, ko), lecture) for en, ko, lecture in text["rows"])
    pairs = {k: _t(*text[k]) for k in ("title", "prose", "task", "hint", "note")}
    return Chapter(
        key=text["key"], rows=rows, controls=controls, tf_code=text["tf_code"].strip(),
        code=text["code"].strip(), compute=compute, animate=bool(text.get("animate")), **pairs,
    )  # fmt: skip


CHAPTERS: tuple[Chapter, ...] = _chapters()
BY_KEY = {c.key: c for c in CHAPTERS}


def chapter(key: str) -> Chapter:
    """The chapter named ``key``, or an :class:`InputError` listing the chapters."""
    try:
        return BY_KEY[key]
    except KeyError:
        near = closest(key, BY_KEY)
        guess = f"; did you mean {near}?" if near else ""
        raise InputError(f"no chapter {key!r}{guess} (the chapters: {', '.join(BY_KEY)})") from None


@functools.cache
def _at_lecture(key: str) -> Live:
    return BY_KEY[key].live()


def language(lang: str | None) -> str:
    """``lang`` checked: ``"ko"`` or ``"en"`` (default Korean, the lecture's language)."""
    lang = lang or "ko"
    if lang not in LANGS:
        raise InputError(f"lang must be 'ko' or 'en'; got {lang!r}")
    return lang


def _ui(lang: str) -> dict[str, str]:
    from gdlab._lesson_text import UI

    return {k: v[LANGS.index(lang) ^ 1] for k, v in UI.items()}  # UI pairs are (English, Korean)


def _pick(text: Text, lang: str) -> str:
    return text[lang]


def contents(lang: str | None = None) -> dict[str, Any]:
    """Everything the page shows that does not move: the words, rows, settings and code of every chapter."""
    lang = language(lang)
    return {
        "lang": lang,
        "ui": _ui(lang),
        "chapters": [
            {
                "key": c.key,
                "title": _pick(c.title, lang),
                "prose": _pick(c.prose, lang),
                "rows": [{"label": _pick(r.label, lang), "lecture": r.lecture} for r in c.rows],
                "controls": [
                    {
                        "name": k.name,
                        "label": _pick(k.label, lang),
                        "default": k.default,
                        "low": k.low,
                        "high": k.high,
                        "whole": k.whole,
                        "log": k.log,
                    }
                    for k in c.controls
                ],
                "tf_code": c.tf_code,
                "task": _pick(c.task, lang),
                "hint": _pick(c.hint, lang),
                "note": _pick(c.note, lang),
                "animate": c.animate,
            }
            for c in CHAPTERS
        ],
    }


def live(key: str, given: Mapping[str, object] | None = None, lang: str | None = None) -> dict[str, Any]:
    """One chapter at the reader's settings: the values beside the lecture's, the picture, the code, the task.

    Args:
        key: the chapter (see :data:`CHAPTERS`).
        given: the reader's settings by name, as numbers or arithmetic text (``"0.01/6"``);
            the rest keep the lecture's.
        lang: ``"ko"`` (default) or ``"en"``.

    Returns:
        ``{key, rows: [{label, lecture, ours, yours}], picture, code, settings, task: {met, why}}``:
        ``ours`` is gdlab at the lecture's settings, ``yours`` at the reader's; ``settings`` are the
        reader's as numbers.
    """
    lang, found = language(lang), chapter(key)
    mine, lectures = found.live(given), found.at_lecture()
    rows = [
        {"label": _pick(r.label, lang), "lecture": r.lecture, "ours": ours, "yours": yours}
        for r, ours, yours in zip(found.rows, lectures.values, mine.values, strict=True)
    ]
    return {
        "key": key,
        "rows": rows,
        "picture": mine.picture,
        "code": found.code_at(given),
        "settings": found.settings(given),
        "task": {"met": mine.met, "why": _pick(mine.why, lang)},
    }


def notebook(lang: str | None = None) -> Any:
    """The lesson as a Jupyter notebook (nbformat 4): per chapter its words, the lecture's TensorFlow
    code (as text) and gdlab's code at the lecture's settings, which prints the lecture's numbers."""
    import nbformat.v4 as nbf

    lang = language(lang)
    ui = _ui(lang)
    cells = [nbf.new_markdown_cell(f"# {ui['lesson']}\n\n{ui['notebook_intro']}")]
    for i, c in enumerate(CHAPTERS, 1):
        table = "\n".join(
            f"| {_pick(r.label, lang)} | {r.lecture if r.lecture is not None else ui['none']} |"
            for r in c.rows
        )
        cells.append(
            nbf.new_markdown_cell(
                f"## {i}. {_pick(c.title, lang)}\n\n{_pick(c.prose, lang)}\n\n"
                f"| {ui['quantity']} | {ui['lecture']} |\n|---|---|\n{table}\n\n"
                f"*{_pick(c.note, lang)}*\n\n**{ui['task']}:** {_pick(c.task, lang)}\n\n"
                f"<details><summary>{ui['hint']}</summary>\n\n{_pick(c.hint, lang)}\n</details>\n\n"
                f"<details><summary>{ui['tf_code']}</summary>\n\n```python\n{c.tf_code}\n```\n</details>"
            )
        )
        cells.append(nbf.new_code_cell(c.code_at()))
    book = nbf.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.metadata["language_info"] = {"name": "python"}
    return book


def notebook_text(lang: str | None = None) -> str:
    """:func:`notebook` as the text of an ``.ipynb`` file."""
    import nbformat

    return str(nbformat.writes(notebook(lang)))

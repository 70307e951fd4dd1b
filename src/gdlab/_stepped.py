"""A short descent of a loss seen once, stepped in NumPy rather than compiled.

Compiling a descent (the engine's chunk, XLA) costs 0.1 to 0.4 s a loss, a hundred times what a
run of a few hundred steps of a one-line loss takes; the web lab compiles a new loss at every
edit. Here the loss's NumPy form (:func:`gdlab._expr.numeric_form`, with its exact gradient by
the reverse pass of :mod:`gdlab._numeric`) is stepped row by row as the compiled chunk
(:func:`gdlab._descend._chunk`) steps it: the same update (optax's ``sgd``, with or without
momentum, written out), the engine's stop rule (:func:`gdlab._engine.outcome_now`), the same
rows and the same :data:`~gdlab._engine.PROBE` steps past a step limit. The rows then go
through the one path from rows to a :class:`~gdlab.Trajectory` (:func:`gdlab._descend.trajectory_from_rows`:
the engine's facts and judgement), so the status, regime and sentence are the compiled path's.
The iterates agree with the compiled ones to rounding, not bit for bit (XLA divides by a
constant as a multiplication by its reciprocal, and has its own ``exp`` and ``sin``): where a
sentence quotes a number made of rounding alone (a run that lands on a minimum, whose last
gradient is 1e-16 of either sign) that number, and whether the run overshot, may differ
(``tests/test_stepped.py`` checks the rest over a table of runs). The Hessian behind a vanished
gradient's verdict is a complex step through the exact gradient (a loss of analytic
functions), else the compiled Hessian's operations run one by one.

Only what this can do exactly is taken: a parsed loss without data whose parameters are
numbers, in float64, by ``gd``, ``momentum`` or ``nesterov``, for at most :data:`STEPPED_STEPS`
steps. Anything else gets ``None``, and the caller compiles.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np

from gdlab import _checks
from gdlab._descend import PAST, descend, trajectory_from_rows, unpacked
from gdlab._engine import Outcome, outcome_now
from gdlab._expr import Expression, NumericForm, numeric_form
from gdlab._landscape import Landscape
from gdlab._methods import METHODS, Method
from gdlab._numeric import OPERATORS
from gdlab._precision import as_float_tree
from gdlab._stability import uncompiled_hessian
from gdlab._trajectory import Trajectory

# The most steps stepped in NumPy, a run's or a request's (30 to 90 us a step for a one-line loss
# on a busy 2-core machine; compiling costs 0.1 to 0.4 s): past this, compiling pays.
STEPPED_STEPS = 2000

# The methods whose step is written out here: optax.sgd (trace, then scale by -lr, then add).
_SGD = {"gd": None, "momentum": False, "nesterov": True}

COMPILE_SECONDS = 0.25
"""About what compiling a loss's descent costs (0.1 to 0.4 s). Stepping is 5 to 15 times slower a
step than the compiled chunk, so a loss run again and again should be compiled once: when the runs
of one loss by one method have been stepped this long in all, its next runs are compiled (the
rent-or-buy rule: at most twice what knowing the future would cost). A loss typed once is
stepped; the lab's preset, run by a whole class, is compiled after its first few runs."""

_KEPT = 256  # the losses whose stepping time is kept, the most recently stepped


class _Spent:
    """Seconds spent stepping each (loss, method), ``inf`` once it was compiled; bounded."""

    def __init__(self) -> None:
        self._seconds: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, key: tuple[str, str]) -> float:
        with self._lock:
            return self._seconds.get(key, 0.0)

    def add(self, key: tuple[str, str], seconds: float) -> None:
        with self._lock:
            self._seconds[key] = self._seconds.pop(key, 0.0) + seconds
            while len(self._seconds) > _KEPT:
                self._seconds.popitem(last=False)

    def forget(self) -> None:
        """Forget every loss (a test's fresh start)."""
        with self._lock:
            self._seconds.clear()


_SPENT = _Spent()


def compiled(loss: object, method: Method) -> None:
    """Say that ``loss``'s descent by ``method`` was compiled: its short runs are no longer stepped
    (the compiled chunk is the faster once it exists)."""
    if isinstance(loss, Expression):
        _SPENT.add((loss.text, method.name), math.inf)


def elementwise(loss: object, values: Mapping[str, object]) -> bool:
    """Whether ``loss`` is one this module computes: a parsed loss without data with a NumPy form,
    and ``values`` a number for each of its parameters (it is then defined at any numbers: a
    value outside a function's domain is NaN, as in JAX)."""
    if not isinstance(loss, Expression) or loss.data or not loss.params or set(values) != set(loss.params):
        return False
    if any(np.ndim(v) != 0 for v in values.values()):  # type: ignore[arg-type]  # numbers or arrays
        return False
    form = numeric_form(loss.text)
    return form is not None and form.params == loss.params


def steppable(loss: object, init: Mapping[str, object], method: Method, steps: int) -> bool:
    """Whether :func:`descend_stepped` takes this run (else the caller compiles it)."""
    if not 0 <= steps <= STEPPED_STEPS or method.name not in _SGD:
        return False
    if method != METHODS[method.name].configured(**method.defaults):
        return False  # a method varied per run (a phase diagram's) is not a plain setting
    return elementwise(loss, init)


def descend_stepped(
    loss: Expression, init: Mapping[str, object], *, lr: float, steps: int, method: Method, tol: float | None
) -> Trajectory | None:
    """The run :func:`gdlab.descend` would give (to rounding), stepped in NumPy; ``None`` when
    :func:`steppable` says no, when this loss's runs by this method were stepped for
    :data:`COMPILE_SECONDS` already or it was :func:`compiled`, or a constant part of the loss is
    not a number (1/0), which the compiled path reports."""
    if not steppable(loss, init, method, steps):
        return None
    key = (loss.text, method.name)
    if _SPENT[key] >= COMPILE_SECONDS:  # run often enough that compiling it pays
        return None
    began = time.perf_counter()
    try:
        return _stepped(loss, init, lr=lr, steps=steps, method=method, tol=tol)
    finally:
        _SPENT.add(key, time.perf_counter() - began)


def _stepped(
    loss: Expression, init: Mapping[str, object], *, lr: float, steps: int, method: Method, tol: float | None
) -> Trajectory | None:
    form = numeric_form(loss.text)
    assert form is not None
    rate, steps, tol = method.rate(lr), _checks.steps(steps), _checks.tol(tol)  # descend's checks
    assert rate is not None
    start = as_float_tree(dict(init), np.dtype(np.float64), "init")
    names = sorted(start)  # the order of a dict's leaves, as the compiled rows hold them
    try:
        gradient = _gradient(form, names)
        with np.errstate(all="ignore"):
            table, written, code = _rows(gradient, names, method, start, rate, steps, tol)
    except ArithmeticError:  # Python's own float errors, in a part of the loss without parameters
        return None
    table, _, code, probe = unpacked(table, written, (None, None, None, None, code), len(table))
    dtype = np.dtype(np.float64)
    hessian = _complex_step(gradient, len(names)) if _analytic(form) else _op_by_op(loss, start)
    return trajectory_from_rows(
        loss, method, start, table, code, probe, rate=rate, tol=tol, dtype=dtype, hessian=hessian, owned=True
    )


def descend_soonest(
    loss: Expression,
    init: Mapping[str, object],
    *,
    lr: float,
    steps: int,
    method: Method,
    tol: float | None,
    step: bool = True,
) -> Trajectory:
    """The run by whichever path answers it sooner: stepped in NumPy where :func:`descend_stepped`
    takes it (and ``step``: the caller's whole request is short), else compiled by
    :func:`gdlab.descend`, which this then remembers (:func:`compiled`)."""
    path = descend_stepped(loss, init, lr=lr, steps=steps, method=method, tol=tol) if step else None
    if path is None:
        path = descend(loss, init, lr=lr, steps=steps, method=method, tol=tol)
        compiled(loss, method)
    return path


def landscape_stepped(
    loss: object, names: Sequence[str], ranges: Sequence[tuple[float, float]], num: int
) -> Landscape | None:
    """:func:`gdlab.landscape` of a loss :func:`steppable` takes, by its NumPy form on the whole
    grid at once (``names``: the parameters, one per range); ``None`` for any other loss."""
    if not isinstance(loss, Expression) or not elementwise(loss, dict.fromkeys(names, 0.0)):
        return None
    form = numeric_form(loss.text)
    assert form is not None
    axes = tuple(np.linspace(float(lo), float(hi), int(num)) for lo, hi in ranges)
    mesh = np.meshgrid(*axes, indexing="ij")
    try:
        with np.errstate(all="ignore"):
            values = form.function({n: m.ravel() for n, m in zip(names, mesh, strict=True)})
    except ArithmeticError:
        return None
    shape = tuple(a.size for a in axes)
    values = np.broadcast_to(np.asarray(values, np.float64), (mesh[0].size,)).reshape(shape)
    return Landscape(axes=axes, values=np.array(values))


def _rows(
    value_and_grad: Callable[[np.ndarray], tuple[Any, np.ndarray]],
    names: list[str],
    method: Method,
    start: Mapping[str, np.ndarray],
    lr: float,
    steps: int,
    tol: float | None,
) -> tuple[np.ndarray, int, Outcome]:
    """The chunk's loop (:func:`gdlab._descend._chunk`) in NumPy: rows of (parameters, loss,
    gradient), the rows the run wrote, and its outcome; a run at its step limit goes on
    :data:`~gdlab._descend.PAST` steps, written after its rows."""
    p = np.array([float(start[n]) for n in names])
    update = _update(method, lr, len(names))
    early, stop = tol is not None, float(tol or 0.0)
    rows: list[np.ndarray] = []
    k, first, code, written = 0, 0.0, Outcome.RUNNING, 0
    while code is Outcome.RUNNING or (code is Outcome.MAX_STEPS and len(rows) < written + PAST):
        value, g = value_and_grad(p)
        value = float(value)
        new_p = update(p, g)
        running = code is Outcome.RUNNING
        new_first = value if k == 0 else first
        new_code = outcome_now(value, g, p, new_first, stop, early)
        if new_code is Outcome.RUNNING and k == steps:
            new_code = Outcome.MAX_STEPS
        rows.append(np.concatenate([p, [value], g]))
        if running:
            k, first, code, written = k + 1, new_first, new_code, len(rows)
        p = new_p
    return np.array(rows), written, code


def _gradient(form: NumericForm, names: list[str]) -> Callable[[np.ndarray], tuple[Any, np.ndarray]]:
    """The loss and its exact gradient at ``p`` (the parameters in the order of ``names``), by the
    form's reverse pass: NumPy scalars throughout, so 1/0 is inf as in JAX; complex numbers in,
    complex out (a complex step)."""
    bound = form.bind({}, 1)
    order = [names.index(n) for n in form.params]

    def value_and_grad(p: np.ndarray) -> tuple[Any, np.ndarray]:
        values, jac = bound.jacobian(p[order])
        g = np.zeros(len(names), jac.dtype)
        g[order] = jac[0]
        return values[0], g

    return value_and_grad


# Functions whose NumPy form is analytic in complex arithmetic, rule and all: a loss built of these
# and + - * / ** has its Hessian by a complex step through the exact gradient.
_ANALYTIC = frozenset(
    {"sin", "cos", "tan", "exp", "log", "log10", "log2", "sqrt", "tanh", "sinh", "cosh", "arctan", "atan"}
)
_STEP = 1e-30


def _analytic(form: NumericForm) -> bool:
    """Whether every operation of the form's parts is arithmetic or in :data:`_ANALYTIC`."""
    return all(n.op is None or n.op.name in _ANALYTIC or n.op.name in OPERATORS for n in form.plan.nodes)


def _complex_step(
    value_and_grad: Callable[[np.ndarray], tuple[Any, np.ndarray]], count: int
) -> Callable[[np.ndarray, object], np.ndarray]:
    """The Hessian at ``flat`` as the complex step through the exact gradient: column ``j`` is
    ``Im(grad(x + ih e_j)) / h``, exact to rounding for an analytic loss (no difference is taken,
    so no digits cancel), in microseconds rather than a compile."""

    def hessian(flat: np.ndarray, _data: object) -> np.ndarray:
        out = np.zeros((count, count))
        with np.errstate(all="ignore"):
            for j in range(count):
                point = flat.astype(complex)
                point[j] += 1j * _STEP
                out[:, j] = np.imag(value_and_grad(point)[1]) / _STEP
        return out

    return hessian


def _op_by_op(loss: Expression, start: Mapping[str, np.ndarray]) -> Callable[[np.ndarray, object], Any]:
    """The compiled Hessian's operations, dispatched one by one (a loss with a kink: abs, max)."""
    leaves, structure = jax.tree.flatten(dict(start))
    shapes = tuple(np.shape(x) for x in leaves)
    return uncompiled_hessian(loss, structure, shapes, np.dtype(np.float64))


def _update(method: Method, lr: float, count: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """optax's ``sgd`` step: the trace of the gradients (heavy ball or Nesterov), scaled by ``-lr``
    and added to the parameters."""
    nesterov = _SGD[method.name]
    scale = -lr
    if nesterov is None:
        return lambda p, g: p + scale * g
    decay = float(method.defaults["momentum"])
    trace = np.zeros(count)

    def step(p: np.ndarray, g: np.ndarray) -> np.ndarray:
        nonlocal trace
        trace = g + decay * trace
        direction = g + decay * trace if nesterov else trace
        return p + scale * direction

    return step

"""The step, the stop rule and how a run ended: one engine under descend, sweep and sgd.

The drivers differ in what they keep (every step, thinned rows, a vmapped
batch of runs, minibatches); they share what a step is, when a run stops, and
the words that say why.

A step calls the optimiser with optax's extra arguments (``value``, ``grad``,
``value_fn``), so line-search optimisers such as ``optax.lbfgs`` work through
``method=``, and a second-order method plugs in as a transformation that reads
``value_fn`` (see :mod:`gdlab._methods`).
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from gdlab._checks import LIMITS, PYTHON, Spelling
from gdlab._lazy import lazy
from gdlab._methods import Method, Stateless, least_squares_methods
from gdlab._trajectory import Regime, Status
from gdlab._types import Loss, Params

if TYPE_CHECKING:
    import jax
    import jax.numpy as jnp
    import optax
else:  # the stop rule's words and facts are read without JAX (a fit by MINPACK)
    jax = lazy("jax")
    jnp = lazy("jax.numpy")
    optax = lazy("optax")

# A loss that grows this many times past its starting value (or 1) has exploded.
EXPLODE = 1e10


class Outcome(enum.IntEnum):
    """How a run stands after a step; every driver records one of these per run.

    Each member carries the :class:`~gdlab.Status` users see; :func:`describe`
    words it.
    """

    RUNNING = 0
    CONVERGED = 1  # the gradient norm fell to tol
    NO_GAIN = 2  # a step would no longer lower the loss (the sign method's rule)
    NOT_FINITE = 3  # the loss, the gradient or the parameters left the finite numbers
    EXPLODED = 4  # the loss grew EXPLODE times past its start
    MAX_STEPS = 5  # the step limit was reached
    KEPT_LIMIT = 6  # keeping more steps would pass the memory limit (gdlab.LIMITS.trajectory_numbers)
    # The gradient norm fell to tol, but the answer has no correct digit against a reference solution
    # (a fit's closed form): the tolerance is finer than the loss's rounding allows there (float32, or
    # nearly collinear columns), so its gradient vanished in the noise, not at the minimum. Set by the
    # fit, which has the reference; the compiled stop rule never records it.
    IMPRECISE = 7
    # A least-squares solver's steps stopped changing the parameters where the residuals are not
    # orthogonal to the Jacobian (or it is not finite): not a minimum, though the steps stopped (an
    # edge of the formula's domain, as 0^k at k -> 0). Set by the formula fit, which checks.
    NOT_STATIONARY = 8

    @property
    def status(self) -> Status:
        """What the user sees: converged, diverged or max_steps (see :func:`status` for stalled)."""
        return _STATUS[self]


_STATUS = {
    Outcome.RUNNING: Status.MAX_STEPS,
    Outcome.CONVERGED: Status.CONVERGED,
    Outcome.NO_GAIN: Status.CONVERGED,
    Outcome.NOT_FINITE: Status.DIVERGED,
    Outcome.EXPLODED: Status.DIVERGED,
    Outcome.MAX_STEPS: Status.MAX_STEPS,
    Outcome.KEPT_LIMIT: Status.MAX_STEPS,
    Outcome.IMPRECISE: Status.STALLED,
    Outcome.NOT_STATIONARY: Status.STALLED,
}


def squares(tree: Params) -> jax.Array:
    """The sum of squares of every component of a pytree."""
    return sum((jnp.sum(jnp.square(x)) for x in jax.tree.leaves(tree)), jnp.zeros(()))


def norm(tree: Params) -> jax.Array:
    """The Euclidean norm of a pytree, as one vector."""
    return jnp.sqrt(squares(tree))


def inner(a: Params, b: Params) -> jax.Array:
    """The inner product of two pytrees of one shape (negative when ``b`` points back)."""
    pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    return sum((jnp.sum(x * y) for x, y in pairs), jnp.zeros(()))


def optimiser(method: Method, lr: jax.Array) -> optax.GradientTransformationExtraArgs:
    """The method's transformation, callable with optax's extra arguments whether it uses them or not.

    gdlab's own stateless rules (plain and sign gradient descent) take them already, and need no
    import of optax.
    """
    tx = method.build(lr)
    if isinstance(tx, Stateless):
        return tx  # optax's protocol, without optax's class
    return optax.with_extra_args_support(tx)


def apply_updates(p: Params, updates: Params) -> Params:
    """The parameters moved by ``updates``, each keeping its dtype: ``optax.apply_updates``'s rule
    (the same operations, so the same numbers), without importing optax for a method that does not
    use it."""
    return jax.tree.map(
        lambda x, u: None if x is None else jnp.asarray(x + u).astype(jnp.asarray(x).dtype),
        p,
        updates,
        is_leaf=lambda x: x is None,
    )


Step = Callable[[Params, "optax.OptState"], tuple["jax.Array", Params, Params, "optax.OptState"]]


def make_step(loss: Loss, tx: optax.GradientTransformationExtraArgs) -> Step:
    """One step: ``(p, state) -> (value, grad, new_p, new_state)``.

    ``loss`` must already return a scalar (see :func:`gdlab._loss.scalar_loss`).
    The optimiser gets the value, the gradient and the loss itself, which
    line searches and second-order methods use.
    """
    value_and_grad = jax.value_and_grad(loss)

    def step(p: Params, state: optax.OptState):
        value, g = value_and_grad(p)
        updates, new_state = tx.update(g, state, p, value=value, grad=g, value_fn=loss)
        return value, g, apply_updates(p, updates), new_state

    return step


def outcome(
    loss: Loss | None,
    method: Method,
    value: jax.Array,
    g: Params,
    p: Params,
    new_p: Params,
    first: jax.Array,
    tol: jax.Array,
    early: bool,
) -> jax.Array:
    """The stop rule, in compiled code: the :class:`Outcome` of a row (RUNNING unless it stops there).

    Cheap on purpose (a sweep checks every run at every step): one sum catches
    a NaN or an infinity anywhere in the loss, the gradient or the parameters.
    With a tolerance (``early``) a run stops once its gradient norm is <= tol,
    or, for a method that asks for it (the sign method), once a step would no
    longer lower the loss.
    """
    grad_squares = squares(g)
    total = value + grad_squares + 0 * sum(jnp.sum(x) for x in jax.tree.leaves(p))
    code = jnp.int32(Outcome.RUNNING)
    if early and method.stop_when_no_gain and loss is not None:
        code = jnp.where(loss(new_p) >= value, jnp.int32(Outcome.NO_GAIN), code)
    return _stops(jnp, code, value, grad_squares, total, first, tol, early)


def _stops(
    xp: Any, code: Any, value: Any, grad_squares: Any, total: Any, first: Any, tol: Any, early: bool
) -> Any:
    """The stop rule's tests, in their order, on the numbers of ``xp``: ``jax.numpy`` in compiled
    code (:func:`outcome`), :class:`_Floats` for a run stepped in NumPy (:func:`outcome_now`)."""
    if early:
        code = xp.where(grad_squares <= tol * tol, xp.int32(Outcome.CONVERGED), code)
    exploded = value > EXPLODE * xp.maximum(1.0, xp.abs(first))
    code = xp.where(exploded, xp.int32(Outcome.EXPLODED), code)
    return xp.where(xp.isfinite(total), code, xp.int32(Outcome.NOT_FINITE))


class _Floats:
    """The few ``jax.numpy`` functions the stop rule reads, on Python floats (NaN as JAX has it)."""

    int32 = staticmethod(int)
    abs = staticmethod(abs)
    isfinite = staticmethod(math.isfinite)

    @staticmethod
    def where(condition: bool, a: Any, b: Any) -> Any:
        return a if condition else b

    @staticmethod
    def maximum(a: float, b: float) -> float:
        return math.nan if math.isnan(a) or math.isnan(b) else max(a, b)


def outcome_now(value: float, g: np.ndarray, p: np.ndarray, first: float, tol: float, early: bool) -> Outcome:
    """:func:`outcome` for a run stepped without compiling (:mod:`gdlab._stepped`): the same tests
    (:func:`_stops`) on one row (``g`` and ``p`` flattened; the squares summed one component after
    another, as the compiled sum of scalar leaves). Methods that stop when a step no longer lowers
    the loss are not stepped there."""
    with np.errstate(all="ignore"):
        grad_squares = 0.0
        for x in g.tolist():
            grad_squares += x * x
        total = value + grad_squares + 0 * float(np.sum(p))
        return Outcome(_stops(_Floats, int(Outcome.RUNNING), value, grad_squares, total, first, tol, early))


def may_stop(value: jax.Array, g: Params, first: jax.Array) -> jax.Array:
    """Whether :func:`outcome` without a tolerance may stop a run at a row: cheaper than it, and
    true wherever it stops, and at a few rows where it does not.

    ``value + |g|^2`` (in the run's own type) above the explosion threshold, or not finite: the loss
    is no larger than that sum, and it is not finite when the loss or the gradient is not (NaN,
    +inf, or -inf for a loss of -inf beside a finite gradient; or the sum overflows, where
    :func:`outcome` may not). Parameters that are not finite are left to the caller: a step adds
    its update to them, so they stay not finite to the run's end.
    """
    total = value
    for x in jax.tree.leaves(g):
        total = total + jnp.sum(jnp.square(x))
    return ~((total <= EXPLODE * jnp.maximum(1.0, jnp.abs(first))) & (total > -jnp.inf))


# Steps a run is followed past its last row to see what it is doing there (bouncing, growing).
PROBE = 16


@dataclass(frozen=True)
class Probe:
    """What the :data:`PROBE` steps past a run's last row show (not recorded: only looked at).

    Attributes:
        flips: of the steps' successive gradients, how many pairs point against each other.
        start: the gradient norm at the last row.
        end: the gradient norm :data:`PROBE` - 1 steps later.
        moved: whether the first step past the last row changes the parameters at all.
        pairs: how many successive pairs were looked at (``PROBE - 1`` unless the record is shorter).
    """

    flips: int
    start: float
    end: float
    moved: bool
    pairs: int = PROBE - 1

    @property
    def growth(self) -> float:
        """How much the gradient norm grows per step (below 1: it shrinks)."""
        if not self.start > 0 or self.pairs < 1:
            return 0.0
        with np.errstate(all="ignore"):
            return float((self.end / self.start) ** (1 / self.pairs))


def probe_steps(step: Step, g: Params, p: Params, next_p: Params, state: optax.OptState) -> tuple:
    """In compiled code, the :class:`Probe` of a run as (flips, start, end, moved).

    ``p`` and ``g`` are the last row's parameters and gradient; ``next_p`` and ``state`` what the
    step from that row gave (the carry a driver holds when it stops), so every driver that can
    step on probes the same steps.
    """

    def one(carry, _):
        q, state, previous = carry
        _, gq, new_q, state = step(q, state)
        return (new_q, state, gq), (inner(gq, previous) < 0, norm(gq))

    _, (flips, norms) = jax.lax.scan(one, (next_p, state, g), None, length=PROBE - 1)
    moved = sum(jnp.sum(a != b) for a, b in zip(jax.tree.leaves(next_p), jax.tree.leaves(p), strict=True))
    return jnp.sum(flips), norm(g), norms[-1], moved > 0


@dataclass(frozen=True)
class Facts:
    """What the words about a run's end are made of, read from its record.

    Attributes:
        outcome: how it ended.
        step: the step of its last row.
        losses: the loss at the first and the last row.
        grad_norms: the gradient norm at the first and the last row.
        not_finite: what left the finite numbers ("loss", "gradient", "parameters"), if anything.
        lr: the rate, or ``None`` when the optimiser holds its own.
        tol: the tolerance on the gradient norm, if any.
        method: the optimiser's name.
        dtype: the floating type it ran in.
        probe: what the steps past the last row show (a run that reached the step limit).
        overshot: the first step turned the gradient back (it overshot the minimum).
        curvature: the lowest and highest Hessian eigenvalue at the last row, when the
            gradient vanished there (``None`` when not measured).
        undefined: the loss is NaN at finite parameters: a step left the loss's domain.
    """

    outcome: Outcome
    step: int
    losses: tuple[float, float]
    grad_norms: tuple[float, float]
    not_finite: str
    lr: float | None
    tol: float | None
    method: str
    dtype: str = "float64"
    probe: Probe | None = None
    overshot: bool = False
    curvature: tuple[float, float] | None = None
    undefined: bool = False


@dataclass(frozen=True)
class Ending:
    """How a run ended, in the three forms users see: its status, its regime and its sentence."""

    status: Status
    regime: Regime
    sentence: str


# --- Judging: one table of rules (RULES), read by the judge of one run and of a batch of runs ---
#
# Each rule is a condition over the facts of runs, written with operations that hold for a batch
# (one array a fact, :class:`Runs`) and for one run alike (Python numbers), and the status,
# regime and words of the runs it takes. A run takes the first rule that holds for it: ``judge``
# tries the rules in order on one run; ``classify`` evaluates each rule over a whole batch at once
# and takes the first that holds (``np.select``). The words are formatted only when read.

# Relative margins the rules compare losses and gradient norms with.
ROSE = 1e-9  # a loss rose (or fell) when it moved by more than this relative to max(1, |start|)
VANISHED = 1e-8  # a gradient vanished when its norm fell to this relative to max(1, its start)
GROWS = 1e-6  # a gradient grows (or holds) per step when its norm changes by this factor or more
STEEPER = 1e-3  # ... grows clearly, for a loss that keeps falling ever faster
FLAT = 1e-9  # ... does not shrink, for a loss that does not fall
TOO_SMALL = 1e-3  # a stuck run's gradient is large while above this fraction of its start
NEGATIVE = {"float32": 1e-3, "float64": 1e-7}  # curvature below -this x the largest is negative


def _powers(base: float) -> np.ndarray:
    """``base ** pairs`` for every number of probe pairs: a per-step growth compared as a whole
    (``end / start > base ** pairs``), with the same arithmetic for one run and a batch."""
    return np.array([base**p for p in range(PROBE)])


_ABOVE = {t: _powers(t) for t in (1 + GROWS, 1 + STEEPER, 1 - GROWS, 1 - FLAT)}


# The outcomes' codes as plain ints, which the rules compare codes with (NumPy and Python compare an
# IntEnum slowly).
_CONVERGED, _NO_GAIN, _NOT_FINITE, _EXPLODED, _MAX_STEPS, _KEPT_LIMIT, _IMPRECISE, _NOT_STATIONARY = (
    int(o)
    for o in (
        Outcome.CONVERGED,
        Outcome.NO_GAIN,
        Outcome.NOT_FINITE,
        Outcome.EXPLODED,
        Outcome.MAX_STEPS,
        Outcome.KEPT_LIMIT,
        Outcome.IMPRECISE,
        Outcome.NOT_STATIONARY,
    )
)


# The few operations the rules need, for a batch (NumPy arrays) and for one run (Python numbers,
# for which NumPy's functions are slow): the same results, NaN handled as Python's max and min
# handle it when the NaN is their second argument.


def _fmax(a, b):
    """The larger of ``a`` and ``b``, ignoring a NaN (as ``max(1.0, x)`` does for a NaN ``x``)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.fmax(a, b)
    return a if b != b else b if a != a else max(a, b)


def _fmin(a, b):
    """The smaller of ``a`` and ``b``, ignoring a NaN (NaN only when both are)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.fmin(a, b)
    return a if b != b else b if a != a else min(a, b)


def _maximum(a, b):
    """The larger of ``a`` and ``b``; NaN when ``a`` is (as ``max(a, b)`` does)."""
    return np.maximum(a, b) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) else max(a, b)


def _finite(x):
    return np.isfinite(x) if isinstance(x, np.ndarray) else math.isfinite(x)


def _not(x):
    return np.logical_not(x) if isinstance(x, np.ndarray) else not x


def overshoots(turn, first_norm, next_norm, xp=np):
    """Whether a run's first step overshot the minimum: it turned the gradient back (``turn``, the
    inner product of the first two gradients, is below 0) to a gradient that has not vanished
    (:data:`VANISHED`): a step that lands on the minimum leaves a gradient of rounding, of either
    sign, and is no overshoot. Of NumPy's numbers, or with ``xp`` (``jax.numpy``) of traced ones:
    one rule for every driver."""
    return (turn < 0) & (next_norm > VANISHED * xp.maximum(1.0, first_norm))


def _vanished(first_norm, last_norm):
    """The gradient norm fell to 1e-8 of its start (or of 1) or less: arrays or numbers."""
    return last_norm <= VANISHED * _fmax(1.0, first_norm)


def needs_curvature(outcome, first_norm, last_norm):
    """Whether a run's end is a vanished gradient, whose kind (minimum, saddle, maximum) the
    Hessian tells: it stopped by the tolerance, or its gradient fell to 1e-8 of its start.
    For one run or, with arrays, for each run of a batch."""
    code = outcome if isinstance(outcome, np.ndarray) else int(outcome)
    stopped = (code == _CONVERGED) | (code == _NO_GAIN)
    return stopped | ((code == _MAX_STEPS) & _vanished(first_norm, last_norm))


class _once:
    """A property computed at its first read and then kept on the object (``functools.cached_property``
    without its lock, which costs more than the rules it would keep, for one run)."""

    def __init__(self, compute: Callable[[Runs], object]) -> None:
        self.compute, self.name, self.__doc__ = compute, compute.__name__, compute.__doc__

    def __get__(self, runs: Runs | None, owner: type | None = None) -> Any:
        if runs is None:
            return self
        value = runs.__dict__[self.name] = self.compute(runs)
        return value


class Runs(Sequence[Facts]):
    """The facts of many runs as columns, one array a fact (the batch form of :class:`Facts`).

    A run's :class:`Facts` is ``runs[i]``. The rate, the tolerance, the method and the floating
    type are the batch's own (``lr`` is ``None`` when the optimiser holds its own rates). Probe
    columns hold, for a run without a probe, what the rules read instead: no flips, the last
    gradient norm at both ends, moved, no pairs. Curvature columns are NaN where not measured.
    The conditions the rules read are properties here, computed once per batch.
    """

    def __init__(
        self,
        *,
        outcome,
        step,
        first_loss,
        last_loss,
        first_norm,
        last_norm,
        not_finite,
        lr,
        tol: float | None,
        method: str,
        dtype: str,
        flips,
        probe_start,
        probe_end,
        moved,
        pairs,
        probed,
        overshot,
        low,
        high,
        undefined,
    ) -> None:
        self.outcome, self.step = outcome, step
        self.first_loss, self.last_loss, self.first_norm, self.last_norm = (
            first_loss,
            last_loss,
            first_norm,
            last_norm,
        )
        self.not_finite, self.lr, self.tol, self.method, self.dtype = not_finite, lr, tol, method, dtype
        self.flips, self.probe_start, self.probe_end, self.moved = flips, probe_start, probe_end, moved
        self.pairs, self.probed, self.overshot = pairs, probed, overshot
        self.low, self.high, self.undefined = low, high, undefined

    FIELDS = (
        "outcome",
        "step",
        "first_loss",
        "last_loss",
        "first_norm",
        "last_norm",
        "not_finite",
        "lr",
        "tol",
        "method",
        "dtype",
        "flips",
        "probe_start",
        "probe_end",
        "moved",
        "pairs",
        "probed",
        "overshot",
        "low",
        "high",
        "undefined",
    )

    def replace(self, **changes: object) -> Runs:
        """These runs with some columns changed (a new object: a batch is never changed in place)."""
        return Runs(**({name: getattr(self, name) for name in self.FIELDS} | changes))

    @classmethod
    def of(cls, facts: Facts) -> Runs:
        """One run's facts as Python numbers, which the rules read as they read a batch's arrays."""
        g0, g1 = facts.grad_norms
        probe = facts.probe or Probe(0, g1, g1, True, 0)
        low, high = facts.curvature or (math.nan, math.nan)
        f64, b = float, bool
        return cls(
            outcome=int(facts.outcome),
            step=int(facts.step),
            first_loss=f64(facts.losses[0]),
            last_loss=f64(facts.losses[1]),
            first_norm=f64(g0),
            last_norm=f64(g1),
            not_finite=str(facts.not_finite),
            lr=None if facts.lr is None else f64(facts.lr),
            tol=facts.tol,
            method=facts.method,
            dtype=facts.dtype,
            flips=int(probe.flips),
            probe_start=f64(probe.start),
            probe_end=f64(probe.end),
            moved=b(probe.moved),
            pairs=int(probe.pairs),
            probed=b(facts.probe is not None),
            overshot=b(facts.overshot),
            low=f64(low),
            high=f64(high),
            undefined=b(facts.undefined),
        )

    @classmethod
    def stack(cls, facts: Sequence[Facts]) -> Runs:
        """Several runs' facts as one batch (they must share the rate's presence, the tolerance, the
        method and the floating type, as a sweep's runs do)."""
        ones = [cls.of(f) for f in facts]
        shared = {name: getattr(ones[0], name) for name in ("tol", "method", "dtype")}
        if (
            any(getattr(o, k) != v for o in ones for k, v in shared.items())
            or len({o.lr is None for o in ones}) > 1
        ):
            raise ValueError("runs of one batch share the rate's presence, tol, method and dtype")
        columns = {
            name: np.array([getattr(o, name) for o in ones])
            for name in cls.FIELDS
            if name not in shared and name != "lr"
        }
        lr = None if ones[0].lr is None else np.array([o.lr for o in ones])
        return cls(**columns, **shared, lr=lr)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return int(np.size(self.outcome))

    @overload
    def __getitem__(self, i: int) -> Facts: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Facts]: ...
    def __getitem__(self, i: int | slice) -> Facts | Sequence[Facts]:
        """Run ``i``'s :class:`Facts` (plain Python numbers), for its words."""
        if isinstance(i, slice):
            return [self[k] for k in range(len(self))[i]]
        i = range(len(self))[i]
        probe = None
        if self.probed[i]:
            start, end = float(self.probe_start[i]), float(self.probe_end[i])
            probe = Probe(int(self.flips[i]), start, end, bool(self.moved[i]), int(self.pairs[i]))
        low, high = float(self.low[i]), float(self.high[i])
        return Facts(
            outcome=Outcome(int(self.outcome[i])),
            step=int(self.step[i]),
            losses=(float(self.first_loss[i]), float(self.last_loss[i])),
            grad_norms=(float(self.first_norm[i]), float(self.last_norm[i])),
            not_finite=str(self.not_finite[i]),
            lr=None if self.lr is None else float(self.lr[i]),
            tol=self.tol,
            method=self.method,
            dtype=self.dtype,
            probe=probe,
            overshot=bool(self.overshot[i]),
            curvature=None if math.isnan(low) and math.isnan(high) else (low, high),
            undefined=bool(self.undefined[i]),
        )

    # The conditions the rules read (each an array over the runs, or a NumPy bool for one run).

    @_once
    def left_finite(self):
        """The run stopped where the loss, the gradient or the parameters left the finite numbers."""
        return self.outcome == _NOT_FINITE

    @_once
    def rose(self):
        return self.last_loss > self.first_loss + ROSE * _fmax(1.0, abs(self.first_loss))

    @_once
    def fell(self):
        return self.last_loss < self.first_loss - ROSE * _fmax(1.0, abs(self.first_loss))

    @_once
    def fell_far(self):
        """The loss fell as far below its start as an exploding loss rises above it: no minimum."""
        lowest = _fmin(self.last_loss, self.first_loss)
        return lowest < self.first_loss - EXPLODE * _fmax(1.0, abs(self.first_loss))

    @_once
    def vanished(self):
        return _vanished(self.first_norm, self.last_norm)

    @_once
    def stuck(self):
        """The step past the last row leaves the parameters exactly where they are, while the
        gradient is not zero: the step is below the floating type's resolution there."""
        return self.probed & _not(self.moved) & (self.last_norm > 0)

    @_once
    def too_small(self):
        """Stuck while the gradient is still large: the rate, not the precision, stops it."""
        return self.stuck & (self.last_norm > TOO_SMALL * _maximum(self.first_norm, 1e-300))

    @_once
    def alternating(self):
        """The gradient turns back at (nearly) every step past the end: it bounces."""
        return (self.pairs >= 2) & (self.flips >= self.pairs - 1)

    @_once
    def _ratio(self):
        """How much the gradient norm grew over the probe's pairs (0 where there are none)."""
        valid = (self.probe_start > 0) & (self.pairs >= 1)
        if isinstance(valid, np.ndarray):
            return np.where(valid, self.probe_end / self.probe_start, 0.0)
        return self.probe_end / self.probe_start if valid else 0.0

    def growth_above(self, base: float, *, equal: bool = False):
        """The gradient norm grows per step past the end by more than ``base`` (or as much, with
        ``equal``): ``(end / start) ** (1 / pairs) > base``, compared as ``end / start > base **
        pairs`` (no power of an array, whose last digit may differ from one number's); a run with no
        pairs to compare grows by 0."""
        pairs = self.pairs
        threshold = _ABOVE[base][
            np.minimum(pairs, PROBE - 1) if isinstance(pairs, np.ndarray) else min(pairs, PROBE - 1)
        ]
        return (self._ratio >= threshold) if equal else (self._ratio > threshold)

    @_once
    def grows(self):
        return self.growth_above(1 + GROWS)

    @_once
    def kink(self):
        """The gradient became undefined where the loss is finite and had fallen: a kink or a pole."""
        return (
            self.left_finite
            & (self.step > 0)
            & (self.not_finite == "gradient")
            & _finite(self.last_loss)
            & (self.last_loss <= self.first_loss)
        )

    @_once
    def flat_end(self):
        """Stopped, or stuck, where the gradient vanished (after a rise of the loss: a plateau)."""
        stopped = (self.outcome == _CONVERGED) | (self.outcome == _NO_GAIN)
        return stopped | ((self.outcome == _MAX_STEPS) & (self.vanished | self.stuck))

    @_once
    def saddle(self):
        """The gradient vanished where the loss still curves down along some direction."""
        relative = NEGATIVE.get(self.dtype, NEGATIVE["float64"])
        measured = _finite(self.low) & _finite(self.high)
        return measured & (self.low < -relative * _maximum(abs(self.low), abs(self.high)))


@dataclass(frozen=True)
class Rule:
    """One way a run can end: when it applies, and the status, regime and words it gives."""

    name: str
    status: Status
    regime: Regime
    when: tuple[Callable[[Runs], object], ...]  # conditions that must all hold (none: always)
    words: Callable[[Facts, Spelling], str]


def _the_rate(facts: Facts, s: Spelling) -> str:
    """ "the rate 0.5", naming the parameter as the front end does."""
    assert facts.lr is not None
    return f"the rate {s.value('lr', _rate(facts.lr, facts.dtype))}"


def _lower(facts: Facts, s: Spelling) -> str:
    if facts.method == "gauss-newton":  # full steps: lm damps them
        return (
            f"use {s.setting('method', 'lm', quoted=True)} (its steps are damped), or start nearer a minimum"
        )
    if facts.method in _OWN_STOP:
        return "start nearer a minimum"
    if facts.lr is None:  # the optimiser chose its steps: there is no rate to lower
        return "start nearer a minimum or use a method with a rate (gd, adam)"
    return f"lower {_the_rate(facts, s)}"


def _overshoot(facts: Facts, s: Spelling) -> str:
    if facts.lr is None:
        return f"the steps {facts.method} chose overshoot, so {_lower(facts, s)}"
    return f"each step overshoots, so {_lower(facts, s)}"


def _rate(lr: float, dtype: str = "float64") -> str:
    """A rate as typed: enough digits to tell 1.0000001 from 1, and no more than the type holds."""
    return f"{lr:.7g}" if dtype == "float32" else f"{lr:.10g}"


def _losses(facts: Facts) -> str:
    first, last = facts.losses
    if facts.step == 0:  # no step taken: what its steps would do is read from the probe past the limit
        return f"loss {first:.4g} at the start, no step taken"
    return f"loss {first:.4g} -> {last:.4g}"


def _growth(facts: Facts) -> float:
    g1 = facts.grad_norms[1]
    return (facts.probe or Probe(0, g1, g1, True, 0)).growth


# Methods that stop by their own rule and take no tolerance (Levenberg-Marquardt, Gauss-Newton):
# no sentence tells their user to give one.
_OWN_STOP = frozenset(least_squares_methods())


def _tolerance(s: Spelling) -> str:
    return f"tolerance ({s.name('tol')})"


def _above_tol(facts: Facts, s: Spelling) -> str:
    return "" if facts.tol is None else f" > {s.name('tol')} {facts.tol:g}"


def _what(facts: Facts) -> str:
    return facts.not_finite or "size of the gradient"  # each part finite, the sum of squares not


def _vanished_at(facts: Facts, s: Spelling) -> str:
    where = f"stopped at step {facts.step}" if facts.step else "stopped at the start"
    return f"{where}: the gradient vanished (norm {facts.grad_norms[1]:.3g})"


def _maximum_words(facts: Facts, s: Spelling) -> str:
    assert facts.curvature is not None
    return (
        f"{_vanished_at(facts, s)} at a maximum of the loss, not a minimum: "
        f"it curves down in every direction (curvature {facts.curvature[0]:.3g}); start elsewhere"
    )


def _saddle_words(facts: Facts, s: Spelling) -> str:
    assert facts.curvature is not None
    return (
        f"{_vanished_at(facts, s)} at a saddle point, not a minimum: the loss still falls along a "
        f"direction of negative curvature ({facts.curvature[0]:.3g}); start elsewhere"
    )


def _bounced(facts: Facts) -> str:
    return "; it got there by overshooting back and forth" if facts.overshot else ""


def _converged_words(facts: Facts, s: Spelling) -> str:
    words = f"converged at step {facts.step}: gradient norm {facts.grad_norms[1]:.3g}" + (
        "" if facts.tol is None else f" <= {s.name('tol')} {facts.tol:g}"  # a solver's own rule
    )
    return words + _bounced(facts)


def _no_gain_words(facts: Facts, s: Spelling) -> str:
    step = "a step" if facts.lr is None else f"a step of {facts.lr:g}"
    return f"converged at step {facts.step}: {step} no longer lowers the loss" + _bounced(facts)


def _imprecise_words(facts: Facts, s: Spelling) -> str:
    norm_last = facts.grad_norms[1]
    above = f"{s.name('tol')} above {norm_last:.3g}"
    return (
        f"stalled at step {facts.step}: the gradient norm fell to {norm_last:.3g}, within the tolerance, "
        "but the answer has no correct digit against the closed form: the tolerance is finer than the "
        f"loss's rounding allows here (float32, or nearly dependent columns); use float64, or a {above}"
    )


def _not_stationary_words(facts: Facts, s: Spelling) -> str:
    return (
        f"stalled at step {facts.step}: the steps stopped changing the parameters, but not at a minimum: "
        f"the gradient norm is {facts.grad_norms[1]:.3g} there (the residuals are not orthogonal to the "
        "Jacobian's columns, or it is not finite); the sum of squares may have no minimum near here (an "
        f"edge of the formula's domain, as 0^k at k = 0): start elsewhere ({s.name('init')}) or change "
        "the formula"
    )


def _stalled_words(facts: Facts, s: Spelling) -> str:
    first, last = facts.losses
    return (
        f"stalled at step {facts.step}: the gradient vanished (norm {facts.grad_norms[1]:.3g}) but the "
        f"loss rose from {first:.4g} to {last:.4g}: a flat region, not a minimum; {_lower(facts, s)} or "
        "start elsewhere"
    )


def _kept_words(facts: Facts, s: Spelling) -> str:
    return (
        f"stopped at step {facts.step}: keeping every step of a longer run would pass the limit of "
        f"{LIMITS.trajectory_numbers:,} numbers in memory; ask for fewer steps or a larger tolerance"
    )


def _start_words(facts: Facts, s: Spelling) -> str:
    return f"the {_what(facts)} is not finite at the start: choose another starting point"


def _kink_words(facts: Facts, s: Spelling) -> str:
    first, last = (f"{loss:.4g}" for loss in facts.losses)
    fell = f"fell from {first} to {last}" if first != last else f"is finite there ({last})"
    return (
        f"stopped at step {facts.step}: the gradient is not finite there (a kink or a pole of the loss) "
        f"although the loss {fell}; start elsewhere or smooth the loss"
    )


def _unbounded_words(facts: Facts, s: Spelling) -> str:
    first, last = facts.losses
    return (
        f"diverged at step {facts.step}: the loss fell without bound (from {first:.4g} to {last:.4g}): "
        "it has no minimum along this path, and no rate changes that"
    )


def _undefined_words(facts: Facts, s: Spelling) -> str:
    return (
        f"diverged at step {facts.step}: a step left the region where the loss is defined (NaN there, at "
        "finite parameters): if the loss falls toward an edge of its domain, it has no minimum "
        f"inside and a smaller rate only delays this; if not, {_lower(facts, s)}"
    )


def _left_finite_words(facts: Facts, s: Spelling) -> str:
    return f"diverged at step {facts.step}: the {_what(facts)} left the finite numbers; " + _overshoot(
        facts, s
    )


def _exploded_words(facts: Facts, s: Spelling) -> str:
    first, last = facts.losses
    words = f"diverged at step {facts.step}: the loss exploded from {first:.4g} to {last:.4g}; "
    return words + _overshoot(facts, s)


def _at_limit(tail: Callable[[Facts, Spelling], str]) -> Callable[[Facts, Spelling], str]:
    """The words of a run that reached the step limit: "stopped at the step limit (k) with gradient
    norm g", then ``tail``'s, from its losses and what the steps past its end do."""

    def words(facts: Facts, s: Spelling) -> str:
        limit = f"stopped at the step limit ({s.value('steps', facts.step)})"
        return f"{limit} with gradient norm {facts.grad_norms[1]:.3g}{tail(facts, s)}"

    return words


def _falls_tail(facts: Facts, s: Spelling) -> str:
    return f": the loss keeps falling ({_losses(facts)}): the loss may have no minimum along this path"


def _too_small_tail(facts: Facts, s: Spelling) -> str:
    if facts.method in _OWN_STOP:  # no rate: its own steps are at the parameters' rounding
        return (
            f": the steps no longer change the parameters at {facts.dtype}'s precision ({_losses(facts)}): "
            "it is as close as it gets"
        )
    return (
        f": each step (rate x gradient) is below {facts.dtype}'s resolution at these parameter "
        f"values, so the parameters no longer change ({_losses(facts)}): the rate is too small to move; "
        + ("raise the rate" if facts.lr is None else f"raise {_the_rate(facts, s)}")
    )


def _stuck_tail(facts: Facts, s: Spelling) -> str:
    norm_last = facts.grad_norms[1]
    if facts.dtype == "float32":
        return (
            f"{_above_tol(facts, s)}: the steps no longer change the parameters at float32's precision, "
            f"so it is as close as float32 gets; use float64 or a {_tolerance(s)} above {norm_last:.3g}"
        )
    if facts.method in _OWN_STOP:  # no tolerance to give: it stops by its own rule
        return (
            f": the steps no longer change the parameters at {facts.dtype}'s precision: it is as close "
            "as it gets"
        )
    return (
        f"{_above_tol(facts, s)}: the steps no longer change the parameters at {facts.dtype}'s "
        f"precision; give a {_tolerance(s)} above {norm_last:.3g}"
    )


def _minimum_tail(facts: Facts, s: Spelling) -> str:
    stop = "" if facts.tol is not None or facts.method in _OWN_STOP else f"; a {_tolerance(s)} stops it there"
    return f": the gradient fell to 1e-8 of its start or less: it reached the minimum{stop}"


def _sign_tail(facts: Facts, s: Spelling) -> str:
    assert facts.lr is not None
    return (
        f": the sign method crosses the minimum back and forth within one step "
        f"({_rate(facts.lr, facts.dtype)}) of it ({_losses(facts)}): its step does not shrink, so it "
        f"gets no closer; lower {_the_rate(facts, s)} for a closer answer, or give a {_tolerance(s)} "
        "to stop once a step no longer lowers the loss"
    )


def _bounces_grow_rose_tail(facts: Facts, s: Spelling) -> str:
    return f": its bounces grow by {_growth(facts):.4g} a step ({_losses(facts)}), so {_lower(facts, s)}"


def _bounces_grow_tail(facts: Facts, s: Spelling) -> str:
    # the loss fell: a method that chooses its own steps (lm, newton) may only need more of them
    fix = f"{_more(s)}, or start nearer a minimum" if facts.lr is None else _lower(facts, s)
    return (
        f": its bounces grow by {_growth(facts):.4g} a step at the end although the loss fell "
        f"({_losses(facts)}): it may settle into a cycle, not a minimum; {fix}"
    )


def _rose_growing_tail(facts: Facts, s: Spelling) -> str:
    return (
        f": the loss rose ({_losses(facts)}) and its gradient grows by {_growth(facts):.4g} a step: the "
        f"steps are too large for the curvature along the path, so {_lower(facts, s)}"
    )


def _steeper_tail(facts: Facts, s: Spelling) -> str:
    return (
        f": the loss keeps falling ever faster ({_losses(facts)}), its gradient growing by "
        f"{_growth(facts):.4g} a step: the loss may have no minimum along this path"
    )


def _bounces_tail(facts: Facts, s: Spelling) -> str:
    return f": it bounces back and forth without settling ({_losses(facts)}), so {_lower(facts, s)}"


def _rose_tail(facts: Facts, s: Spelling) -> str:
    return (
        f": the loss rose ({_losses(facts)}) without settling: the steps are too large for the "
        f"curvature along the path, so {_lower(facts, s)}"
    )


def _more(s: Spelling) -> str:
    return f"raise {s.name('steps', 'the step limit')}"


def _settling_tail(facts: Facts, s: Spelling) -> str:
    # Overshooting while it settles: a higher rate would overshoot more, so never advise one.
    more = _more(s)
    fix = (
        f"{more}, or start nearer a minimum"
        if facts.lr is None
        else f"{more}, or {_lower(facts, s)} a little"
    )
    return f": it bounces back and forth, settling ({_losses(facts)}); {fix}"


def _flat_tail(facts: Facts, s: Spelling) -> str:
    return (
        f": the loss does not fall ({_losses(facts)}) and its gradient does not shrink: the loss may "
        "have no minimum"
    )


def _descending_tail(facts: Facts, s: Spelling) -> str:
    rate = "" if facts.lr is None else f" or {_the_rate(facts, s)}"
    return f"{_above_tol(facts, s)}: still descending ({_losses(facts)}), so {_more(s)}{rate}"


def _rated(runs: Runs) -> bool:
    """Whether the runs step along the gradient (a rate, or an optimiser's), so that its flips and
    growth say the steps overshoot: lm and Gauss-Newton step to a model's minimum (:data:`_OWN_STOP`),
    their gradients turning as they go; cut short, they are judged by their losses alone."""
    return runs.method not in _OWN_STOP


def _at_limit_rule(name: str, regime: Regime, when: tuple[Callable[[Runs], object], ...], tail) -> Rule:
    return Rule(name, Status.MAX_STEPS, regime, when, _at_limit(tail))


_C, _D, _S, _O = Regime.CONVERGED, Regime.DIVERGED, Regime.SLOW, Regime.OSCILLATING

# How a run ends: the first rule that holds for it, in this order. The rules past KEPT_LIMIT see
# only runs that reached the step limit (every other outcome is taken before), and read their
# losses and what the steps past their end do.
RULES: tuple[Rule, ...] = (
    Rule("start", Status.DIVERGED, _D, (lambda r: r.left_finite, lambda r: r.step == 0), _start_words),
    Rule("kink", Status.STALLED, Regime.STALLED, (lambda r: r.left_finite, lambda r: r.kink), _kink_words),
    Rule("unbounded", Status.DIVERGED, _D, (lambda r: r.left_finite, lambda r: r.fell_far), _unbounded_words),
    Rule(
        "undefined", Status.DIVERGED, _D, (lambda r: r.left_finite, lambda r: r.undefined), _undefined_words
    ),
    Rule("left finite", Status.DIVERGED, _D, (lambda r: r.left_finite,), _left_finite_words),
    Rule("exploded", Status.DIVERGED, _D, (lambda r: r.outcome == _EXPLODED,), _exploded_words),
    Rule("plateau", Status.STALLED, Regime.STALLED, (lambda r: r.rose, lambda r: r.flat_end), _stalled_words),
    Rule(
        "maximum", Status.STALLED, Regime.STALLED, (lambda r: r.saddle, lambda r: r.high <= 0), _maximum_words
    ),
    Rule("saddle", Status.STALLED, Regime.STALLED, (lambda r: r.saddle,), _saddle_words),
    Rule("imprecise", Status.STALLED, Regime.STALLED, (lambda r: r.outcome == _IMPRECISE,), _imprecise_words),
    Rule(
        "not stationary",
        Status.STALLED,
        Regime.STALLED,
        (lambda r: r.outcome == _NOT_STATIONARY,),
        _not_stationary_words,
    ),
    Rule("tolerance", Status.CONVERGED, _C, (lambda r: r.outcome == _CONVERGED,), _converged_words),
    Rule("no gain", Status.CONVERGED, _C, (lambda r: r.outcome == _NO_GAIN,), _no_gain_words),
    Rule("kept limit", Status.MAX_STEPS, _S, (lambda r: r.outcome == _KEPT_LIMIT,), _kept_words),
    # Ever steeper downhill: nothing holds it.
    _at_limit_rule("falls", _D, (_rated, lambda r: r.fell_far), _falls_tail),
    _at_limit_rule("too small", _S, (lambda r: r.too_small,), _too_small_tail),
    _at_limit_rule("stuck", _C, (lambda r: r.stuck,), _stuck_tail),
    # At the minimum to rounding, there and 16 steps on: bounces of a gradient of 1e-16 are
    # rounding's, not the rate's (heavy ball at lr*L = 1.8 ends at loss 5e-32, flipping sign).
    _at_limit_rule(
        "reached",
        _C,
        (lambda r: r.vanished, lambda r: _vanished(r.first_norm, r.probe_end), lambda r: r.fell),
        _minimum_tail,
    ),
    # A step of fixed length: once within a step of the minimum it crosses it back and forth,
    # its gradient flipping (from 1e-14 at a lucky landing to a step's worth): that is no growth.
    _at_limit_rule(
        "sign crosses",
        _C,
        (lambda r: r.method == "sign" and r.lr is not None, lambda r: r.alternating, lambda r: r.fell),
        _sign_tail,
    ),
    _at_limit_rule(
        "bounces grow, rose",
        _D,
        (_rated, lambda r: r.grows, lambda r: r.alternating, lambda r: r.rose),
        _bounces_grow_rose_tail,
    ),
    _at_limit_rule(
        "bounces grow", _O, (_rated, lambda r: r.grows, lambda r: r.alternating), _bounces_grow_tail
    ),
    _at_limit_rule("rose, growing", _D, (lambda r: r.grows, lambda r: r.rose), _rose_growing_tail),
    # Steeper than at the start.
    _at_limit_rule(
        "steeper",
        _D,
        (_rated, lambda r: r.growth_above(1 + STEEPER), lambda r: r.last_norm > r.first_norm),
        _steeper_tail,
    ),
    _at_limit_rule(
        "bounces",
        _O,
        (_rated, lambda r: r.alternating, lambda r: r.growth_above(1 - GROWS, equal=True)),
        _bounces_tail,
    ),
    _at_limit_rule("rose", _D, (lambda r: r.rose,), _rose_tail),
    _at_limit_rule("vanished", _C, (lambda r: r.vanished,), _minimum_tail),
    _at_limit_rule(
        "settling", _S, (_rated, lambda r: 2 * r.flips >= r.pairs, lambda r: r.fell), _settling_tail
    ),
    _at_limit_rule(
        "flat", _S, (lambda r: _not(r.fell), lambda r: r.growth_above(1 - FLAT, equal=True)), _flat_tail
    ),
    _at_limit_rule("descending", _S, (), _descending_tail),
)

# Per rule, its status and regime: a batch's are looked up by the index of its rule.
STATUSES = tuple(rule.status for rule in RULES)
REGIMES = tuple(rule.regime for rule in RULES)


def rule_of(facts: Facts) -> int:
    """The index in :data:`RULES` of the first rule that holds for one run."""
    one = Runs.of(facts)  # Python numbers: no NumPy warning to silence
    for i, rule in enumerate(RULES):
        for holds in rule.when:  # stops at the first condition that fails
            if not holds(one):
                break
        else:
            return i
    raise AssertionError("the last rule holds always")


def classify(runs: Runs) -> np.ndarray:
    """Each run's rule at once: per run, the index in :data:`RULES` of the first rule that holds.

    The rules are tried in order over the whole batch (array operations, no Python per run), each
    on the runs no earlier rule took, as :func:`rule_of` does for one run; a rule's conditions stop
    at the first that holds for none of those runs, and the rules stop once every run is taken
    (the conditions only read the facts, so what is not evaluated changes nothing).
    """
    shape = np.shape(runs.outcome)
    rules = np.full(shape, len(RULES) - 1, np.intp)
    free = np.ones(shape, bool)
    with np.errstate(all="ignore"):
        for i, rule in enumerate(RULES[:-1]):
            held = free.copy()
            for holds in rule.when:
                held &= np.asarray(holds(runs), bool)
                if not held.any():
                    break
            else:
                rules[held] = i
                free &= ~held
                if not free.any():
                    break
    return rules


def status(facts: Facts) -> Status:
    """What the user sees, judged against the record (see :func:`judge`)."""
    return RULES[rule_of(facts)].status


def describe(facts: Facts, spelling: Spelling = PYTHON) -> str:
    """Why a run ended and what to try, in one sentence: the only wording of every driver."""
    return RULES[rule_of(facts)].words(facts, spelling)


def judge(facts: Facts, spelling: Spelling = PYTHON) -> Ending:
    """A run's status, regime and sentence, decided together from its facts.

    Every driver (``descend``, ``sweep``, ``sgd``, the fits) ends its runs by :data:`RULES`, so
    the same run reads the same whichever ran it (a batch is judged at once by :func:`classify`);
    ``spelling`` names the parameters as the front end that shows the sentence writes them
    (``tol``, ``--tol``).
    """
    rule = RULES[rule_of(facts)]
    return Ending(rule.status, rule.regime, rule.words(facts, spelling))


class Notes(Sequence[str]):
    """The sentences of a judged batch, each worded when first read and then kept (on this object
    alone): judging many runs formats none of them up front.

    Indexed by run, or by ``(i, j)`` when the batch is a grid of ``shape``.
    """

    def __init__(self, runs: Runs, rules: np.ndarray, shape: tuple[int, ...] | None = None) -> None:
        self._runs, self._rules = runs, rules
        self.shape = shape if shape is not None else (len(runs),)
        self._kept: list[str | None] = [None] * len(runs)

    def __len__(self) -> int:
        return self.shape[0]

    def word(self, run: int, spelling: Spelling = PYTHON) -> str:
        """Run ``run``'s sentence (flat index), naming the parameters as ``spelling`` writes them."""
        if spelling is not PYTHON:
            return RULES[self._rules[run]].words(self._runs[run], spelling)
        kept = self._kept[run]
        if kept is None:
            kept = self._kept[run] = RULES[self._rules[run]].words(self._runs[run], PYTHON)
        return kept

    def _flat(self, index: int | tuple[int, int]) -> int:
        if isinstance(index, tuple):
            i, j = index
            rows, cols = self.shape
            return range(rows)[i] * cols + range(cols)[j]
        return range(len(self._kept))[index]

    def __getitem__(self, index):
        """One sentence (by run, or by cell of a grid), or a list of them (a slice, or a grid's row)."""
        if isinstance(index, slice):
            return [self[k] for k in range(len(self))[index]]
        if len(self.shape) == 2 and not isinstance(index, tuple):
            return [self[index, j] for j in range(self.shape[1])]
        return self.word(self._flat(index))

    def tolist(self) -> list:
        """Every sentence, as a list (a list of rows for a grid)."""
        return [self[i] for i in range(len(self))]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Notes | Sequence) and not isinstance(other, str):
            return self.tolist() == list(other.tolist() if isinstance(other, Notes) else other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.tolist())


def separated(step: int) -> Ending:
    """A logistic fit of classes the regressors separate: the log-loss only approaches its lowest
    value (0) as the coefficients grow without bound, so Newton's steps stop on saturated numbers,
    not at a minimum. Its status says so (not "converged" beside coefficients of 1e300)."""
    return Ending(
        Status.DIVERGED,
        Regime.DIVERGED,
        f"diverged at step {step}: the classes are (nearly) perfectly separated by the regressors, so "
        "the likelihood keeps rising as the coefficients grow: there is no finite maximum to reach "
        "(drop the separating regressor, or use a penalised fit)",
    )


def facts_from_rows(
    code: Outcome,
    loss: np.ndarray,
    grads: np.ndarray,
    params: np.ndarray,
    *,
    lr: float | None,
    tol: float | None,
    method: str,
    probe: Probe | None = None,
) -> Facts:
    """:class:`Facts` from a run's recorded rows (a row a step; gradients and parameters flattened).

    A run that reached the step limit is judged by ``probe``, what the steps past its end do
    (:func:`probe_steps`); a driver that cannot step on past the end (one pass over the data
    per step) gives none, and the last :data:`PROBE` recorded rows stand in for it.
    """
    k = loss.shape[0] - 1
    first, last = grads[0], grads[k]
    with np.errstate(all="ignore"):  # as np.linalg.norm of each row (it overflows alike), in a third the time
        norms = (float(np.sqrt(first @ first)), float(np.sqrt(last @ last)))
        overshot = bool(
            k > 0 and overshoots(float(grads[1] @ first), norms[0], float(np.sqrt(grads[1] @ grads[1])))
        )
    if probe is None and code in (Outcome.MAX_STEPS, Outcome.RUNNING):
        probe = rows_probe(grads, params)
    return Facts(
        outcome=code,
        step=k,
        losses=(float(loss[0]), float(loss[k])),
        grad_norms=norms,
        not_finite=not_finite(loss[k], grads[k], params[k]),
        lr=lr,
        tol=tol,
        method=method,
        dtype=_dtype_name(loss.dtype),
        probe=probe,
        overshot=overshot,
        undefined=bool(np.isnan(loss[k]) and np.isfinite(params[k]).all()),
    )


@functools.lru_cache(maxsize=16)
def _dtype_name(dtype: np.dtype) -> str:
    """``dtype.name``, which NumPy works out in Python at each reading (5 us of a fit's 600)."""
    return dtype.name


def window_probe(grads: np.ndarray, moved: bool) -> Probe:
    """A :class:`Probe` read from consecutive gradients (rows of ``grads``, flattened), the first
    at the run's last row: the same numbers :func:`probe_steps` computes in compiled code."""
    first, last = grads[0], grads[-1]
    with np.errstate(all="ignore"):  # the norms as np.linalg.norm's (which overflows alike)
        turns = int(np.count_nonzero(np.einsum("ij,ij->i", grads[1:], grads[:-1]) < 0))
        start, end = float(np.sqrt(first @ first)), float(np.sqrt(last @ last))
    return Probe(turns, start, end, moved, pairs=len(grads) - 1)


def past_probe(grads: np.ndarray, params: np.ndarray) -> Probe:
    """The :class:`Probe` of a run that recorded its :data:`PROBE` - 1 steps past the end as rows:
    ``grads`` and ``params`` are the last row and those steps' rows, flattened."""
    return window_probe(grads, not bool((params[1] == params[0]).all()))  # NaN moved, as array_equal


def rows_probe(grads: np.ndarray, params: np.ndarray) -> Probe:
    """A :class:`Probe` read from the last :data:`PROBE` recorded rows instead of steps past the end."""
    k = grads.shape[0] - 1
    moved = k == 0 or not np.array_equal(params[k], params[k - 1])
    return window_probe(grads[max(0, k - PROBE + 1) :], moved)


def not_finite(loss: float, grad: np.ndarray, params: np.ndarray) -> str:
    """What of a row left the finite numbers first: "loss", "gradient", "parameters", or ""."""
    if not math.isfinite(loss):
        return "loss"
    if not all_finite(grad):
        return "gradient"
    if not all_finite(params):
        return "parameters"
    return ""


def all_finite(values: np.ndarray) -> bool:
    """Whether every number is finite: in Python for a few (a NumPy call costs more than the
    numbers), in NumPy for many, by one reduction (``.all()``'s wrapper costs a microsecond more)."""
    if values.size <= 8:
        return all(map(math.isfinite, values.ravel().tolist()))
    return bool(np.logical_and.reduce(np.isfinite(values), axis=None))

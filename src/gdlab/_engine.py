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
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gdlab._checks import LIMITS, PYTHON, Spelling
from gdlab._lazy import lazy
from gdlab._methods import Method
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
    """The method's transformation, callable with optax's extra arguments whether it uses them or not."""
    return optax.with_extra_args_support(method.build(lr))


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
        return value, g, optax.apply_updates(p, updates), new_state

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
    if early:
        code = jnp.where(grad_squares <= tol * tol, jnp.int32(Outcome.CONVERGED), code)
    exploded = value > EXPLODE * jnp.maximum(1.0, jnp.abs(first))
    code = jnp.where(exploded, jnp.int32(Outcome.EXPLODED), code)
    return jnp.where(jnp.isfinite(total), code, jnp.int32(Outcome.NOT_FINITE))


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

    @property
    def alternating(self) -> bool:
        """The gradient turns back at (nearly) every step: it bounces."""
        return self.pairs >= 2 and self.flips >= self.pairs - 1


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

    @property
    def stuck(self) -> bool:
        """The step past the last row leaves the parameters exactly where they are, while the
        gradient is not zero: the step is below the floating type's resolution there."""
        return self.probe is not None and not self.probe.moved and self.grad_norms[1] > 0


@dataclass(frozen=True)
class Ending:
    """How a run ended, in the three forms users see: its status, its regime and its sentence."""

    status: Status
    regime: Regime
    sentence: str


def _the_rate(facts: Facts, s: Spelling) -> str:
    """ "the rate 0.5", naming the parameter as the front end does."""
    assert facts.lr is not None
    return f"the rate {s.value('lr', _rate(facts.lr, facts.dtype))}"


def _lower(facts: Facts, s: Spelling) -> str:
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


def too_small(facts: Facts) -> bool:
    """Stuck (steps below the floating type's resolution) while the gradient is still large:
    the rate, not the precision, is what stops it."""
    return facts.stuck and facts.grad_norms[1] > 1e-3 * max(facts.grad_norms[0], 1e-300)


def needs_curvature(outcome: Outcome, first_norm: float, last_norm: float) -> bool:
    """Whether a run's end is a vanished gradient, whose kind (minimum, saddle, maximum) the
    Hessian tells: it stopped by the tolerance, or its gradient fell to 1e-8 of its start."""
    if outcome in (Outcome.CONVERGED, Outcome.NO_GAIN):
        return True
    return outcome is Outcome.MAX_STEPS and _vanished(first_norm, last_norm)


def _vanished(first_norm: float, last_norm: float) -> bool:
    return last_norm <= 1e-8 * max(1.0, first_norm)


def _saddle(facts: Facts) -> bool:
    """The gradient vanished where the loss still curves down along some direction."""
    if facts.curvature is None or not all(map(math.isfinite, facts.curvature)):
        return False
    low, high = facts.curvature
    relative = 1e-3 if facts.dtype == "float32" else 1e-7
    return low < -relative * max(abs(low), abs(high))


def _saddle_words(facts: Facts) -> str:
    assert facts.curvature is not None
    low, high = facts.curvature
    where = f"stopped at step {facts.step}" if facts.step else "stopped at the start"
    norm = facts.grad_norms[1]
    if high <= 0:
        return (
            f"{where}: the gradient vanished (norm {norm:.3g}) at a maximum of the loss, not a minimum: "
            f"it curves down in every direction (curvature {low:.3g}); start elsewhere"
        )
    return (
        f"{where}: the gradient vanished (norm {norm:.3g}) at a saddle point, not a minimum: the loss "
        f"still falls along a direction of negative curvature ({low:.3g}); start elsewhere"
    )


def _kink(facts: Facts) -> bool:
    """The gradient became undefined where the loss is finite and had fallen: a kink or a pole."""
    first, last = facts.losses
    return (
        facts.outcome is Outcome.NOT_FINITE
        and facts.step > 0
        and facts.not_finite == "gradient"
        and math.isfinite(last)
        and last <= first
    )


def _rose(facts: Facts) -> bool:
    first, last = facts.losses
    return last > first + 1e-9 * max(1.0, abs(first))


def _fell(facts: Facts) -> bool:
    first, last = facts.losses
    return last < first - 1e-9 * max(1.0, abs(first))


def _stalled(facts: Facts) -> bool:
    """Stopped, or stuck, where the gradient vanished, after the loss rose: a plateau."""
    if not _rose(facts):
        return False
    if facts.outcome in (Outcome.CONVERGED, Outcome.NO_GAIN):
        return True
    return facts.outcome is Outcome.MAX_STEPS and (_vanished(*facts.grad_norms) or facts.stuck)


def status(facts: Facts) -> Status:
    """What the user sees, judged against the record (see :func:`judge`)."""
    return judge(facts).status


def describe(facts: Facts, spelling: Spelling = PYTHON) -> str:
    """Why a run ended and what to try, in one sentence: the only wording of every driver."""
    return judge(facts, spelling).sentence


def judge(facts: Facts, spelling: Spelling = PYTHON) -> Ending:
    """A run's status, regime and sentence, decided together from its facts.

    Every driver (``descend``, ``sweep``, ``sgd``, the fits) ends its runs here, so the
    same run reads the same whichever ran it; ``spelling`` names the parameters as the
    front end that shows the sentence writes them (``tol``, ``--tol``).
    """
    s = spelling
    first, last = facts.losses
    k = facts.step
    if facts.outcome is Outcome.NOT_FINITE:
        kind = Status.STALLED if _kink(facts) else Status.DIVERGED
        return Ending(kind, Regime(kind.value), _not_finite(facts, s))
    if facts.outcome is Outcome.EXPLODED:
        words = f"diverged at step {k}: the loss exploded from {first:.4g} to {last:.4g}; "
        return Ending(Status.DIVERGED, Regime.DIVERGED, words + _overshoot(facts, s))
    norm_last = facts.grad_norms[1]
    if _stalled(facts):
        return Ending(
            Status.STALLED,
            Regime.STALLED,
            f"stalled at step {k}: the gradient vanished (norm {norm_last:.3g}) but the loss rose from "
            f"{first:.4g} to {last:.4g}: a flat region, not a minimum; {_lower(facts, s)} or start elsewhere",
        )
    if _saddle(facts):
        return Ending(Status.STALLED, Regime.STALLED, _saddle_words(facts))
    bounced = "; it got there by overshooting back and forth" if facts.overshot else ""
    if facts.outcome is Outcome.IMPRECISE:
        above = f"{s.name('tol')} above {norm_last:.3g}"
        return Ending(
            Status.STALLED,
            Regime.STALLED,
            f"stalled at step {k}: the gradient norm fell to {norm_last:.3g}, within the tolerance, but the "
            "answer has no correct digit against the closed form: the tolerance is finer than the loss's "
            f"rounding allows here (float32, or nearly dependent columns); use float64, or a {above}",
        )
    if facts.outcome is Outcome.CONVERGED:
        words = f"converged at step {k}: gradient norm {norm_last:.3g}" + (
            "" if facts.tol is None else f" <= {s.name('tol')} {facts.tol:g}"  # a solver's own rule
        )
        return Ending(Status.CONVERGED, Regime.CONVERGED, words + bounced)
    if facts.outcome is Outcome.NO_GAIN:
        step = "a step" if facts.lr is None else f"a step of {facts.lr:g}"
        words = f"converged at step {k}: {step} no longer lowers the loss"
        return Ending(Status.CONVERGED, Regime.CONVERGED, words + bounced)
    if facts.outcome is Outcome.KEPT_LIMIT:
        return Ending(
            Status.MAX_STEPS,
            Regime.SLOW,
            f"stopped at step {k}: keeping every step of a longer run would pass the limit of "
            f"{LIMITS.trajectory_numbers:,} numbers in memory; ask for fewer steps or a larger tolerance",
        )
    regime, words = _at_limit(facts, s)
    limit = f"stopped at the step limit ({s.value('steps', k)})"
    return Ending(Status.MAX_STEPS, regime, f"{limit} with gradient norm {norm_last:.3g}{words}")


def _at_limit(facts: Facts, s: Spelling) -> tuple[Regime, str]:
    """The regime of a run that reached the step limit, and the words after "stopped at the step
    limit (k) with gradient norm g": from its losses and what the steps past its end do."""
    first, last = facts.losses
    probe = facts.probe or Probe(0, facts.grad_norms[1], facts.grad_norms[1], True, 0)
    growth, alternating = probe.growth, probe.alternating
    losses = f"loss {first:.4g} -> {last:.4g}"
    if fell_far(facts):  # ever steeper downhill: nothing holds it
        return Regime.DIVERGED, (
            f": the loss keeps falling ({losses}): the loss may have no minimum along this path"
        )
    if too_small(facts):
        return Regime.SLOW, (
            f": each step (rate x gradient) is below {facts.dtype}'s resolution at these parameter "
            f"values, so the parameters no longer change ({losses}): the rate is too small to move; "
            + ("raise the rate" if facts.lr is None else f"raise {_the_rate(facts, s)}")
        )
    tolerance = f"tolerance ({s.name('tol')})"
    if facts.stuck:
        tol = "" if facts.tol is None else f" > {s.name('tol')} {facts.tol:g}"
        if facts.dtype == "float32":
            return Regime.CONVERGED, (
                f"{tol}: the steps no longer change the parameters at float32's precision, so it is as "
                f"close as float32 gets; use float64 or a {tolerance} above {facts.grad_norms[1]:.3g}"
            )
        return Regime.CONVERGED, (
            f"{tol}: the steps no longer change the parameters at {facts.dtype}'s precision; give a "
            f"{tolerance} above {facts.grad_norms[1]:.3g}"
        )
    grows, lower = growth > 1 + 1e-6, _lower(facts, s)
    if _vanished(*facts.grad_norms) and _vanished(facts.grad_norms[0], probe.end) and _fell(facts):
        # At the minimum to rounding, there and 16 steps on: bounces of a gradient of 1e-16 are
        # rounding's, not the rate's (heavy ball at lr*L = 1.8 ends at loss 5e-32, flipping sign).
        stop = "" if facts.tol is not None else f"; a {tolerance} stops it there"
        return (
            Regime.CONVERGED,
            f": the gradient fell to 1e-8 of its start or less: it reached the minimum{stop}",
        )
    if facts.method == "sign" and alternating and facts.lr is not None and _fell(facts):
        # A step of fixed length: once within a step of the minimum it crosses it back and forth,
        # its gradient flipping (from 1e-14 at a lucky landing to a step's worth): that is no growth.
        return Regime.CONVERGED, (
            f": the sign method crosses the minimum back and forth within one step "
            f"({_rate(facts.lr, facts.dtype)}) of it ({losses}): its step does not shrink, so it gets no "
            f"closer; lower {_the_rate(facts, s)} for a closer answer, or give a {tolerance} to stop once "
            "a step no longer lowers the loss"
        )
    if grows and alternating and _rose(facts):
        return Regime.DIVERGED, f": its bounces grow by {growth:.4g} a step ({losses}), so {_lower(facts, s)}"
    if grows and alternating:
        return Regime.OSCILLATING, (
            f": its bounces grow by {growth:.4g} a step at the end although the loss fell ({losses}): it "
            f"may settle into a cycle, not a minimum; {_lower(facts, s)}"
        )
    if grows and _rose(facts):
        return Regime.DIVERGED, (
            f": the loss rose ({losses}) and its gradient grows by {growth:.4g} a step: the steps are too "
            f"large for the curvature along the path, so {_lower(facts, s)}"
        )
    if growth > 1 + 1e-3 and facts.grad_norms[1] > facts.grad_norms[0]:  # steeper than at the start
        return Regime.DIVERGED, (
            f": the loss keeps falling ever faster ({losses}), its gradient growing by {growth:.4g} a "
            "step: the loss may have no minimum along this path"
        )
    if alternating and growth >= 1 - 1e-6:
        return Regime.OSCILLATING, f": it bounces back and forth without settling ({losses}), so {lower}"
    if _rose(facts):
        return Regime.DIVERGED, (
            f": the loss rose ({losses}) without settling: the steps are too large for the curvature "
            f"along the path, so {_lower(facts, s)}"
        )
    if _vanished(*facts.grad_norms):
        stop = "" if facts.tol is not None else f"; a {tolerance} stops it there"
        return (
            Regime.CONVERGED,
            f": the gradient fell to 1e-8 of its start or less: it reached the minimum{stop}",
        )
    more = f"raise {s.name('steps', 'the step limit')}"
    if probe.flips >= probe.pairs / 2 and _fell(facts):
        # Overshooting while it settles: a higher rate would overshoot more, so never advise one.
        fix = f"{more}, or start nearer a minimum" if facts.lr is None else f"{more}, or {lower} a little"
        return Regime.SLOW, f": it bounces back and forth, settling ({losses}); {fix}"
    if not _fell(facts) and growth >= 1 - 1e-9:
        return Regime.SLOW, (
            f": the loss does not fall ({losses}) and its gradient does not shrink: the loss may have "
            "no minimum"
        )
    tol = "" if facts.tol is None else f" > {s.name('tol')} {facts.tol:g}"
    rate = "" if facts.lr is None else f" or {_the_rate(facts, s)}"
    return Regime.SLOW, f"{tol}: still descending ({losses}), so {more}{rate}"


def _not_finite(facts: Facts, s: Spelling) -> str:
    first, last = facts.losses
    k = facts.step
    if k == 0:
        what = facts.not_finite or "size of the gradient"  # each part finite, the sum of squares not
        return f"the {what} is not finite at the start: choose another starting point"
    if _kink(facts):
        return (
            f"stopped at step {k}: the gradient is not finite there (a kink or a pole of the loss) "
            f"although the loss fell from {first:.4g} to {last:.4g}; start elsewhere or smooth the loss"
        )
    if fell_far(facts):
        return (
            f"diverged at step {k}: the loss fell without bound (from {first:.4g} to {last:.4g}): "
            "it has no minimum along this path, and no rate changes that"
        )
    if facts.undefined:
        return (
            f"diverged at step {k}: a step left the region where the loss is defined (NaN there, at "
            "finite parameters): if the loss falls toward an edge of its domain, it has no minimum "
            f"inside and a smaller rate only delays this; if not, {_lower(facts, s)}"
        )
    what = facts.not_finite or "size of the gradient"  # each part finite, the sum of squares not
    return f"diverged at step {k}: the {what} left the finite numbers; " + _overshoot(facts, s)


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


def fell_far(facts: Facts) -> bool:
    """The loss fell as far below its start as an exploding loss rises above it: it has no minimum."""
    first, last = facts.losses
    lowest = min(x for x in (last, first) if not math.isnan(x))
    return lowest < first - EXPLODE * max(1.0, abs(first))


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
    with np.errstate(all="ignore"):
        norms = np.linalg.norm(grads[[0, k]], axis=1)
        overshot = bool(k > 0 and float(grads[1] @ grads[0]) < 0)
    if probe is None and code in (Outcome.MAX_STEPS, Outcome.RUNNING):
        probe = rows_probe(grads, params)
    return Facts(
        outcome=code,
        step=k,
        losses=(float(loss[0]), float(loss[k])),
        grad_norms=(float(norms[0]), float(norms[1])),
        not_finite=not_finite(loss[k], grads[k], params[k]),
        lr=lr,
        tol=tol,
        method=method,
        dtype=str(loss.dtype),
        probe=probe,
        overshot=overshot,
        undefined=bool(np.isnan(loss[k]) and np.all(np.isfinite(params[k]))),
    )


def window_probe(grads: np.ndarray, moved: bool) -> Probe:
    """A :class:`Probe` read from consecutive gradients (rows of ``grads``, flattened), the first
    at the run's last row: the same numbers :func:`probe_steps` computes in compiled code."""
    with np.errstate(all="ignore"):
        turns = np.einsum("ij,ij->i", grads[1:], grads[:-1]) < 0
        start, end = np.linalg.norm(grads[[0, -1]], axis=1)
    return Probe(int(np.sum(turns)), float(start), float(end), moved, pairs=len(grads) - 1)


def past_probe(grads: np.ndarray, params: np.ndarray) -> Probe:
    """The :class:`Probe` of a run that recorded its :data:`PROBE` - 1 steps past the end as rows:
    ``grads`` and ``params`` are the last row and those steps' rows, flattened."""
    return window_probe(grads, not np.array_equal(params[1], params[0]))


def rows_probe(grads: np.ndarray, params: np.ndarray) -> Probe:
    """A :class:`Probe` read from the last :data:`PROBE` recorded rows instead of steps past the end."""
    k = grads.shape[0] - 1
    moved = k == 0 or not np.array_equal(params[k], params[k - 1])
    return window_probe(grads[max(0, k - PROBE + 1) :], moved)


def not_finite(loss: float, grad: np.ndarray, params: np.ndarray) -> str:
    """What of a row left the finite numbers first: "loss", "gradient", "parameters", or ""."""
    if not np.isfinite(loss):
        return "loss"
    if not np.all(np.isfinite(grad)):
        return "gradient"
    if not np.all(np.isfinite(params)):
        return "parameters"
    return ""

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

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gdlab._checks import LIMITS
from gdlab._methods import Method
from gdlab._trajectory import Status
from gdlab._types import Loss, Params

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


Step = Callable[[Params, optax.OptState], tuple[jax.Array, Params, Params, optax.OptState]]


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


@dataclass(frozen=True)
class Facts:
    """What the words about a run's end are made of, read from its record.

    Attributes:
        outcome: how it ended.
        step: the step of its last row.
        losses: the loss at the first, the second-to-last and the last row.
        grad_norms: the gradient norm at the first and the last row.
        turned_back: whether the last gradient points back against the one before.
        not_finite: what left the finite numbers ("loss", "gradient", "parameters"), if anything.
        stuck: whether the last step left the parameters exactly where they were (the
            step is below the floating type's resolution).
        lr: the rate, or ``None`` when the optimiser holds its own.
        tol: the tolerance on the gradient norm, if any.
        method: the optimiser's name.
        dtype: the floating type it ran in.
        curvature: the lowest and highest Hessian eigenvalue at the last row, when the
            gradient vanished there (``None`` when not measured).
        cycle: the last row repeats the one two steps before (a 2-cycle that never settles).
        bounces_grow: the last gradient is larger than the one two steps before.
        undefined: the loss is NaN at finite parameters: a step left the loss's domain.
    """

    outcome: Outcome
    step: int
    losses: tuple[float, float, float]
    grad_norms: tuple[float, float]
    turned_back: bool
    not_finite: str
    lr: float | None
    tol: float | None
    method: str
    stuck: bool = False
    dtype: str = "float64"
    curvature: tuple[float, float] | None = None
    cycle: bool = False
    bounces_grow: bool = False
    undefined: bool = False


def _lower(facts: Facts) -> str:
    if facts.lr is None:  # the optimiser chose its steps: there is no rate to lower
        return "start nearer a minimum or use a method with a rate (gd, adam)"
    return f"lower the rate {_rate(facts.lr, facts.dtype)}"


def _overshoot(facts: Facts) -> str:
    if facts.lr is None:
        return f"the steps {facts.method} chose overshoot, so {_lower(facts)}"
    return f"each step overshoots, so {_lower(facts)}"


def _rate(lr: float, dtype: str = "float64") -> str:
    """A rate as typed: enough digits to tell 1.0000001 from 1, and no more than the type holds."""
    return f"{lr:.7g}" if dtype == "float32" else f"{lr:.10g}"


def too_small(facts: Facts) -> bool:
    """Stuck (steps below the floating type's resolution) while the gradient is still large:
    the rate, not the precision, is what stops it."""
    return facts.stuck and facts.grad_norms[1] > 1e-3 * max(facts.grad_norms[0], 1e-300)


def status(facts: Facts) -> Status:
    """What the user sees, judged against the record: a vanished gradient after a rise, or at a
    saddle or a maximum, is no minimum."""
    if _stalled(facts) or _kink(facts) or _saddle(facts):
        return Status.STALLED
    return facts.outcome.status


def needs_curvature(outcome: Outcome, first_norm: float, last_norm: float) -> bool:
    """Whether a run's end is a vanished gradient, whose kind (minimum, saddle, maximum) the
    Hessian tells: it stopped by the tolerance, or its gradient fell to 1e-8 of its start."""
    if outcome in (Outcome.CONVERGED, Outcome.NO_GAIN):
        return True
    return outcome is Outcome.MAX_STEPS and last_norm <= 1e-8 * max(1.0, first_norm)


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
    first, _, last = facts.losses
    return (
        facts.outcome is Outcome.NOT_FINITE
        and facts.step > 0
        and facts.not_finite == "gradient"
        and math.isfinite(last)
        and last <= first
    )


def _rose(facts: Facts) -> bool:
    first, _, last = facts.losses
    return last > first + 1e-9 * max(1.0, abs(first))


def _stalled(facts: Facts) -> bool:
    """Stopped, or stuck, where the gradient vanished, after the loss rose: a plateau."""
    if not _rose(facts):
        return False
    if facts.outcome in (Outcome.CONVERGED, Outcome.NO_GAIN):
        return True
    flat = facts.grad_norms[1] <= 1e-8 * max(1.0, facts.grad_norms[0])
    return facts.outcome is Outcome.MAX_STEPS and (flat or facts.stuck)


def describe(facts: Facts) -> str:
    """Why a run ended and what to try, in one sentence: the only wording of every driver."""
    first, previous, last = facts.losses
    k = facts.step
    if facts.outcome is Outcome.NOT_FINITE:
        return _not_finite(facts)
    if facts.outcome is Outcome.EXPLODED:
        return f"diverged at step {k}: the loss exploded from {first:.4g} to {last:.4g}; " + _overshoot(facts)
    norm_last = facts.grad_norms[1]
    if _stalled(facts):
        return (
            f"stalled at step {k}: the gradient vanished (norm {norm_last:.3g}) but the loss rose from "
            f"{first:.4g} to {last:.4g}: a flat region, not a minimum; {_lower(facts)} or start elsewhere"
        )
    if _saddle(facts):
        return _saddle_words(facts)
    if facts.outcome is Outcome.CONVERGED:
        return f"converged at step {k}: gradient norm {norm_last:.3g} <= tol {facts.tol:g}"
    if facts.outcome is Outcome.NO_GAIN:
        return f"converged at step {k}: a step of {facts.lr:g} no longer lowers the loss"
    if facts.outcome is Outcome.KEPT_LIMIT:
        return (
            f"stopped at step {k}: keeping every step of a longer run would pass the limit of "
            f"{LIMITS.trajectory_numbers:,} numbers in memory; ask for fewer steps or a larger tolerance"
        )
    limit = f"stopped at the step limit ({k}) with gradient norm {norm_last:.3g}"
    growing = norm_last > 100 * max(facts.grad_norms[0], 1e-300) and not facts.turned_back
    if fell_far(facts) or (last < first and growing):  # ever steeper downhill: nothing holds it
        return (
            f"{limit}: the loss keeps falling ({first:.4g} -> {last:.4g}) while its gradient grows: "
            "the loss may have no minimum along this path"
        )
    if too_small(facts):
        raise_it = "raise the rate" if facts.lr is None else f"raise the rate {_rate(facts.lr, facts.dtype)}"
        return (
            f"{limit}: each step (rate x gradient) is below {facts.dtype}'s resolution at these "
            f"parameter values, so the parameters no longer change (loss {first:.4g} -> {last:.4g}): "
            f"the rate is too small to move; {raise_it}"
        )
    if facts.stuck:
        tol = "" if facts.tol is None else f" > tol {facts.tol:g}"
        return (
            f"{limit}{tol}: the steps no longer change the parameters at {facts.dtype}'s precision, "
            f"so it is as close as {facts.dtype} gets; use float64 or a tolerance above {norm_last:.3g}"
            if facts.dtype == "float32"
            else f"{limit}{tol}: the steps no longer change the parameters at {facts.dtype}'s precision; "
            f"give a tolerance above {norm_last:.3g}"
        )
    if k > 0 and facts.turned_back and last > first * (1 + 1e-9) + 1e-300:
        return f"{limit}: its bounces grow (loss {first:.4g} -> {last:.4g}), so {_lower(facts)}"
    if k > 1 and facts.turned_back and facts.cycle:
        return (
            f"{limit}: it bounces between two points without settling (loss {previous:.4g} and "
            f"{last:.4g}), so {_lower(facts)}"
        )
    if k > 1 and facts.turned_back and facts.bounces_grow and last < first:
        return (
            f"{limit}: its bounces grow at the end although the loss fell ({first:.4g} -> {last:.4g}), "
            f"so {_lower(facts)}"
        )
    if k > 0 and facts.turned_back and last < first - 1e-6 * abs(first):
        # Overshooting while it settles: a higher rate would overshoot more, so never advise one.
        return f"{limit}: it bounces back and forth, settling (loss {first:.4g} -> {last:.4g}); " + (
            "raise the step limit, or start nearer a minimum"
            if facts.lr is None
            else f"raise the step limit, or {_lower(facts)} a little"
        )
    if k > 0 and facts.turned_back and norm_last >= 0.5 * facts.grad_norms[0]:
        return f"{limit}: it bounces back and forth without settling, so {_lower(facts)}"
    if _rose(facts):
        return (
            f"{limit}: the loss rose from {first:.4g} to {last:.4g} without settling: the steps are too "
            f"large for the curvature along the path, so {_lower(facts)}"
        )
    if facts.tol is None and norm_last <= 1e-8 * max(1.0, facts.grad_norms[0]):
        return (
            f"{limit}: the gradient fell to 1e-8 of its start or less: it has reached the minimum; "
            "a tolerance (tol) stops it there"
        )
    if facts.tol is None:
        return f"{limit}; give a tolerance (tol) to stop once it is small"
    raise_rate = "" if facts.lr is None else f" or the rate {_rate(facts.lr, facts.dtype)}"
    return f"{limit} > tol {facts.tol:g}: still descending, so raise the step limit{raise_rate}"


def _not_finite(facts: Facts) -> str:
    first, previous, last = facts.losses
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
            f"inside and a smaller rate only delays this; if not, {_lower(facts)}"
        )
    what = facts.not_finite or "size of the gradient"  # each part finite, the sum of squares not
    before = f" (the loss was {previous:.4g} a step before)" if math.isfinite(previous) else ""
    return f"diverged at step {k}: the {what} left the finite numbers{before}; " + _overshoot(facts)


def fell_far(facts: Facts) -> bool:
    """The loss fell as far below its start as an exploding loss rises above it: it has no minimum."""
    first, previous, last = facts.losses
    lowest = min(x for x in (previous, last, first) if not math.isnan(x))
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
) -> Facts:
    """:class:`Facts` from a run's recorded rows (a row a step; gradients and parameters flattened)."""
    k = loss.shape[0] - 1
    with np.errstate(all="ignore"):
        norms = np.linalg.norm(grads[[0, k]], axis=1)
        turned = bool(k > 0 and float(grads[k] @ grads[k - 1]) < 0)
    stuck = bool(k > 0 and np.array_equal(params[k], params[k - 1]) and np.any(grads[k] != 0))
    with np.errstate(all="ignore"):
        cycle = bool(
            k > 1
            and np.allclose(params[k], params[k - 2], rtol=1e-12, atol=0)
            and not np.array_equal(params[k], params[k - 1])
        )
        grows = bool(k > 1 and np.linalg.norm(grads[k]) > np.linalg.norm(grads[k - 2]) * (1 + 1e-9))
    undefined = bool(np.isnan(loss[k]) and np.all(np.isfinite(params[k])))
    return Facts(
        outcome=code,
        step=k,
        losses=(float(loss[0]), float(loss[max(k - 1, 0)]), float(loss[k])),
        grad_norms=(float(norms[0]), float(norms[1])),
        turned_back=turned,
        not_finite=not_finite(loss[k], grads[k], params[k]),
        lr=lr,
        tol=tol,
        method=method,
        stuck=stuck,
        dtype=str(loss.dtype),
        cycle=cycle,
        bounces_grow=grows,
        undefined=undefined,
    )


def not_finite(loss: float, grad: np.ndarray, params: np.ndarray) -> str:
    """What of a row left the finite numbers first: "loss", "gradient", "parameters", or ""."""
    if not np.isfinite(loss):
        return "loss"
    if not np.all(np.isfinite(grad)):
        return "gradient"
    if not np.all(np.isfinite(params)):
        return "parameters"
    return ""

"""Learning-rate sweeps: every (rate, start) pair in one compiled, vmapped call."""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from gdlab import _checks
from gdlab._cache import PerKey
from gdlab._cancel import Pace, checkpoint, power_of_two
from gdlab._checks import LIMITS, PYTHON, InputError, Spelling, size
from gdlab._descend import cost_key, descend
from gdlab._engine import (
    PROBE,
    REGIMES,
    STATUSES,
    Facts,
    Notes,
    Outcome,
    Runs,
    classify,
    describe,
    inner,
    make_step,
    may_stop,
    needs_curvature,
    norm,
    optimiser,
    outcome,
    overshoots,
    probe_steps,
)
from gdlab._json import plain
from gdlab._loss import as_loss, scalar_loss
from gdlab._methods import Method, resolve_method
from gdlab._precision import as_float_tree, resolve_dtype
from gdlab._pytree import component_names
from gdlab._pytree import components as count_components
from gdlab._stability import STABILITY_COMPONENTS, Stability, known_curvature_ranges, known_stability
from gdlab._trajectory import Regime, Status, Trajectory, flat_rows
from gdlab._types import DTypeLike, Loss, MethodLike, Params

# Saving every step of every run is the default while it stays this small (numbers per array).
SAVE_BUDGET = 2_000_000


def rates(low: float, high: float, num: int = 50, *, log: bool = True) -> np.ndarray:
    """Learning rates from ``low`` to ``high``: log-spaced (default) or even.

    Example:
        >>> rates(1e-3, 1, 4).tolist()
        [0.001, 0.01, 0.1, 1.0]
    """
    lo, hi = _checks.number("low", low), _checks.number("high", high)
    num = _checks.whole("num", num, low=1)
    size("rates", num, LIMITS.rates, "sweep fewer rates")
    if not hi > lo or int(num) < 1:
        raise InputError(f"need 0 < low < high and num >= 1; got low={low}, high={high}, num={num}")
    return np.geomspace(lo, hi, int(num)) if log else np.linspace(lo, hi, int(num))


def _select(keep, new, old):
    return jax.tree.map(lambda n, o: jnp.where(keep, n, o), new, old)


# A sweep whose estimated time is at most this runs in one compiled call; a longer one runs in
# chunks sized by their measured time (about CHUNK_SECONDS each), checking for Ctrl-C and a
# cancelled scope between them.
WHOLE_SECONDS = 1.0
# Losses whose compiled sweeps are kept (see gdlab._cache: the rest are freed).
COMPILED_LOSSES = 16


def _pieces(f, method: Method, lr, tol, early: bool, first=None):
    """The loss, the step, and one step of a run that stops for good once it stops.

    The loop carries as little as it can, because on a CPU each value carried
    through a compiled loop costs about as much as the arithmetic of a step:
    the parameters, the optimiser state, the outcome and the step count. The
    loss at the start, which the stop rule needs, is a constant of the loop.
    """
    loss = scalar_loss(f)
    step = make_step(loss, optimiser(method, lr))

    def one(carry, _):
        p, state, code, taken = carry
        value, g, new_p, new_state = step(p, state)
        now = outcome(loss, method, value, g, p, new_p, first, tol, early)
        code = jnp.where(code == Outcome.RUNNING, now, code)
        done = code != Outcome.RUNNING
        carry = (
            _select(done, p, new_p),
            _select(done, state, new_state),
            code,
            taken + jnp.where(done, 0, 1),
        )
        return carry, (p, value, g)

    return loss, step, one


def _begin_all(f, method: Method, inits, lrs):
    """Every run's starting carry, and whether its first step overshoots (the gradient turns back)."""

    def begin(init, lr):
        loss, step, _ = _pieces(f, method, lr, 0.0, False)
        state = optimiser(method, lr).init(init)
        first, g0, p1, _ = step(init, state)
        g1 = jax.grad(loss)(p1)
        overshoot = overshoots(inner(g0, g1), norm(g0), norm(g1), jnp)
        return (init, state, jnp.int32(Outcome.RUNNING), jnp.int32(0)), first, overshoot

    return jax.vmap(begin)(inits, lrs)


_begin = PerKey(_begin_all, 2, COMPILED_LOSSES, (), per_loss=True)


def _segment_all(f, method: Method, carry, firsts, lrs, tol, early: bool, every: int, count: int):
    """``count`` saved rows per run, each followed by ``every`` steps: the carry on, and the rows."""

    def segment(carry, first, lr):
        loss, _, one = _pieces(f, method, lr, tol, early, first)

        def chunk(carry, _):
            # The saved row is the chunk's first step, evaluated here; the chunk then steps on.
            p = carry[0]
            value, g = jax.value_and_grad(loss)(p)
            carry, _ = jax.lax.scan(lambda cy, x: (one(cy, x)[0], None), carry, None, length=every)
            return carry, (p, value, g)

        if every == 1:  # every step saved: the scan's outputs are the rows
            return jax.lax.scan(one, carry, None, length=count)
        return jax.lax.scan(chunk, carry, None, length=count)

    return jax.vmap(segment)(carry, firsts, lrs)


_segment = PerKey(_segment_all, 2, COMPILED_LOSSES, ("early", "every", "count"), per_loss=True)


def _advance_all(f, method: Method, carry, firsts, lrs, tol, early: bool, length):
    """``length`` steps of every run, saving nothing. Compiled on its own (:data:`_advance`),
    ``length`` is an argument: chunks of any length, sized by time, share one program."""

    def advance(carry, first, lr):
        one = _pieces(f, method, lr, tol, early, first)[2]
        return jax.lax.fori_loop(0, length, lambda _, cy: one(cy, None)[0], carry)

    return jax.vmap(advance)(carry, firsts, lrs)


_advance = PerKey(_advance_all, 2, COMPILED_LOSSES, ("early",), per_loss=True)


def _row_all(f, method: Method, carry):
    """The row each run is at: its parameters, loss and gradient."""

    def row(p):
        value, g = jax.value_and_grad(scalar_loss(f))(p)
        return p, value, g

    return jax.vmap(row)(carry[0])


_row = PerKey(_row_all, 2, COMPILED_LOSSES, (), per_loss=True)


def _finish_all(f, method: Method, carry, firsts, lrs, tol, early: bool):
    """The last row, how each run ended, and its probe past the end (:func:`gdlab._engine.probe_steps`)."""

    def finish(carry, first, lr):
        loss, step, _ = _pieces(f, method, lr, tol, early, first)
        p, state, code, taken = carry
        value, g, new_p, new_state = step(p, state)
        last = outcome(loss, method, value, g, p, new_p, first, tol, early)
        last = jnp.where(last == Outcome.RUNNING, jnp.int32(Outcome.MAX_STEPS), last)
        code = jnp.where(code == Outcome.RUNNING, last, code)
        return (p, value, g), code, taken, probe_steps(step, g, p, new_p, new_state)

    return jax.vmap(finish)(carry, firsts, lrs)


_finish = PerKey(_finish_all, 2, COMPILED_LOSSES, ("early",), per_loss=True)


def _sweep_run(f, method: Method, inits, lrs, tol, steps: int, early: bool, every: int, chunks: int):
    """Every run: in one compiled call when the sweep is estimated to take at most
    :data:`WHOLE_SECONDS`, else in chunks sized by time (Ctrl-C and a cancelled scope are answered
    between them). Once every run has stopped, the remaining rows repeat each run's end instead of
    being computed.

    A step's cost is measured by the calls before; the first call for a loss and shapes estimates it
    from the work its traced step does (:func:`_estimated_step`: tracing takes milliseconds, where
    compiling anything to time it would take a tenth of a second).
    """
    entry = _whole.entry(f, method)
    cost = (cost_key(inits, None, early), np.result_type(lrs).str)
    if cost not in entry.seconds:
        entry.seconds[cost] = _estimated_step(f, method, inits, lrs)
    per_step = entry.seconds[cost]
    checkpoint()
    if per_step * steps <= WHOLE_SECONDS:
        fast = not early and chunks == 1 and every == steps and method.name in FAST_METHODS
        quick, redo = _fast.entry(f, method), _redo.entry(f, method)
        traced, began = entry.traces[0] + quick.traces[0] + redo.traces[0], time.perf_counter()
        if fast:
            out = _fast_then_careful(f, method, inits, lrs, tol, steps)
        else:
            out = jax.block_until_ready(entry.jitted(inits, lrs, tol, steps, early, every, chunks))
        if entry.traces[0] + quick.traces[0] + redo.traces[0] == traced and steps:  # not a compile's time
            entry.seconds[cost] = (time.perf_counter() - began) / steps
        return out
    carry, first, overshoot = _begin(f, method, inits, lrs)
    pace = Pace(most=max(1, steps), per_step=per_step)
    out = _chunked(f, method, carry, first, overshoot, lrs, tol, steps, early, every, chunks, pace)
    entry.seconds[cost] = pace.per_step or per_step
    return out


# Seconds per number a traced step computes, for a first estimate of a sweep's time: slow for a CPU,
# so that the estimate errs long (fused loops over a few numbers a run go 10 to 100 times faster).
SECONDS_PER_NUMBER = 1e-9
# Iterations a loop inside a step (a line search) is taken to run.
LOOP_GUESS = 10
# Seconds a step of every run takes however little it computes: the compiled loop's own turn and
# the rows it saves (measured 2 to 8 microseconds for 20 rates on a CPU, where the numbers alone
# gave 0.5). Without it a sweep of a few numbers a step was estimated ten times too short, and a
# run of millions of steps went into one call that Ctrl-C could not stop.
STEP_FLOOR = 5e-6


def _estimated_step(f, method: Method, inits, lrs) -> float:
    """Seconds a step of every run takes, estimated from the numbers its traced first step computes
    (and the floor every step costs)."""
    traced = jax.make_jaxpr(functools.partial(_begin_all, f, method))(inits, lrs)
    return STEP_FLOOR + _numbers(traced.jaxpr) * SECONDS_PER_NUMBER


def _numbers(jaxpr) -> float:
    """About how many numbers a jaxpr computes: each operation's largest input or output (a matrix
    product's times its inner size), inner jaxprs counted by how often they run."""
    total = 0.0
    for eqn in jaxpr.eqns:
        sizes = [math.prod(getattr(v.aval, "shape", ())) for v in (*eqn.invars, *eqn.outvars)]
        total += max(sizes, default=1)
        if eqn.primitive.name == "dot_general":
            (contract, _), _ = eqn.params["dimension_numbers"]
            shape = eqn.invars[0].aval.shape
            total += math.prod(getattr(v.aval, "size", 1) for v in eqn.outvars) * math.prod(
                shape[d] for d in contract
            )
        times = eqn.params.get("length", LOOP_GUESS if eqn.primitive.name == "while" else 1)
        for sub in _inner_jaxprs(eqn.params):
            total += times * _numbers(sub)
    return total


def _inner_jaxprs(params: dict) -> list:
    """The jaxprs an operation runs (a loop's body, a condition's branches, a nested call)."""
    found = []
    for value in params.values():
        for item in value if isinstance(value, tuple | list) else (value,):
            sub = getattr(item, "jaxpr", item)  # a ClosedJaxpr holds its jaxpr
            if hasattr(sub, "eqns"):
                found.append(sub)
    return found


def _chunked(f, method, carry, first, overshoot, lrs, tol, steps, early, every, chunks, pace):
    """The segmented sweep: saved rows a segment at a time, or a row then its steps in pieces, each
    call a power of two of steps (compiled sizes are reused) sized by ``pace``."""
    from gdlab._progress import tracker  # a terminal bar after a second; imports nothing heavy

    runs = int(lrs.shape[0])
    running = lambda c: bool(np.any(np.asarray(c[2]) == Outcome.RUNNING))  # noqa: E731
    parts, done = [], 0
    with tracker(total=chunks * every, label=f"sweeping {runs:,} runs") as advance:
        while done < chunks and (done == 0 or running(carry)):
            if pace.steps() >= every:  # several saved rows in one call
                count = min(power_of_two(pace.steps() // every), power_of_two(chunks - done))
                args = (f, method, carry, first, lrs, tol, early, every, count)
                carry, rows = pace.timed(count * every, _segment, *args)
            else:  # a row, then its steps in pieces
                count, rows = 1, jax.tree.map(lambda x: x[:, None], _row(f, method, carry))
                at = functools.partial(lambda start, left: advance(start + every - left), done * every)
                carry = _steps(f, method, carry, first, lrs, tol, early, every, pace, running, at)
            parts.append(jax.tree.map(np.asarray, rows))
            done += count
            advance(done * every)
    tail = steps - chunks * every
    if tail and done == chunks and running(carry):
        carry = _steps(f, method, carry, first, lrs, tol, early, tail, pace, running)
    checkpoint()
    final, codes, taken, probe = _finish(f, method, carry, first, lrs, tol, early)
    end = jax.tree.map(lambda x: np.asarray(x)[:, None], final)
    parts += [jax.tree.map(lambda e: np.repeat(e, chunks - done, axis=1), end)] if done < chunks else []
    rows = jax.tree.map(lambda *p: np.concatenate(p, axis=1), *parts, end)
    return rows, final, codes, taken, first, overshoot, probe


def _steps(f, method, carry, first, lrs, tol, early, left: int, pace, running, progress=None):
    """``left`` steps of every run, saving nothing, in calls sized by ``pace`` (one compiled program
    for any length); ``progress(left)`` after each."""
    while left and running(carry):
        length = min(pace.steps(), left)
        carry = pace.timed(length, _advance, f, method, carry, first, lrs, tol, early, np.int32(length))
        left -= length
        if progress is not None:
            progress(left)
    return carry


def _whole_all(f, method: Method, inits, lrs, tol, steps: int, early: bool, every: int, chunks: int):
    """A sweep small enough for one call: the same pieces, compiled together once."""
    carry, first, overshoot = _begin_all(f, method, inits, lrs)
    carry, rows = _segment_all(f, method, carry, first, lrs, tol, early, every, chunks)
    tail = steps - chunks * every
    if tail:
        carry = _advance_all(f, method, carry, first, lrs, tol, early, tail)
    final, codes, taken, probe = _finish_all(f, method, carry, first, lrs, tol, early)
    rows = jax.tree.map(lambda r, e: jnp.concatenate([r, e[:, None]], axis=1), rows, final)
    return rows, final, codes, taken, first, overshoot, probe


_whole = PerKey(_whole_all, 2, COMPILED_LOSSES, ("steps", "early", "every", "chunks"), per_loss=True)


# Methods whose runs :func:`_fast_all` computes to the last digit as :func:`_whole_all` (and
# ``descend``) does: plain arithmetic updates, which XLA compiles alike in either loop. Adam's
# square root and division came out one unit in the last place apart in a few runs, so it (and
# any optax transformation) takes the careful loop only.
FAST_METHODS = frozenset({"gd", "momentum", "nesterov"})


# Steps between the fast loop's checkpoints: a run that may have stopped is computed again from
# its last checkpoint, at most about this many steps before its stop.
BLOCK = 64


def _fast_all(f, method: Method, inits, lrs, tol, steps: int):
    """:func:`_whole_all`'s outputs for a sweep that keeps each run's start and end and has no
    tolerance, exact for every run that never stops; which runs may have stopped, and for each
    the carry at its last checkpoint before it may have.

    The loop carries only the parameters and the optimiser state: a step where the run may stop
    (:func:`gdlab._engine.may_stop`, cheaper than the stop rule) makes the parameters NaN instead
    of freezing them, and NaN parameters stay NaN (each step adds its update to them), so such a
    run ends marked (non-finite), as does one whose parameters left the finite numbers. Every
    :data:`BLOCK` steps, a run whose parameters are still finite keeps its carry as its checkpoint.
    What is saved is carrying an outcome code and a step count through every step, choosing
    between the old and the new state, and most of the stop rule's arithmetic. A marked run is
    computed again by :func:`_redo_all` from its checkpoint (:func:`_fast_then_careful`); every
    other run is the careful loop's to the last digit, as its steps are the same.
    """
    carry, first, overshoot = _begin_all(f, method, inits, lrs)

    def run(carry, first, lr):
        loss, step, _ = _pieces(f, method, lr, tol, False, first)
        p, state, code, taken = carry
        value, g = jax.value_and_grad(loss)(p)

        def fast(c, _):
            q, s = c
            v, gq, new_q, new_s = step(q, s)
            stops = may_stop(v, gq, first)
            return (jax.tree.map(lambda x: jnp.where(stops, jnp.nan, x), new_q), new_s), None

        def finite(q):
            return sum(jnp.sum(~jnp.isfinite(x)) for x in jax.tree.leaves(q)) == 0

        def block(c, _):
            q, s, kept = c
            q, s = jax.lax.scan(fast, (q, s), None, length=BLOCK)[0]
            return (q, s, _select(finite(q), (q, s, kept[2] + BLOCK), kept)), None

        q, s, kept = jax.lax.scan(block, (p, state, (p, state, taken)), None, length=steps // BLOCK)[0]
        q, s = jax.lax.scan(fast, (q, s), None, length=steps % BLOCK)[0]
        kept = (kept[0], kept[1], code, kept[2])
        return (q, s, code, taken + steps), (p, value, g), ~finite(q), kept

    carry, start, marked, kept = jax.vmap(run)(carry, first, lrs)
    final, codes, taken, probe = _finish_all(f, method, carry, first, lrs, tol, False)
    rows = jax.tree.map(lambda r, e: jnp.stack([r, e], axis=1), start, final)
    return (rows, final, codes, taken, first, overshoot, probe), marked, kept


_fast = PerKey(_fast_all, 2, COMPILED_LOSSES, ("steps",), per_loss=True)


def _redo_all(f, method: Method, carry, firsts, lrs, tol, steps: int):
    """:func:`_finish_all`'s outputs for runs that may stop, computed from ``carry`` (a checkpoint of
    :func:`_fast_all`'s) by the careful loop: every run steps together until it stops or reaches the
    step limit, and the loop ends once every run has."""

    def one(carry, first, lr):
        # A run at the step limit is held by the careful loop's own freezing: its code reads
        # stopped (-1) for the step, and no other arithmetic is added to the loop's.
        p, state, code, taken = carry
        code = jnp.where(taken < steps, code, jnp.int32(-1))
        return _pieces(f, method, lr, tol, False, first)[2]((p, state, code, taken), None)[0]

    each = jax.vmap(one)

    def more(carry):
        return jnp.any((carry[2] == Outcome.RUNNING) & (carry[3] < steps))

    p, state, code, taken = jax.lax.while_loop(more, lambda carry: each(carry, firsts, lrs), carry)
    code = jnp.where(code == -1, jnp.int32(Outcome.RUNNING), code)
    return _finish_all(f, method, (p, state, code, taken), firsts, lrs, tol, False)


_redo = PerKey(_redo_all, 2, COMPILED_LOSSES, ("steps",), per_loss=True)


def _fast_then_careful(f, method: Method, inits, lrs, tol, steps: int):
    """:func:`_fast_all`, then the runs it marked computed again from their checkpoints by
    :func:`_redo_all`, in a batch padded to a power of two (so that few batch sizes compile), and
    put in their places."""
    out, marked, kept = _fast(f, method, inits, lrs, tol, steps)
    again = np.flatnonzero(np.asarray(marked))
    if not again.size:
        return jax.block_until_ready(out)
    size = 1 << (int(again.size) - 1).bit_length()
    pick = np.concatenate([again, np.full(size - again.size, again[0])])
    chosen = lambda tree: jax.tree.map(lambda a: np.asarray(a)[pick], tree)  # noqa: E731
    redone = _redo(f, method, chosen(kept), chosen(out[4]), np.asarray(lrs)[pick], tol, steps)
    final, codes, taken, probe = (jax.tree.map(np.array, x) for x in (*out[1:4], out[6]))  # writable copies
    rows = jax.tree.map(np.array, out[0])
    for whole, new in zip(
        jax.tree.leaves((final, codes, taken, probe)), jax.tree.leaves(redone), strict=True
    ):
        whole[again] = np.asarray(new)[: again.size]
    for row, end in zip(jax.tree.leaves(rows), jax.tree.leaves(final), strict=True):
        row[:, -1] = end
    return rows, final, codes, taken, np.asarray(out[4]), np.asarray(out[5]), probe


@dataclass(frozen=True, repr=False)
class Sweep:
    """Many runs of one loss and method: one per (rate, start) pair, rate-major.

    Attributes:
        lrs: the rate of each run, shape (runs,).
        starts: the start of each run, shaped like the start with a leading runs axis.
        params: saved parameters, shape (runs, rows, ...): row ``j`` is step
            ``saved_steps[j]`` (every step unless the sweep was too large, or
            ``save`` said otherwise). After a run stops its rows repeat its end.
        loss: saved losses, shape (runs, rows).
        grad: saved gradients, shaped like ``params``.
        saved_steps: the step of each saved row.
        final: each run's last parameters, shape (runs, ...).
        final_loss: each run's last loss.
        final_grad: each run's last gradient.
        steps_taken: each run's number of steps (where it converged or diverged, or ``steps``).
        status: each run's :class:`~gdlab.Status`.
        regime: each run's :class:`Regime`.
        notes: a sentence per run saying what happened, worded when first read
            (:class:`gdlab._engine.Notes`).
        facts: what each note was made of, as columns (:class:`gdlab._engine.Runs`; ``facts[i]`` is
            run ``i``'s), so that a front end words it again naming the parameters its own way
            (:meth:`runs` with a ``spelling``).
        rules: each run's rule in :data:`gdlab._engine.RULES`, which gave its status, regime and note.
        stability: curvature at the best run's end: ``2/L`` and the best fixed rate (``None`` where
            the Hessian is not finite, or the loss has more than
            :data:`gdlab._stability.STABILITY_COMPONENTS` parameters).
        method: the optimiser's name.
        steps: the step limit.
        tol: the tolerance on the gradient norm, if any.
        loss_fn: the loss.

    Example:
        >>> import gdlab
        >>> rates = gdlab.sweep("(b/2-1)^2", -10.0, lrs=[0.5, 2, 5], steps=50)
        >>> [regime.value for regime in rates.regime]
        ['slow', 'converged', 'diverged']
    """

    lrs: np.ndarray
    starts: Params
    params: Params
    loss: np.ndarray
    grad: Params
    saved_steps: np.ndarray
    final: Params
    final_loss: np.ndarray
    final_grad: Params
    steps_taken: np.ndarray
    status: tuple[Status, ...]
    regime: tuple[Regime, ...]
    notes: Sequence[str]
    stability: Stability | None
    method: str
    steps: int
    tol: float | None
    loss_fn: Loss | None = field(default=None, compare=False)
    spec: Method | None = field(default=None, compare=False)
    starts_per_rate: int = 1
    facts: Sequence[Facts] = field(default=(), compare=False, repr=False)
    rules: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return int(self.lrs.size)

    @property
    def every_step(self) -> bool:
        """Whether every step of every run was saved (so runs can be drawn as trajectories)."""
        return self.saved_steps.size == self.steps + 1

    def trajectory(self, run: int) -> Trajectory:
        """Run ``run`` as a :class:`~gdlab.Trajectory`, every step of it.

        When the sweep saved only some steps, that one run is computed again with
        :func:`gdlab.descend`, which gives exactly the same path.
        """
        if (
            isinstance(run, bool)
            or not isinstance(run, int | np.integer)
            or not -len(self) <= run < len(self)
        ):
            raise InputError(f"run must be a whole number from 0 to {len(self) - 1}; got {run!r}")
        index = range(len(self))[run]
        if not self.every_step:
            if self.loss_fn is None:
                raise InputError("this sweep kept no loss, so its thinned runs cannot be computed again")
            return descend(
                self.loss_fn,
                jax.tree.map(lambda a: a[index], self.starts),
                lr=float(self.lrs[index]),
                steps=self.steps,
                method=self.spec,
                tol=self.tol,
                dtype=self.loss.dtype,
            )
        rows = int(self.steps_taken[index]) + 1
        take = lambda tree: jax.tree.map(lambda a: a[index, :rows], tree)  # noqa: E731
        return Trajectory(
            params=take(self.params),
            loss=self.loss[index, :rows],
            grad=take(self.grad),
            method=self.method,
            lr=float(self.lrs[index]),
            status=self.status[index],
            message=self.notes[index],
            regime=self.regime[index],
            words=functools.partial(describe, self.facts[index]) if self.facts else None,
            tol=self.tol,
            loss_fn=self.loss_fn,
        )

    def pick(self, lrs: float | Sequence[float], start: int = 0) -> list[Trajectory]:
        """Trajectories of the runs whose rates are nearest (on a log scale) to ``lrs``.

        Args:
            lrs: one rate or several; each picks the sweep's nearest rate.
            start: which start, when the sweep had several.
        """
        wanted = checked_lrs(lrs, np.dtype(np.float64))
        starts = self.starts_per_rate
        if isinstance(start, bool) or not isinstance(start, int | np.integer) or not 0 <= start < starts:
            raise InputError(
                f"start must be a whole number from 0 to {starts - 1} (this sweep has {starts} "
                f"start{'s' if starts > 1 else ''}); got {start!r}"
            )
        runs = np.arange(start, len(self), starts)
        chosen = [int(runs[np.argmin(np.abs(np.log(self.lrs[runs]) - math.log(r)))]) for r in wanted]
        if len(set(chosen)) < len(chosen):
            twice = next(i for i in chosen if chosen.count(i) > 1)
            asked = ", ".join(f"{r:g}" for r, i in zip(wanted, chosen, strict=True) if i == twice)
            raise InputError(
                f"the rates {asked} all pick the same run (lr={self.lrs[twice]:g}), the sweep's nearest; "
                f"pick rates nearer to different runs of the sweep ({_listed(self.lrs[runs])})"
            )
        return [self.trajectory(i) for i in chosen]

    def to_pandas(self):
        """One row per run: rate, start, regime, steps, final loss and the note."""
        import pandas as pd

        leaves = [np.asarray(a).reshape(len(self), -1) for a in jax.tree.leaves(self.starts)]
        starts = np.concatenate(leaves, axis=1)
        names = component_names(jax.tree.map(lambda a: a[0], self.starts))
        frame = pd.DataFrame({"lr": self.lrs})
        for j, name in enumerate(names):
            frame[f"start {name}"] = starts[:, j]
        frame["regime"] = [r.value for r in self.regime]
        frame["steps"] = self.steps_taken
        frame["final loss"] = self.final_loss
        frame["note"] = list(self.notes)
        return frame

    def note(self, run: int, spelling: Spelling = PYTHON) -> str:
        """Run ``run``'s note, naming the parameters as ``spelling`` writes them."""
        if isinstance(self.notes, Notes):
            return self.notes.word(range(len(self))[run], spelling)
        return describe(self.facts[run], spelling) if self.facts else self.notes[run]

    def runs(self, spelling: Spelling = PYTHON) -> list[dict[str, object]]:
        """One dict per run: rate, start index, regime, status, steps, final loss and the note."""
        return [
            {
                "lr": float(self.lrs[i]),
                "start": i % self.starts_per_rate,
                "regime": self.regime[i].value,
                "status": self.status[i].value,
                "steps": int(self.steps_taken[i]),
                "final_loss": float(self.final_loss[i]),
                "note": self.note(i, spelling),
            }
            for i in range(len(self))
        ]

    def boundaries(self) -> list[dict[str, object]]:
        """Where the regime changes as the rate grows (for the first start): the rates on either side."""
        runs = np.arange(0, len(self), self.starts_per_rate)
        order = runs[np.argsort(self.lrs[runs], kind="stable")]
        return [
            {
                "below": float(self.lrs[a]),
                "above": float(self.lrs[b]),
                "from": self.regime[a].value,
                "to": self.regime[b].value,
            }
            for a, b in itertools.pairwise(order)
            if self.regime[a] is not self.regime[b]
        ]

    def to_dict(self, *, runs: bool = True, spelling: Spelling = PYTHON) -> dict[str, object]:
        """Strict-JSON-ready: counts, regime boundaries, 2/L, the best run, and (``runs=True``) every run;
        the notes name the parameters as ``spelling`` writes them."""
        finite = np.where(np.isfinite(self.final_loss), self.final_loss, np.inf)
        best = int(np.argmin(finite))
        out = {
            "method": self.method,
            "steps": self.steps,
            "tol": self.tol,
            "runs_count": len(self),
            "starts": self.starts_per_rate,
            "counts": self.counts(),
            "boundaries": self.boundaries(),
            "best": self.runs(spelling)[best] if np.isfinite(finite[best]) else None,
            "critical_lr": None if self.stability is None else self.stability.critical_lr,
            "stability": None if self.stability is None else self.stability.to_dict(),
        }
        return plain(out | ({"runs": self.runs(spelling)} if runs else {}))

    def counts(self) -> dict[str, int]:
        """How many runs fell into each regime."""
        return {r.value: sum(x is r for x in self.regime) for r in Regime}

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {k}" for k, n in self.counts().items() if n)
        lines = [f"Sweep({self.method}, {len(self)} runs, {self.steps} steps: {counts})"]
        if self.stability is not None and math.isfinite(self.stability.critical_lr):
            whose = "" if self.method in ("gd", "sign") else "plain gradient descent's bound; "
            lines.append(
                f"  2/L = {self.stability.critical_lr:.6g} ({whose}from the curvature at the best run's end; "
                "a local bound: the path may cross sharper regions)"
            )
        shown = range(len(self)) if len(self) <= 12 else [*range(6), *range(len(self) - 6, len(self))]
        for i in shown:
            if len(self) > 12 and i == len(self) - 6:
                lines.append("  ...")
            start = f"start {i % self.starts_per_rate}  " if self.starts_per_rate > 1 else ""
            lines.append(f"  lr={self.lrs[i]:<10.6g} {start}{self.regime[i].value:<11} {self.notes[i]}")
        return "\n".join(lines)


def _listed(rates: np.ndarray, most: int = 8) -> str:
    """Rates as a short list: all of them when few, else the first and last few."""
    words = [f"{r:g}" for r in rates]
    return ", ".join(words if len(words) <= most else [*words[:3], "...", *words[-3:]])


def checked_lrs(lrs: object, dtype: np.dtype) -> np.ndarray:
    """``lrs`` as a 1-D array of ``dtype``: a non-empty list of finite rates > 0, or an InputError."""
    values = _checks.number_list("lrs", lrs, "rates", "gdlab.rates(1e-4, 10, 50)", "sweep fewer rates")
    if not np.all(np.isfinite(values) & (values > 0)):
        raise InputError(f"every rate in lrs must be a finite number > 0; got {values[:5]}...")
    return values.astype(dtype)


def _every(save: object, runs: int, steps: int, components: int) -> int:
    """Steps between saved rows: 1 saves every step."""
    if save == "all":
        return 1
    if save == "final":
        return steps + 1
    if save == "auto":
        per_run = max(1, SAVE_BUDGET // max(1, runs * components))
        return max(1, math.ceil((steps + 1) / per_run))
    if isinstance(save, int | np.integer) and not isinstance(save, bool) and save >= 1:
        return int(save)
    raise InputError(f"save must be 'auto', 'all', 'final' or a whole number of steps >= 1; got {save!r}")


def sweep(
    f: Loss,
    init: Params = None,
    *,
    lrs: object,
    inits: Sequence[object] | None = None,
    method: MethodLike = "gd",
    steps: int,
    tol: float | None = None,
    save: object = "auto",
    dtype: DTypeLike = None,
) -> Sweep:
    """Run every (rate, start) pair in one compiled, vmapped call, and say what each did.

    Args:
        f: the loss of one argument, as in :func:`gdlab.descend`.
        init: the start (``None`` when ``inits`` is given).
        lrs: the rates: a list or array (see :func:`rates` for a log-spaced range).
        inits: several starts; every rate runs from each.
        method: ``"gd"``, ``"sign"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``,
            ``"rmsprop"``, ``"adam"`` or an optax factory such as ``optax.adam``.
        steps: the step limit.
        tol: a run stops once its gradient norm is <= ``tol``.
        save: which steps to keep: ``"auto"`` (every step while the sweep is
            small, else evenly thinned), ``"all"``, ``"final"`` or every n-th step.
        dtype: the floating type to compute in (default float64).

    Returns:
        A :class:`Sweep`, whose ``regime`` says for each run: converged, oscillating
        (bouncing back and forth without settling, as at lr = 2/L), slow
        (still moving toward the minimum at the step limit), diverged, or stalled
        (the gradient vanished but the loss rose: a flat region).

    Example:
        >>> import gdlab
        >>> result = gdlab.sweep(lambda b: (b / 2 - 1) ** 2, -10.0, lrs=[0.5, 4, 5], steps=200, tol=1e-8)
        >>> [r.value for r in result.regime]
        ['converged', 'oscillating', 'diverged']
        >>> result.stability.critical_lr
        4.0
    """
    f = as_loss(f)
    spec = resolve_method(method)
    if not spec.needs_lr:
        raise InputError("a sweep varies the rate: pass a method name or an optax factory such as optax.adam")
    dt = resolve_dtype(dtype)
    steps, stop = _checks.steps(steps), _checks.tol(tol)
    if (init is None) == (inits is None):
        raise InputError("give one start as init, or several as inits (with init=None)")
    starts = [as_float_tree(s, dt, "inits") for s in (inits if inits is not None else [init])]
    if not starts:
        raise InputError("inits is empty: give at least one start")
    structure = jax.tree.structure(starts[0])
    if any(str(jax.tree.structure(s)) != str(structure) for s in starts):
        raise InputError("every start in inits must have the same shape")
    rate = checked_lrs(lrs, dt)
    size("runs (rates x starts)", rate.size * len(starts), LIMITS.runs, "sweep fewer rates or starts")
    grid_lr = np.repeat(rate, len(starts))
    # Rate-major: run i has rate i // len(starts) and start i % len(starts); tiled on the host.
    batched = jax.tree.map(
        lambda *leaves: np.tile(np.stack(leaves), (len(rate),) + (1,) * np.ndim(leaves[0])),
        *starts,
    )
    components = count_components(starts[0])
    every = min(_every(save, grid_lr.size, steps, components), max(steps, 1))
    chunks = math.ceil(steps / every)
    every = steps // chunks if chunks else 1  # rows evenly spaced; a tail of steps runs unsaved
    kept = grid_lr.size * (chunks + 1) * (2 * components + 1)
    size("numbers kept", kept, LIMITS.sweep_numbers, "save fewer rows (save='auto' or 'final')")
    return run_batch(
        f,
        spec,
        batched,
        grid_lr,
        steps=steps,
        tol=stop,
        every=every,
        chunks=chunks,
        dtype=dt,
        per_rate=len(starts),
    )


def run_batch(
    f: Loss,
    spec: Method,
    starts: Params,
    lrs: np.ndarray,
    *,
    steps: int,
    tol: float | None,
    every: int,
    chunks: int,
    dtype: np.dtype,
    per_rate: int = 1,
    settings: np.ndarray | None = None,
) -> Sweep:
    """Every run of a batch, checked already: compiled and vmapped, then judged by the engine.

    ``starts`` carry a leading runs axis and ``lrs`` hold one rate a run; ``chunks`` rows are saved
    ``every`` steps apart, then the end. With ``settings`` (one value a run), each run also sets the
    method's ``spec.momentum`` (see :meth:`gdlab.Method.varying`): the batch of :func:`gdlab.phase`.
    """
    hyper, runner = lrs, spec
    if settings is not None:
        assert spec.momentum is not None
        hyper, runner = np.stack([lrs, settings.astype(lrs.dtype)], axis=1), spec.varying(spec.momentum)
    early = tol is not None
    stop = np.asarray(tol or 0.0, dtype)
    rows, final, codes, taken, first, overshoot, probe = _sweep_run(
        f, runner, starts, hyper, stop, steps, early, every, chunks
    )
    saved = np.append(np.arange(chunks) * every, steps)
    ending = (codes, taken, first, overshoot, probe)
    return _assemble(f, spec, steps, tol, lrs, starts, rows, final, ending, saved, dtype, per_rate)


def _assemble(f, spec, steps, tol, lrs, starts, rows, final, ending, saved, dt, per_rate) -> Sweep:
    P, L, G = (jax.tree.map(np.asarray, r) for r in rows)
    final_p, final_loss, final_g = (jax.tree.map(np.asarray, x) for x in final)
    codes, taken, first, overshoot = (np.asarray(x) for x in ending[:4])
    probe = [np.asarray(x) for x in ending[4]]
    every = _runs(
        codes, taken, first, final_loss, G, final_g, final_p, lrs, tol, spec.name, dt, overshoot, probe
    )
    every = _measure_curvature(f, every, final_p, dt)
    rules = classify(every)
    finite = np.where(np.isfinite(final_loss), final_loss, np.inf)
    best = int(np.argmin(finite))
    at = jax.tree.map(lambda a: a[best], final_p if np.isfinite(finite[best]) else starts)
    curvature = None
    if count_components(at) <= STABILITY_COMPONENTS:
        curvature = known_stability(f, at, dt)
    # Each run's status and regime, looked up by its rule at once (the enum members, as objects).
    status, regime = (tuple(np.array(of, dtype=object)[rules].tolist()) for of in (STATUSES, REGIMES))
    return Sweep(
        lrs=lrs,
        starts=jax.tree.map(np.asarray, starts),
        params=P,
        loss=np.asarray(L),
        grad=G,
        saved_steps=saved,
        final=final_p,
        final_loss=np.asarray(final_loss),
        final_grad=final_g,
        steps_taken=taken,
        status=status,
        regime=regime,
        notes=Notes(every, rules),
        stability=curvature,
        method=spec.name,
        steps=steps,
        tol=tol,
        loss_fn=f,
        spec=spec,
        starts_per_rate=per_rate,
        facts=every,
        rules=rules,
    )


def _measure_curvature(f, runs: Runs, final_p, dt) -> Runs:
    """The runs, with the curvature where those whose gradient vanished ended (minimum, saddle or
    maximum) in their curvature columns."""
    ended = np.flatnonzero(needs_curvature(runs.outcome, runs.first_norm, runs.last_norm))
    if not ended.size:
        return runs
    ranges = known_curvature_ranges(f, jax.tree.map(lambda a: np.asarray(a)[ended], final_p), dt)
    low, high = runs.low.copy(), runs.high.copy()
    low[ended], high[ended] = ranges[:, 0], ranges[:, 1]
    return runs.replace(low=low, high=high)


def _runs(
    codes, taken, first, final_loss, G, final_g, final_p, lrs, tol, method, dt, overshoot, probe
) -> Runs:
    """Every run's facts as columns (:class:`gdlab._engine.Runs`), its arrays reduced at once with
    NumPy; losses and norms in float64 whatever the run's type, as the engine compares them."""
    runs = lrs.size
    first_g = flat_rows(jax.tree.map(lambda a: a[:, 0], G), runs)
    last_g, last_p = flat_rows(final_g, runs), flat_rows(final_p, runs)
    with np.errstate(all="ignore"):
        first_norm, last_norm = np.linalg.norm(first_g, axis=1), np.linalg.norm(last_g, axis=1)
    what = np.select(
        [
            ~np.isfinite(final_loss),
            ~np.all(np.isfinite(last_g), axis=1),
            ~np.all(np.isfinite(last_p), axis=1),
        ],
        ["loss", "gradient", "parameters"],
        "",
    )
    undefined = np.isnan(final_loss) & np.all(np.isfinite(last_p), axis=1)
    flips, start, end, moved = probe
    f64 = lambda a: np.asarray(a, np.float64).reshape(runs)  # noqa: E731
    nan = np.full(runs, np.nan)
    return Runs(
        outcome=np.asarray(codes, np.int64).reshape(runs),
        step=np.asarray(taken, np.int64).reshape(runs),
        first_loss=f64(first),
        last_loss=f64(final_loss),
        first_norm=f64(first_norm),
        last_norm=f64(last_norm),
        not_finite=what.reshape(runs),
        lr=f64(lrs),
        tol=tol,
        method=method,
        dtype=str(np.dtype(dt)),
        flips=np.asarray(flips, np.int64).reshape(runs),
        probe_start=f64(start),
        probe_end=f64(end),
        moved=np.asarray(moved, bool).reshape(runs),
        pairs=np.full(runs, PROBE - 1, np.int64),
        probed=np.ones(runs, bool),
        overshot=np.asarray(overshoot, bool).reshape(runs),
        low=nan,
        high=nan.copy(),
        undefined=undefined.reshape(runs),
    )

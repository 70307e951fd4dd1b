"""Conformance: every method against every shared problem, by one table.

The methods are ``gdlab.METHODS`` (read when the tests are collected, so a new
method is tested, and fails until the table has a row for it) and the optax
optimisers whose ``update`` needs extra arguments (``value``, ``grad``,
``value_fn``). The problems are ``helpers.PROBLEMS``. Three checks each:

(a) ``descend`` reaches the known minimiser, within a distance that follows
    from the method's stop rule and the problem's curvature (every problem);
(b) ``sweep`` over several rates equals one ``descend`` per rate, row by row,
    to rounding (on the parabola);
(c) full-batch ``sgd`` equals ``descend`` with the whole data bound, step by
    step (on the 5-D least squares).

Compiling dominates the time, so (b) and (c) run on one problem each, and every
run of a (method, problem) pair shares one loss object and one step limit.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np
import optax
import optax.contrib
import pytest

import gdlab
from gdlab import Status
from helpers import PARABOLA, PROBLEMS, ROSENBROCK, SPD5, Problem

# optax optimisers whose update needs value / grad / value_fn, passed as factories
# ``lr -> transformation`` so that a sweep can vary the rate. These are all the
# optimisers of optax 0.2.8 and optax.contrib whose update fails without those
# arguments; left out are the transformations they are built from
# (scale_by_zoom_linesearch, scale_by_backtracking_linesearch, scale_by_polyak),
# reduce_on_plateau (it scales another optimiser's rate) and sophia (it wants obj_fn).
EXTRA_ARGS = {
    "optax.lbfgs": optax.lbfgs,  # a zoom line search: value, grad, value_fn; lr scales the direction
    "polyak_sgd": optax.polyak_sgd,  # value; lr is the largest step (f_min = 0)
    "momo": optax.contrib.momo,  # value
    "momo_adam": optax.contrib.momo_adam,  # value
}
METHODS = {**{name: name for name in gdlab.METHODS}, **EXTRA_ARGS}


@dataclass(frozen=True)
class Run:
    """A rate, a step limit and a tolerance on the gradient norm for one (method, problem)."""

    lr: float | None  # None: the method chooses its own steps (a line search)
    steps: int
    tol: float = 1e-6  # above the floors of Polyak's step (sqrt(eps) = 1.5e-8) and of line searches


# What each method is run with: rows are methods, columns problems. The step
# limits leave room over the steps measured (run them with tol to see); the
# distances allowed come from theory, in ``allowed_distance`` below.
TABLE: dict[str, dict[str, Run]] = {
    # curvature: parabola 1/2; rosenbrock 0.4..1002 at (1, 1); spd5 1..10
    "gd": {  # quadratics: at most the steps the contraction max|1 - lr*eig| needs
        "parabola": Run(1.0, 100),
        "rosenbrock": Run(1e-3, 40_000),  # curvature 1900 at the start; 0.4 along the floor: ~33,000 steps
        "spd5": Run(0.15, 300),
    },
    "sign": {  # stops once a step of lr no longer lowers the loss
        "parabola": Run(0.35, 100),
        "rosenbrock": Run(1e-4, 40_000),
        "spd5": Run(1e-2, 500),
    },
    "momentum": {
        "parabola": Run(0.5, 1000),
        "rosenbrock": Run(1e-3, 10_000),
        "spd5": Run(0.1, 1000),
    },
    "nesterov": {
        "parabola": Run(1.0, 1000),
        "rosenbrock": Run(1e-3, 10_000),
        "spd5": Run(0.1, 1000),
    },
    "adagrad": {
        "parabola": Run(1.0, 2000),
        "rosenbrock": Run(1.0, 40_000),
        "spd5": Run(1.0, 1000),
    },
    "rmsprop": {  # a fixed rate hovers about the minimum unless it lands (see allowed_distance)
        "parabola": Run(0.1, 1000),
        "rosenbrock": Run(1e-3, 40_000),
        "spd5": Run(1e-3, 5000),
    },
    "adam": {
        "parabola": Run(0.5, 2000),
        "rosenbrock": Run(0.5, 5000),
        "spd5": Run(0.1, 2000),
    },
    "gd-armijo": {  # lr is the first step a backtracking line search tries
        "parabola": Run(1.0, 200),
        "rosenbrock": Run(1.0, 40_000),
        "spd5": Run(1.0, 1000),
    },
    "newton": {  # one step on a quadratic
        "parabola": Run(None, 5),
        "rosenbrock": Run(None, 100),
        "spd5": Run(None, 5),
    },
    "lbfgs": {
        "parabola": Run(None, 200),
        "rosenbrock": Run(None, 200),
        "spd5": Run(None, 200),
    },
    "optax.lbfgs": {
        "parabola": Run(1.0, 200),
        "rosenbrock": Run(1.0, 200),
        "spd5": Run(1.0, 200),
    },
    "polyak_sgd": {  # its step is 0 once |g|^2 <= machine epsilon: tol must exceed 1.5e-8
        "parabola": Run(1.0, 1000),
        "rosenbrock": Run(0.5, 10_000),
        "spd5": Run(0.1, 2000),
    },
    "momo": {
        "parabola": Run(0.1, 2000),
        "rosenbrock": Run(0.5, 10_000),
        "spd5": Run(0.5, 2000),
    },
    "momo_adam": {
        "parabola": Run(0.5, 2000),
        "rosenbrock": Run(0.5, 10_000),
        "spd5": Run(0.1, 2000),
    },
}

RMSPROP_DECAY = 0.9  # optax.rmsprop's default


def run_for(method: str, problem: Problem) -> Run:
    run = TABLE.get(method, {}).get(problem.name)
    if run is None:
        pytest.fail(f"no row for method {method!r} on {problem.name!r}: add one to TABLE")
    return run


def allowed_distance(method: str, problem: Problem, run: Run, path: gdlab.Trajectory) -> float:
    """How close to the minimiser a run must end, from theory (plus 1e-9 of it for rounding).

    On a quadratic the error is H^-1 g, so a run stopped at |g| <= tol is within
    tol/mu (mu: the least curvature). Rosenbrock is quadratic near its minimum
    only: twice that. The sign method stops when a step of lr would not lower
    the loss, i.e. lr|g|_1 <= lr^2/2 s'Hs for s = sign(g): within
    lr max_s(s'Hs) / (2 mu) (lr/2 on the parabola). RMSprop with a fixed rate,
    unless it happens to land, steps at most lr/sqrt(1 - decay) per component
    (its average of g^2 holds at least (1 - decay) g^2) and settles into
    bouncing about the minimum by about that much.
    """
    mu = problem.curvature[0]
    local = 1.0 if problem.quadratic else 2.0
    distance = run.tol / mu
    if method == "sign":
        distance = max(distance, run.lr * problem.sign_curvature() / (2 * mu))
    if method == "rmsprop" and path.status is not Status.CONVERGED:
        distance = run.lr * math.sqrt(problem.dim / (1 - RMSPROP_DECAY))
    return local * distance * (1 + 1e-9)


def gd_steps_bound(problem: Problem, run: Run) -> int:
    """Steps plain descent needs on a quadratic: |g_k| <= L |e_k| <= L rho^k |e_0| falls to tol."""
    rho = problem.gd_contraction(run.lr)
    start = problem.curvature[-1] * problem.distance(problem.start)
    return 0 if start <= run.tol else math.ceil(math.log(run.tol / start) / math.log(rho))


def cases(problems):
    return [
        pytest.param(method, problem, id=f"{method}-{problem.name}")
        for method, problem in itertools.product(METHODS, problems)
    ]


@functools.cache
def table_descent(method: str, problem: Problem, lr: float | None = None) -> gdlab.Trajectory:
    """``descend`` as the table says (at another rate if given); cached, as (a), (b) and (c) share runs."""
    run = run_for(method, problem)
    rate = run.lr if lr is None else lr
    return gdlab.descend(
        problem.loss, problem.start, lr=rate, steps=run.steps, method=METHODS[method], tol=run.tol
    )


def assert_same_rows(ours: gdlab.Trajectory, theirs: gdlab.Trajectory) -> None:
    """Same steps and the same rows (parameters, loss, gradient), to rounding.

    Not bit for bit: under vmap XLA fuses and orders sums differently (the batched
    X @ b of a least-squares loss, adam's square roots), a difference of 1e-16.
    """
    assert ours.steps == theirs.steps, f"{ours.message} | {theirs.message}"
    for a, b in [(ours.params, theirs.params), (ours.loss, theirs.loss), (ours.grad, theirs.grad)]:
        scale = float(np.max(np.abs(b), initial=1.0))
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * scale)


def test_the_table_has_a_row_for_every_method_and_problem():
    assert set(TABLE) == set(METHODS), "TABLE's rows must be gdlab.METHODS and EXTRA_ARGS"
    for method, row in TABLE.items():
        assert set(row) == set(PROBLEMS), f"{method}: one run per problem in helpers.PROBLEMS"


@pytest.mark.parametrize(("method", "problem"), cases(PROBLEMS.values()))
def test_descend_reaches_the_minimum(method, problem):
    run = run_for(method, problem)
    path = table_descent(method, problem)
    allowed = allowed_distance(method, problem, run, path)
    assert problem.distance(path.final) <= allowed, f"{problem.description}: {path!r}"
    if method == "rmsprop":  # hovering at the step limit is what theory allows
        assert path.status is not Status.DIVERGED, path.message
    else:
        assert path.status is Status.CONVERGED, path.message
    if method == "gd" and problem.quadratic:
        assert path.steps <= gd_steps_bound(problem, run), path.message
    if method == "newton" and problem.quadratic:  # the full Newton step lands on the minimum
        assert path.steps <= 2, path.message


# Rates of (b), times the table's: on the parabola (2/L = 4) plain descent and Nesterov
# diverge at 5x. One problem: a sweep differs from single runs in how the rates
# are batched, not in the loss; longer runs of a method that hovers (rmsprop on
# spd5) turn rounding into different paths, as any chaotic map does.
SWEEP_SCALES = (0.5, 1.0, 5.0)
SWEEP_PROBLEM = PARABOLA


# Methods whose steps come from a rate: the ones a rate sweep and minibatches apply to.
RATED = [m for m in METHODS if all(run.lr is not None for run in TABLE.get(m, {}).values())]


@pytest.mark.parametrize("method", RATED)
def test_sweep_rows_equal_single_descents(method):
    problem, run = SWEEP_PROBLEM, run_for(method, SWEEP_PROBLEM)
    lrs = [run.lr * s for s in SWEEP_SCALES]
    swept = gdlab.sweep(
        problem.loss, problem.start, lrs=lrs, steps=run.steps, method=METHODS[method], tol=run.tol
    )
    assert swept.every_step  # so trajectory(i) is the sweep's own rows, not a descend run again
    for i, lr in enumerate(lrs):
        single = table_descent(method, problem, lr)
        assert swept.lrs[i] == lr
        assert (int(swept.steps_taken[i]), swept.status[i]) == (single.steps, single.status), single.message
        np.testing.assert_allclose(swept.final[i], single.final, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(swept.final_loss[i], single.final_loss, rtol=1e-12, atol=1e-12)
        assert_same_rows(swept.trajectory(i), single)


@pytest.mark.parametrize("method", RATED)
def test_full_batch_sgd_is_descend_step_for_step(method):
    """sgd has no tolerance: it runs as many epochs as the table's descent took steps."""
    problem = SPD5
    full = table_descent(method, problem)
    options = {"lr": run_for(method, problem).lr, "method": METHODS[method], "shuffle": False}
    batch = gdlab.sgd(problem.data_loss, problem.start, problem.data, epochs=full.steps, **options)
    assert batch.status is Status.MAX_STEPS, batch.message
    assert_same_rows(batch, full)


def test_lbfgs_as_a_ready_transformation_converges_on_rosenbrock():
    """A line search inside ``method=``: its rate is its own, so no ``lr``."""
    tol, mu = 1e-8, ROSENBROCK.curvature[0]
    path = gdlab.descend(ROSENBROCK.loss, np.array([-1.5, 2.0]), method=optax.lbfgs(), steps=100, tol=tol)
    assert path.status is Status.CONVERGED and path.steps <= 100, path.message
    # Near the minimum e = H^-1 g and L - L* = g'H^-1 g / 2; twice each, for the cubic terms.
    assert ROSENBROCK.distance(path.final) <= 2 * tol / mu
    assert path.final_loss <= tol**2 / mu

"""Every label gdlab puts on a run agrees with the run's own record.

On the classic test problems of Moré, Garbow and Hillstrom (``mgh.py``), at rates from far
below to far above 2/L, for several methods: a run called diverged has a loss that rose or
left the finite numbers (or fell without bound, and says so); one called converged did not
end above its start and has no negative curvature where it stopped; one said to be still
descending or slow has a loss below its start; a sweep's run reads as its own descend call;
and a method without a learning rate is never told to lower one.
"""

from __future__ import annotations

import numpy as np
import optax
import pytest

import gdlab
from mgh import CLASSICS

STEPS = 400


def _contradictions(path: gdlab.Trajectory) -> list[str]:
    loss = np.asarray(path.loss, dtype=float)
    first, last = loss[0], loss[-1]
    finite = bool(np.all(np.isfinite(loss)))
    status, message = path.status.value, path.message
    found = []
    no_minimum = "without bound" in message or "no minimum" in message
    if status == "diverged" and finite and loss.max() <= first and not no_minimum:
        found.append("diverged, but the loss never rose")
    if status == "converged":
        if last > first + 1e-9 * max(1.0, abs(first)):
            found.append("converged, but the loss ended above its start")
        low, high = gdlab.stability(path.loss_fn, path.params[-1]).eigenvalues[[0, -1]]
        if low < -1e-7 * max(abs(low), abs(high)):
            found.append(f"converged where the curvature is negative ({low:.3g})")
    descending = "still descending" in message or "bounces back and forth, settling" in message
    if status == "max_steps" and descending and not last < first:
        found.append("still descending, but the loss did not fall")
    if path.lr is None and "lower the rate" in message:
        found.append("told to lower a rate it does not have")
    return found


def _sweep_contradictions(row: dict, path: gdlab.Trajectory) -> list[str]:
    loss = np.asarray(path.loss, dtype=float)
    found = []
    if row["status"] != path.status.value:
        found.append(f"the sweep says {row['status']}, its descend call {path.status.value}")
    if row["regime"] == "slow" and not loss[-1] < loss[0]:
        found.append("slow, but the loss did not fall")
    if row["regime"] == "converged" and loss[-1] > loss[0] + 1e-9 * max(1.0, abs(loss[0])):
        found.append("converged, but the loss ended above its start")
    falls = bool(np.all(np.isfinite(loss)) and np.all(np.diff(loss) <= 0))
    if row["regime"] == "diverged" and falls and "no minimum" not in row["note"]:
        found.append("diverged, but the loss fell on every step")
    return found


@pytest.mark.parametrize("problem", CLASSICS, ids=lambda p: p.name)
def test_labels_agree_with_the_record(problem):
    curvature = gdlab.stability(problem.loss, problem.start).L
    scale = 2 / curvature if np.isfinite(curvature) and curvature > 0 else 1.0
    rates = scale * np.geomspace(1e-4, 4, 8)
    swept = gdlab.sweep(problem.loss, problem.start, lrs=rates, steps=STEPS, tol=1e-6)
    wrong = []
    for rate, row in zip(rates, swept.runs(), strict=True):
        path = gdlab.descend(problem.loss, problem.start, lr=float(rate), steps=STEPS, tol=1e-6)
        wrong += [f"gd {rate:.3g}: {w}" for w in _contradictions(path) + _sweep_contradictions(row, path)]
    for rate in (1e-3, 1e-1):
        path = gdlab.descend(problem.loss, problem.start, lr=rate, steps=STEPS, tol=1e-6, method="adam")
        wrong += [f"adam {rate:g}: {w}" for w in _contradictions(path)]
    path = gdlab.descend(problem.loss, problem.start, steps=STEPS, tol=1e-6, method=optax.lbfgs())
    wrong += [f"lbfgs: {w}" for w in _contradictions(path)]
    assert not wrong, "\n".join(wrong)


def test_a_saddle_found_by_lbfgs_is_not_called_a_minimum():
    """L-BFGS on Biggs EXP6 stops with a gradient of 3.5e-7 at a saddle (curvature -0.0098):
    moving 0.1 along that direction lowers the loss by 4e-5."""
    biggs = next(p for p in CLASSICS if p.name == "biggs_exp6")
    path = gdlab.descend(biggs.loss, biggs.start, steps=1000, tol=1e-6, method=optax.lbfgs())
    assert path.status.value == "stalled"
    assert "saddle point, not a minimum" in path.message and "-0.0098" in path.message
    assert float(path.loss[-1]) == pytest.approx(5.65565e-3, rel=1e-5)


@pytest.mark.parametrize("tol", [1e-8, None])
def test_a_start_at_a_maximum_or_a_saddle_is_not_converged(tol):
    top = gdlab.descend("-(b^2)", 0.0, lr=0.1, steps=10, tol=tol)
    assert top.status.value == "stalled" and "at a maximum of the loss" in top.message
    saddle = gdlab.descend("x^2 - y^2", {"x": 1.0, "y": 0.0}, lr=0.1, steps=1000, tol=tol)
    assert saddle.status.value == "stalled" and "saddle point" in saddle.message
    swept = gdlab.sweep("x^2 - y^2", {"x": 1.0, "y": 0.0}, lrs=[0.1, 0.2], steps=1000, tol=tol)
    assert {r["regime"] for r in swept.runs()} == {"stalled"}
    assert swept.runs()[0]["note"] == saddle.message


def test_a_loss_that_ends_above_its_start_is_not_still_descending():
    """Gradient descent on the trigonometric problem at 2.4: the loss goes from 0.0117 to 257
    without exploding; it is not 'still descending' nor a 'slow' regime."""
    trig = next(p for p in CLASSICS if p.name == "trigonometric")
    path = gdlab.descend(trig.loss, trig.start, lr=2.44441, steps=1000, tol=1e-6)
    assert path.status.value == "max_steps"
    assert "still descending" not in path.message and "0.01166 ->" in path.message
    assert path.message.endswith("lower the rate 2.44441")
    row = gdlab.sweep(trig.loss, trig.start, lrs=[2.44441], steps=1000, tol=1e-6).runs()[0]
    assert row["regime"] == "diverged" and row["note"] == path.message and "the loss rose" in path.message

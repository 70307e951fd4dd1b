"""The sweep's fast loop (no outcome code carried; a stopping run marked by NaN and computed again)
gives every run exactly what the careful loop gives, to the last digit, stopped runs included."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gdlab
from gdlab import _sweep
from gdlab._loss import as_loss
from gdlab._methods import resolve_method


def _both(loss, init, lrs, steps, method, settings=None):
    spec = resolve_method(method)
    lrs = np.asarray(lrs, np.float64)
    runs = lrs.shape[0]
    inits = jax.tree.map(
        lambda a: np.broadcast_to(np.asarray(a, np.float64), (runs, *np.shape(a))).copy(), init
    )
    hyper, runner = lrs, spec
    if settings is not None:
        hyper, runner = np.stack([lrs, settings], axis=1), spec.varying(spec.momentum)
    f, tol = as_loss(loss), np.asarray(0.0)
    fast = _sweep._fast_then_careful(f, runner, inits, hyper, tol, steps)
    careful = _sweep._whole(f, runner, inits, hyper, tol, steps, False, steps, 1)
    marked = int(np.sum(np.asarray(_sweep._fast(f, runner, inits, hyper, tol, steps)[1])))
    return jax.tree.leaves(fast), jax.tree.leaves(careful), marked


def rosenbrock(p):
    return (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2


@pytest.mark.parametrize(
    ("loss", "init", "lrs", "steps", "method"),
    [
        ("(b/2-1)^2", -10.0, gdlab.rates(1e-4, 10, 200), 2000, "gd"),  # a tenth diverge, at many steps
        ("log(b)", 1.0, gdlab.rates(1e-3, 3, 40), 100, "gd"),  # most leave the domain (NaN)
        ("-b^2", 0.1, gdlab.rates(1e-3, 3, 40), 200, "gd"),  # falls without bound: explodes downward
        (
            rosenbrock,
            {"x": np.array(-1.0), "y": np.array(1.0)},
            gdlab.rates(1e-5, 1e-2, 24),
            1500,
            "momentum",
        ),
        ("(b/2-1)^2", -10.0, gdlab.rates(1e-3, 10, 40), 500, "nesterov"),
    ],
)
def test_the_fast_loop_gives_the_careful_loops_runs(loss, init, lrs, steps, method):
    fast, careful, marked = _both(loss, init, lrs, steps, method)
    assert marked  # some runs stopped, so the careful loop had work to redo
    for a, b in zip(fast, careful, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)  # NaN where NaN, every other number to the last digit


def test_a_phase_grid_runs_the_fast_loop_alike():
    lrs = np.repeat(gdlab.rates(1e-3, 10, 24), 12)
    momenta = np.tile(np.linspace(0, 0.99, 12), 24)
    fast, careful, marked = _both("(b/2-1)^2", -10.0, lrs, 400, "momentum", settings=momenta)
    assert marked
    for a, b in zip(fast, careful, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_only_methods_checked_alike_take_the_fast_loop(monkeypatch):
    taken = []
    monkeypatch.setattr(
        _sweep,
        "_fast_then_careful",
        lambda *a: taken.append(a[1].name) or _sweep._whole(*a, False, a[5], 1),
    )
    for method in ("gd", "adam"):
        gdlab.sweep("(b/2-1)^2", -10.0, lrs=[0.1, 5.0], steps=50, method=method, save="final")
    gdlab.sweep("(b/2-1)^2", -10.0, lrs=[0.1, 5.0], steps=50, tol=1e-8, save="final")  # a tolerance: careful
    assert taken == ["gd"]


@pytest.mark.parametrize("block", [1, 3, 64])
def test_checkpoints_every_few_steps_give_the_careful_loops_runs(monkeypatch, block):
    # Runs that explode stop at steps all through the 200 (a few in, near the end, on a checkpoint
    # and just after one), and are computed again from their last checkpoint: every number is the
    # careful loop's, the step each stopped at included.
    monkeypatch.setattr(_sweep, "BLOCK", block)
    fast, careful, marked = _both(lambda b: (b / 2 - 1) ** 2, -10.0, gdlab.rates(1, 10, 40), 200, "gd")
    assert marked >= 10
    for a, b in zip(fast, careful, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_a_large_gradient_beside_a_small_loss_is_computed_again_and_runs_on():
    # loss + |gradient|^2 = 0.2 + 4e10 passes the explosion threshold (1e10) at the first step, so
    # the fast loop marks the run, though the stop rule never fires: computed again, it runs to
    # the step limit as the careful loop does.
    fast, careful, marked = _both("200000*b", 1e-6, [1e-9, 1e-8], 150, "gd")
    assert marked == 2
    codes, taken = fast[6], fast[7]  # after the rows' and the final row's three arrays each
    assert np.asarray(codes).tolist() == [5, 5] and np.asarray(taken).tolist() == [150, 150]  # the limit
    for a, b in zip(fast, careful, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize(
    ("loss", "stops_at"),
    [
        (lambda b: b - np.inf, [0, 0]),  # a loss of -inf from the start, its gradient 1
        (lambda b: jnp.where(b > 3, -jnp.inf, -b), [7, 4]),  # -inf past 3, where the gradient is 0
    ],
)
def test_a_loss_of_minus_infinity_beside_a_finite_gradient_stops_the_run(loss, stops_at):
    fast, careful, marked = _both(loss, 0.0, [0.5, 1.0], 100, "gd")
    assert marked == 2
    assert np.asarray(fast[6]).tolist() == [3, 3] and np.asarray(fast[7]).tolist() == stops_at  # not finite
    for a, b in zip(fast, careful, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _public(loss, init, lrs, steps, dtype):
    return gdlab.sweep(loss, init, lrs=lrs, steps=steps, save="final", dtype=dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])  # float32 screens rows in float32
def test_every_regime_reads_the_same_from_the_fast_loop_as_from_the_careful_one(monkeypatch, dtype):
    table = [
        ("(b/2-1)^2", -10.0, [1e-4, 0.5, 2.0, 4.0, 4.5, 9.0], 300),  # slow, converged, oscillating, diverged
        ("(b^2-1)^2", 0.0, [0.1], 300),  # stalled at a maximum
        ("log(b)", 1.0, [0.5, 3.0], 100),  # leaves the loss's domain
        ("-b^2", 0.1, [0.01, 1.0], 300),  # falls without bound
    ]
    fast = [_public(*row, dtype) for row in table]
    monkeypatch.setattr(_sweep, "FAST_METHODS", frozenset())  # every run by the careful loop
    careful = [_public(*row, dtype) for row in table]
    seen = set()
    for a, b in zip(fast, careful, strict=True):
        assert a.regime == b.regime and a.status == b.status
        assert list(a.notes) == list(b.notes)
        np.testing.assert_array_equal(a.steps_taken, b.steps_taken)
        np.testing.assert_array_equal(a.final_loss, b.final_loss)
        np.testing.assert_array_equal(a.final, b.final)
        np.testing.assert_array_equal(a.final_grad, b.final_grad)
        seen |= {r.value for r in a.regime}
    assert seen == {"converged", "oscillating", "slow", "diverged", "stalled"}

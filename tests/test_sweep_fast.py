"""The sweep's fast loop (no outcome code carried; a stopping run marked by NaN and computed again)
gives every run exactly what the careful loop gives, to the last digit, stopped runs included."""

from __future__ import annotations

import jax
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
    fast = _sweep._fast_then_careful(f, runner, inits, hyper, tol, steps, steps, 1)
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
        lambda *a: taken.append(a[1].name) or _sweep._whole(*a[:6], False, *a[6:]),
    )
    for method in ("gd", "adam"):
        gdlab.sweep("(b/2-1)^2", -10.0, lrs=[0.1, 5.0], steps=50, method=method, save="final")
    gdlab.sweep("(b/2-1)^2", -10.0, lrs=[0.1, 5.0], steps=50, tol=1e-8, save="final")  # a tolerance: careful
    assert taken == ["gd"]

"""Sweeps: regimes against theory, equality with single runs, saving, stability."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdlab
from gdlab import Regime
from helpers import lecture_loss, quadratic, rosenbrock


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 3))
def test_regimes_match_the_two_over_l_bound(seed, n):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eig = np.sort(rng.uniform(0.5, 4.0, size=n))
    eig[-1] = eig[-1] + 1.0  # a clear largest eigenvalue
    A = q @ np.diag(eig) @ q.T
    f = quadratic(A, rng.normal(size=n))
    bound = 2 / eig[-1]
    result = gdlab.sweep(f, rng.normal(size=n), lrs=[0.5 * bound, bound, 1.2 * bound], steps=3000, tol=1e-9)
    assert [r.value for r in result.regime] == ["converged", "oscillating", "diverged"]
    assert result.stability.critical_lr == pytest.approx(bound, rel=1e-9)


def test_lecture_rates_regimes_and_notes():
    lrs = [0.01 / 6, 0.5, 2.0, 3.9, 4.0, 4.01, 5.0]
    result = gdlab.sweep(lecture_loss, -10.0, lrs=lrs, steps=1000, tol=1e-8)
    assert [r.value for r in result.regime] == [
        "slow",
        "converged",
        "converged",
        "converged",
        "oscillating",
        "diverged",
        "diverged",
    ]
    assert result.steps_taken[2] == 1 and result.steps_taken[6] == 29
    assert "overshooting back and forth" in result.notes[3]
    assert "bounces grow" in result.notes[5]
    assert result.counts() == {"converged": 3, "oscillating": 1, "slow": 1, "diverged": 2, "stalled": 0}
    assert "Sweep(gd, 7 runs, 1000 steps" in repr(result) and "2/L = 4" in repr(result)


@pytest.mark.parametrize("method", ["gd", "momentum", "adam", "sign"])
def test_every_run_equals_its_single_descent(method):
    lrs = [1e-3, 3e-3, 1e-2]
    starts = [np.array([-1.2, 1.0]), np.array([0.5, -0.5])]
    result = gdlab.sweep(rosenbrock, None, inits=starts, lrs=lrs, method=method, steps=300, tol=1e-10)
    for i, (lr, start) in enumerate((lr, s) for lr in lrs for s in starts):  # rate-major order
        single = gdlab.descend(rosenbrock, start, lr=lr, method=method, steps=300, tol=1e-10)
        run = result.trajectory(i)
        assert run.steps == single.steps and run.status is single.status
        np.testing.assert_allclose(run.params, single.params, rtol=0, atol=1e-12)
        np.testing.assert_allclose(run.loss, single.loss, rtol=1e-12, atol=1e-12)
        assert result.lrs[i] == lr


def test_optax_factory_sweeps_and_ready_transformations_do_not():
    result = gdlab.sweep(lecture_loss, -10.0, lrs=[0.1, 0.5], method=optax.adam, steps=400)
    single = gdlab.descend(lecture_loss, -10.0, lr=0.5, method=optax.adam, steps=400)
    np.testing.assert_allclose(result.trajectory(1).params, single.params, atol=1e-12)
    with pytest.raises(ValueError, match="varies the rate"):
        gdlab.sweep(lecture_loss, -10.0, lrs=[0.1], method=optax.adam(0.1), steps=5)


def test_saving_every_step_some_steps_or_the_end():
    everything = gdlab.sweep(lecture_loss, -10.0, lrs=[0.1, 0.2], steps=100, save="all")
    assert everything.params.shape == (2, 101) and everything.every_step
    thinned = gdlab.sweep(lecture_loss, -10.0, lrs=[0.1, 0.2], steps=100, save=10)
    assert thinned.saved_steps.tolist() == list(range(0, 101, 10)) and thinned.params.shape == (2, 11)
    np.testing.assert_allclose(thinned.params, everything.params[:, ::10], atol=1e-12)
    np.testing.assert_allclose(thinned.final, everything.final, atol=1e-12)
    np.testing.assert_allclose(thinned.trajectory(1).params, everything.params[1], atol=1e-12)
    final = gdlab.sweep(lecture_loss, -10.0, lrs=[0.1, 0.2], steps=100, save="final")
    assert final.saved_steps.tolist() == [0, 100]  # the start and the end
    np.testing.assert_allclose(final.final, everything.final, atol=1e-12)
    big = gdlab.sweep(lecture_loss, -10.0, lrs=gdlab.rates(1e-3, 1, 300), steps=20000)
    assert not big.every_step and big.params.size <= 2 * gdlab._sweep.SAVE_BUDGET
    again = big.pick(0.5)[0]  # a thinned run is computed again, exactly
    run = int(np.argmin(np.abs(big.lrs - again.lr)))
    assert again.steps == big.steps_taken[run]
    np.testing.assert_allclose(again.params[big.saved_steps], big.params[run], atol=1e-12)


def test_nan_and_inf_are_never_silent():
    result = gdlab.sweep(lambda b: jnp.log(b), 1.0, lrs=[0.01, 10.0], steps=50)
    assert result.regime[1] is Regime.DIVERGED and "diverged at step" in result.notes[1]
    assert result.status[1] is gdlab.Status.DIVERGED
    assert np.isfinite(result.final_loss[0])


def test_to_pandas_one_row_per_run():
    result = gdlab.sweep(rosenbrock, None, inits=[np.array([-1.2, 1.0])], lrs=[1e-3, 2e-3], steps=10)
    frame = result.to_pandas()
    assert list(frame.columns) == ["lr", "start b[0]", "start b[1]", "regime", "steps", "final loss", "note"]
    assert frame["lr"].tolist() == [1e-3, 2e-3] and frame["start b[0]"].tolist() == [-1.2, -1.2]


def test_pick_returns_trajectories_nearest_the_rates():
    result = gdlab.sweep(lecture_loss, -10.0, lrs=gdlab.rates(0.01, 10, 31), steps=50)
    picked = result.pick([0.1, 4.0])
    assert [round(t.lr, 2) for t in picked] == [0.1, 3.98]
    assert result.pick(0.1)[0].lr == picked[0].lr
    with pytest.raises(ValueError, match="must be a finite number > 0"):
        result.pick([-1])
    with pytest.raises(ValueError, match="start must be"):
        result.pick(0.1, start=1)
    several = gdlab.sweep(lecture_loss, inits=[-10.0, 10.0], lrs=[0.1, 0.2], steps=5)
    assert float(several.pick(0.2, start=1)[0].params[0]) == 10.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lrs": []}, "non-empty"),
        ({"lrs": [0.1, -1.0]}, "finite number > 0"),
        ({"lrs": [0.1], "inits": [1.0]}, "init, or several as inits"),
        ({"lrs": None}, "list of rates"),
        ({"lrs": "fast"}, "list of rates"),
        ({"lrs": [0.1], "save": "some"}, "save must be"),
        ({"lrs": [0.1], "steps": -1}, "steps must be"),
    ],
)
def test_bad_sweep_arguments(kwargs, match):
    args = {"steps": 10} | kwargs
    with pytest.raises(ValueError, match=match):
        gdlab.sweep(lecture_loss, -10.0, **args)


def test_rates_helper():
    np.testing.assert_allclose(gdlab.rates(1e-4, 1, 5), [1e-4, 1e-3, 1e-2, 1e-1, 1])
    assert gdlab.rates(1, 3, 3, log=False).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="low < high"):
        gdlab.rates(1, 0.5)


def test_stability_of_the_lecture_and_the_cafe_regression():
    lecture = gdlab.stability(lecture_loss, 2.0)
    assert (lecture.L, lecture.critical_lr, lecture.best_lr, lecture.condition) == (0.5, 4.0, 2.0, 1.0)
    overshoots = "lr=5 > 2/L=4: each step overshoots by more than it gains, so it diverges near here"
    assert lecture.explain(5) == overshoots
    assert "oscillates forever" in lecture.explain(4)
    assert "from one side" in lecture.explain(1) and "back and forth" in lecture.explain(3)
    cafe = gdlab.datasets.cafe()
    X, y = cafe.X, cafe.y
    report = gdlab.stability(lambda b: jnp.sum((y - X @ b) ** 2), gdlab.ols(X, y))
    eig = np.linalg.eigvalsh(2 * X.T @ X)  # the Hessian of a sum of squares, by hand
    np.testing.assert_allclose(report.eigenvalues, eig, rtol=1e-10)
    assert report.critical_lr == pytest.approx(2 / eig[-1]) and report.critical_lr < 2e-4
    assert report.best_lr == pytest.approx(2 / (eig[0] + eig[-1]))
    assert "diverges near here for lr > 2/L = 0.000157" in repr(report)


def test_stability_where_the_curvature_is_negative_or_flat():
    report = gdlab.stability(lambda b: -(b**2), 1.0)
    assert report.critical_lr == np.inf and report.best_lr is None
    assert "no bound applies" in report.explain(0.1)
    saddle = gdlab.stability(lambda p: p[0] ** 2 - p[1] ** 2, np.zeros(2))
    assert "saddle or a maximum" in saddle.explain(0.1)
    flat = gdlab.stability(lambda p: (p[0] - 1) ** 2, np.ones(2))
    assert "flat direction" in flat.explain(0.1)
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="lr must be"):
            flat.explain(bad)


def test_regimes_near_the_bound_and_without_a_minimum():
    result = gdlab.sweep(lecture_loss, -10.0, lrs=[3.999, 4.0, 4.001], steps=1000)
    assert [r.value for r in result.regime] == ["slow", "oscillating", "diverged"]
    assert "lr=3.999" in repr(result) and "lr=4.001" in repr(result)
    unbounded = gdlab.sweep(lambda b: -(b**2), 1.0, lrs=[0.01], steps=100)
    assert unbounded.regime[0] is Regime.DIVERGED and "may have no minimum" in unbounded.notes[0]
    momentum = gdlab.sweep(lecture_loss, -10.0, lrs=[1.0], method="momentum", steps=10)
    assert "plain gradient descent's bound" in repr(momentum)


def test_repeated_rates_are_runs_not_starts_and_pick_checks_the_start():
    result = gdlab.sweep(lecture_loss, -10.0, lrs=[0.1, 0.1], steps=20)
    assert len(result) == 2 and result.starts_per_rate == 1
    assert result.runs()[1]["start"] == 0
    with pytest.raises(gdlab.InputError, match="this sweep has 1 start"):
        result.pick(0.1, start=1)
    two = gdlab.sweep(lecture_loss, lrs=[0.1, 0.5], inits=[-10.0, 5.0], steps=20)
    assert [r["start"] for r in two.runs()] == [0, 1, 0, 1]
    assert float(two.pick(0.5, start=1)[0].params[0]) == 5.0


def test_pick_never_returns_one_run_twice():
    swept = gdlab.sweep(lecture_loss, -10.0, lrs=[0.1, 1.0, 2.0], steps=10)
    assert [t.lr for t in swept.pick([2.0, 0.1])] == [2.0, 0.1]
    with pytest.raises(gdlab.InputError, match=r"0\.1, 0\.11 all pick the same run \(lr=0\.1\)"):
        swept.pick([0.1, 0.11])


def test_a_long_sweep_reports_its_progress(monkeypatch):
    """A sweep past one compiled call advances a progress tracker (a terminal bar) as segments finish."""
    import contextlib

    from gdlab import _cancel, _progress, _sweep

    seen: list[float] = []

    @contextlib.contextmanager
    def tracker(total, label):
        seen.append(total)
        yield seen.append

    # Enough steps that even a step's cost estimated low from its traced arithmetic needs several
    # chunks of CHUNK_SECONDS (200 steps could fit in one, on a fast or idle machine).
    steps = 20_000
    whole = gdlab.sweep(lecture_loss, -10.0, lrs=[0.1, 0.2], steps=steps, save="final")
    assert seen == []  # one compiled call: nothing to report
    monkeypatch.setattr(_sweep, "WHOLE_SECONDS", 0.0)  # never one call: chunks sized by time
    monkeypatch.setattr(_cancel, "CHUNK_SECONDS", 1e-4)  # chunks of a few steps
    monkeypatch.setattr(_progress, "tracker", tracker)
    swept = gdlab.sweep(lecture_loss, -10.0, lrs=[0.1, 0.2], steps=steps, save="final")
    assert seen[0] == steps and seen[-1] == steps and seen[1:] == sorted(seen[1:]) and len(seen) > 3
    assert np.array_equal(swept.final_loss, whole.final_loss)


def test_a_sweep_over_several_starts_says_which_start_each_line_is():
    text = repr(gdlab.sweep(lecture_loss, None, inits=[1.0, 2.0], lrs=[0.1], steps=3))
    assert "lr=0.1        start 0  slow" in text and "lr=0.1        start 1  converged" in text


def test_a_first_sweep_of_many_cheap_steps_goes_in_chunks_that_ctrl_c_can_stop(monkeypatch):
    """The first call for a loss estimates a step's cost before anything is compiled. A tiny loss
    computes a few numbers a step, but every step still costs the loop's turn and its rows (2 to 8
    microseconds for 20 rates): counted, 300,000 steps are past one call's second and go in chunks
    sized by time; estimated from the numbers alone (0.5 microseconds) they went in one call."""

    from gdlab import _sweep

    class Chunked(Exception):
        pass

    def chunked(*args, **kwargs):
        raise Chunked

    monkeypatch.setattr(_sweep, "_chunked", chunked)
    loss = lambda b: (b / 2 - 1.5) ** 2 + 0.25 * b  # a loss no other test compiled
    with pytest.raises(Chunked):
        gdlab.sweep(loss, -10.0, lrs=np.linspace(0.01, 0.1, 20), steps=300_000, save="final")
    assert _sweep._estimated_step(loss, gdlab.METHODS["gd"], np.zeros(20), np.ones(20)) >= _sweep.STEP_FLOOR


def test_curvature_kept_between_sweeps_is_bounded_and_per_loss_and_point():
    from gdlab import _stability

    _stability._KNOWN.clear()
    lrs = [0.5, 1.0, 4.0]
    once = gdlab.sweep(lecture_loss, -10.0, lrs=lrs, steps=300, tol=1e-9)
    again = gdlab.sweep(lecture_loss, -10.0, lrs=lrs, steps=300, tol=1e-9)
    # the same answer as computed afresh: 2/L = 4 for (b/2 - 1)^2, whose Hessian is 1/2
    assert again.stability.critical_lr == once.stability.critical_lr == 4.0
    np.testing.assert_array_equal(again.facts.low, once.facts.low)
    assert 0 < len(_stability._KNOWN) <= 2
    # another loss, and another start of the same loss, get their own answers
    steep = gdlab.sweep(lambda b: 3 * (b - 1) ** 2, -10.0, lrs=[0.1, 0.2], steps=300, tol=1e-9)
    assert steep.stability.critical_lr == pytest.approx(1 / 3, rel=1e-12)  # Hessian 6
    quartic = lambda b: (b - 1) ** 4 + (b - 1) ** 2
    near = gdlab.sweep(quartic, 1.5, lrs=[1e-3], steps=1, save="final")
    far = gdlab.sweep(quartic, 3.0, lrs=[1e-3], steps=1, save="final")
    # at x the Hessian is 12 (x - 1)^2 + 2: 2/L from each best run's own end
    for result in (near, far):
        x = float(result.final[0])
        hessian = 12 * (x - 1) ** 2 + 2
        assert abs(result.stability.L - hessian) <= 1e-12 * hessian
    assert near.stability.L != far.stability.L
    # bounded: past KNOWN_POINTS points the oldest are dropped
    for start in range(_stability.KNOWN_POINTS + 10):
        gdlab.sweep(quartic, 2.0 + start / 100, lrs=[1e-3], steps=1, save="final")
    assert len(_stability._KNOWN) == _stability.KNOWN_POINTS
    with pytest.raises(ValueError):  # what results share cannot be changed through one of them
        again.stability.eigenvalues[0] = 1.0

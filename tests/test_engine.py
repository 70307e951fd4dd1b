"""The engine under every driver: one step, one stop rule, one wording."""

import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gdlab
from fresh import interrupted
from gdlab._checks import Spelling
from gdlab._engine import Facts, Outcome, Probe, Regime, describe, judge
from helpers import lecture_loss, rosenbrock


def test_each_outcome_carries_the_status_users_see():
    assert Outcome.CONVERGED.status is gdlab.Status.CONVERGED
    assert Outcome.NO_GAIN.status is gdlab.Status.CONVERGED
    assert Outcome.NOT_FINITE.status is gdlab.Status.DIVERGED
    assert Outcome.EXPLODED.status is gdlab.Status.DIVERGED
    assert Outcome.MAX_STEPS.status is gdlab.Status.MAX_STEPS


def _facts(**changes):
    base = dict(
        outcome=Outcome.MAX_STEPS,
        step=10,
        losses=(36.0, 0.5),
        grad_norms=(6.0, 0.1),
        not_finite="",
        lr=0.1,
        tol=None,
        method="gd",
        probe=Probe(flips=0, start=0.1, end=0.05, moved=True),
    )
    return Facts(**(base | changes))


BOUNCING = Probe(flips=15, start=6.0, end=6.0, moved=True)
SETTLING = Probe(flips=15, start=5.0, end=4.0, moved=True)
GROWING = Probe(flips=15, start=90.0, end=95.0, moved=True)


@pytest.mark.parametrize(
    ("changes", "words", "regime"),
    [
        (
            {"outcome": Outcome.NOT_FINITE, "step": 0, "not_finite": "loss"},
            "the loss is not finite at the start",
            Regime.DIVERGED,
        ),
        (
            {"outcome": Outcome.NOT_FINITE, "not_finite": "loss", "losses": (36.0, np.inf)},
            "the loss left the finite numbers; each step overshoots, so lower the rate 0.1",
            Regime.DIVERGED,
        ),
        (
            {"outcome": Outcome.NOT_FINITE, "not_finite": "gradient", "losses": (3.75, 0.0)},
            "the gradient is not finite there (a kink or a pole of the loss) although the loss fell",
            Regime.STALLED,
        ),
        ({"outcome": Outcome.EXPLODED, "losses": (36.0, 5e11)}, "exploded from 36 to 5e+11", Regime.DIVERGED),
        (
            {"outcome": Outcome.EXPLODED, "lr": None, "method": "optax"},
            "the steps optax chose overshoot, so start nearer a minimum",
            Regime.DIVERGED,
        ),
        (
            {"outcome": Outcome.CONVERGED, "tol": 1e-6, "grad_norms": (6.0, 5e-7)},
            "converged at step 10: gradient norm 5e-07 <= tol 1e-06",
            Regime.CONVERGED,
        ),
        ({"outcome": Outcome.NO_GAIN}, "a step of 0.1 no longer lowers the loss", Regime.CONVERGED),
        (
            {"probe": BOUNCING, "grad_norms": (6.0, 6.0), "losses": (36.0, 36.0)},
            "bounces back and forth without settling (loss 36 -> 36), so lower the rate 0.1",
            Regime.OSCILLATING,
        ),
        (
            {"probe": SETTLING, "grad_norms": (6.0, 5.0), "losses": (36.0, 13.2)},
            "settling (loss 36 -> 13.2); raise the step limit, or lower the rate 0.1 a little",
            Regime.SLOW,
        ),
        (  # a method without a rate (Newton's) is told what it can do, in a whole sentence
            {"probe": SETTLING, "grad_norms": (6.0, 5.0), "losses": (36.0, 13.2), "lr": None},
            "settling (loss 36 -> 13.2); raise the step limit, or start nearer a minimum",
            Regime.SLOW,
        ),
        (
            {"probe": GROWING, "grad_norms": (6.0, 90.0), "losses": (36.0, 7.7e5)},
            "its bounces grow by 1.004 a step (loss 36 -> 7.7e+05), so lower the rate 0.1",
            Regime.DIVERGED,
        ),
        (
            {"probe": GROWING, "grad_norms": (6.0, 90.0), "losses": (36.0, 7.7)},
            "its bounces grow by 1.004 a step at the end although the loss fell",
            Regime.OSCILLATING,
        ),
        (  # a method that chooses its own steps (Newton's with a low step limit) may need only more
            {
                "probe": GROWING,
                "grad_norms": (6.0, 90.0),
                "losses": (36.0, 7.7),
                "lr": None,
                "method": "newton",
            },
            "a cycle, not a minimum; raise the step limit, or start nearer a minimum",
            Regime.OSCILLATING,
        ),
        (  # lm and Gauss-Newton step to a model's minimum, their gradients turning: judged by the loss
            {"probe": GROWING, "grad_norms": (6.0, 90.0), "losses": (36.0, 7.7), "lr": None, "method": "lm"},
            "stopped at the step limit (10) with gradient norm 90: still descending (loss 36 -> 7.7), so "
            "raise the step limit",
            Regime.SLOW,
        ),
        (
            {"outcome": Outcome.NOT_STATIONARY, "lr": None, "method": "lm", "grad_norms": (60.0, 17.4)},
            "stalled at step 10: the steps stopped changing the parameters, but not at a minimum: the "
            "gradient norm is 17.4 there",
            Regime.STALLED,
        ),
        ({}, "still descending (loss 36 -> 0.5), so raise the step limit or the rate 0.1", Regime.SLOW),
        (
            {"tol": 1e-8},
            "> tol 1e-08: still descending (loss 36 -> 0.5), so raise the step limit",
            Regime.SLOW,
        ),
        (
            {"tol": 1e-8, "lr": None},
            "still descending (loss 36 -> 0.5), so raise the step limit",
            Regime.SLOW,
        ),
        (
            {"grad_norms": (6.0, 1e-9), "probe": Probe(0, 1e-9, 9e-10, True)},
            "it reached the minimum; a tolerance (tol) stops it there",
            Regime.CONVERGED,
        ),
        (
            {"grad_norms": (6.0, 6.0), "probe": Probe(0, 6.0, 6.0, False)},
            "the rate is too small to move; raise the rate 0.1",
            Regime.SLOW,
        ),
    ],
)
def test_judge_words_each_ending_with_its_regime(changes, words, regime):
    ending = judge(_facts(**changes))
    assert words in ending.sentence
    assert ending.regime is regime
    assert ending.sentence == describe(_facts(**changes))


def test_a_spelling_names_the_parameters_its_own_way():
    class Cli(Spelling):
        def name(self, param, words=None):
            return f"--{param}"

        def value(self, param, value):
            return f"--{param} {value}"

    facts = _facts(tol=1e-8)
    assert describe(facts) == (
        "stopped at the step limit (10) with gradient norm 0.1 > tol 1e-08: still descending "
        "(loss 36 -> 0.5), so raise the step limit or the rate 0.1"
    )
    assert describe(facts, Cli()) == (
        "stopped at the step limit (--steps 10) with gradient norm 0.1 > --tol 1e-08: still descending "
        "(loss 36 -> 0.5), so raise --steps or the rate --lr 0.1"
    )


def test_the_same_diverged_run_reads_the_same_from_descend_and_sweep():
    path = gdlab.descend(lecture_loss, -10.0, lr=5.0, steps=100)
    result = gdlab.sweep(lecture_loss, -10.0, lrs=[5.0], steps=100)
    assert path.message == result.notes[0]
    assert path.message.startswith("diverged at step 29: the loss exploded from 36 to 5.883e+11")


def test_lbfgs_and_other_line_searches_run_through_method():
    path = gdlab.descend(rosenbrock, jnp.array([-1.5, 2.0]), steps=200, method=optax.lbfgs(), tol=1e-8)
    assert path.status is gdlab.Status.CONVERGED and path.steps < 100
    np.testing.assert_allclose(path.final, [1.0, 1.0], atol=1e-7)
    assert path.lr is None and "lr" not in path.message


def newton() -> optax.GradientTransformationExtraArgs:
    """A second-order method written as a transformation that reads the loss it is given."""

    def update(g, state, params, *, value_fn, **_):
        step = jnp.linalg.solve(jax.hessian(value_fn)(params), g)
        return -step, state

    return optax.GradientTransformationExtraArgs(lambda p: optax.EmptyState(), update)


def test_a_second_order_method_plugs_in_as_a_transformation():
    # Newton's method lands on the minimum of a quadratic in one step, as the lecture's loss shows.
    quadratic = lambda b: jnp.sum((b / 2 - 1) ** 2) + 0.5 * (b[0] - b[1]) ** 2
    path = gdlab.descend(quadratic, jnp.array([-10.0, 4.0]), steps=5, method=newton(), tol=1e-10)
    assert path.status is gdlab.Status.CONVERGED and path.steps == 1
    np.testing.assert_allclose(path.final, [2.0, 2.0], rtol=1e-12)


def test_an_optimiser_error_is_not_blamed_on_the_loss():
    def broken(params):
        raise TypeError("the optimiser's own mistake")

    bad = optax.GradientTransformation(lambda p: optax.EmptyState(), lambda g, s, p=None: broken(p))
    with pytest.raises(TypeError, match="optimiser's own mistake"):
        gdlab.descend(lecture_loss, 1.0, steps=3, method=bad)


def test_memory_follows_the_steps_taken():
    # 10^8 steps asked for; |g_k| = 6 * 0.75^k reaches 1e-8 at step 71: the rows kept are the rows taken.
    path = gdlab.descend(lecture_loss, -10.0, lr=0.5, steps=10**8, tol=1e-8)
    expected = int(np.ceil(np.log(1e-8 / 6) / np.log(0.75)))
    assert path.status is gdlab.Status.CONVERGED and path.steps == expected == 71
    assert path.params.shape == (72,)


def test_a_run_past_the_memory_limit_is_refused_before_it_starts():
    with pytest.raises(gdlab.InputError, match="numbers in memory"):
        gdlab.descend(lecture_loss, -10.0, lr=0.01, steps=10**9)


def test_a_long_run_is_chunked_and_its_rows_are_exact():
    from gdlab import _descend

    path = gdlab.descend(lecture_loss, -10.0, lr=1e-6, steps=3 * _descend.CHUNK_ROWS + 5)
    k = np.arange(path.steps + 1)
    np.testing.assert_allclose(path.params, 2 - 12 * (1 - 1e-6 / 2) ** k, rtol=1e-10)


def test_ctrl_c_stops_a_long_descent_promptly():
    script = textwrap.dedent(
        """
        import gdlab, jax.numpy as jnp
        # a loss slow enough (200 sines a step) that the run is still going when Ctrl-C comes
        slow = lambda b: (b / 2 - 1) ** 2 + 1e-9 * sum(jnp.sin(b * k) for k in range(200))
        print("ready", flush=True)
        gdlab.descend(slow, -10.0, lr=1e-9, steps=10**9 - 1, tol=1e-30)
        """
    )
    _, err, _ = interrupted(["-c", script], after=3, ready=True)
    assert b"KeyboardInterrupt" in err


def test_ctrl_c_stops_a_long_sweep_on_the_command_line_with_exit_130():
    args = ["sweep", "(b/2-1)^2", "--init", "-10", "--lr", "0.001:0.002:50", "--steps", "1000000000"]
    code, err, _ = interrupted(["-m", "gdlab.cli", *args], after=6)
    assert code == 130 and b"interrupted" in err


# Each label is judged against the run's own record, for descend and sweep alike.


def test_a_vanished_gradient_after_the_loss_rose_is_stalled_not_converged():
    plateau = lambda b: 1 - jnp.exp(-(b**2))  # from 0.5, a step of 10 lands on the flat far side
    path = gdlab.descend(plateau, 0.5, lr=10.0, steps=50, tol=1e-8)
    assert path.status is gdlab.Status.STALLED and path.loss[-1] > path.loss[0]
    assert "the gradient vanished" in path.message and "not a minimum" in path.message
    result = gdlab.sweep(plateau, 0.5, lrs=[0.1, 10.0], steps=2000, tol=1e-8)
    assert result.status == (gdlab.Status.CONVERGED, gdlab.Status.STALLED)
    assert result.regime[1] is gdlab.Regime.STALLED and result.notes[1] == path.message


def test_a_gradient_undefined_where_the_loss_fell_is_named_not_called_diverged():
    path = gdlab.descend(lambda b: b**2 + jnp.sqrt(b**2), 1.5, lr=0.375, steps=10)
    assert path.loss.tolist() == [3.75, 0.0]
    assert path.status is gdlab.Status.STALLED
    assert "the gradient is not finite there (a kink or a pole" in path.message


def test_a_loss_falling_without_bound_is_not_told_to_lower_the_rate():
    path = gdlab.descend(lambda b: -jnp.exp(b), 0.0, lr=0.001, steps=10_000)
    assert path.status is gdlab.Status.DIVERGED
    assert "fell without bound" in path.message and "lower the rate" not in path.message


@pytest.mark.parametrize("how", ["descend", "sweep"])
def test_float32_at_its_precision_floor_says_so(how):
    if how == "descend":
        message = gdlab.descend(lecture_loss, -10.0, lr=0.5, steps=1000, tol=1e-8, dtype="float32").message
    else:
        result = gdlab.sweep(lecture_loss, -10.0, lrs=[0.5], steps=1000, dtype="float32")
        assert result.regime[0] is gdlab.Regime.CONVERGED
        message = result.notes[0]
    assert "no longer change the parameters at float32's precision" in message
    assert "use float64" in message and "raise the step limit" not in message


def test_a_slow_run_on_rosenbrock_is_not_called_runaway_or_minimum_free():
    rosen = lambda p: (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2
    start = {"x": -1.5, "y": 2.0}
    result = gdlab.sweep(rosen, start, lrs=gdlab.rates(1e-5, 1e-2, 6), steps=5000, tol=1e-6)
    regimes = [r.value for r in result.regime]
    assert regimes == ["slow"] * 4 + ["diverged"] * 2
    for i in range(4):
        assert result.final_loss[i] < 12.5 and "no minimum" not in result.notes[i]
        path = gdlab.descend(rosen, start, lr=float(result.lrs[i]), steps=5000, tol=1e-6)
        assert path.status.value == result.status[i].value == "max_steps"
        assert path.final_loss == pytest.approx(float(result.final_loss[i]), rel=1e-12)
    assert "a local bound" in repr(result)


def test_stability_says_when_no_rate_converges():
    concave = gdlab.stability(lambda b: -(b**2), 0.0)
    assert "moves away from it at any rate" in repr(concave) and "2/L = inf" not in repr(concave)
    saddle = gdlab.stability(lambda p: p[0] ** 2 - p[1] ** 2, jnp.array([0.0, 0.0]))
    assert "a saddle" in repr(saddle) and "no rate converges" in repr(saddle)


def test_a_parameter_that_cancels_has_a_zero_gradient():
    loss = gdlab.parse("b - b + 1")
    assert loss.params == ("b",) and float(loss(b=3.0)) == 1.0
    assert gdlab.gradient_report(loss, 2.0).rows[0].autodiff == 0.0


def test_a_loss_falling_to_the_largest_float_is_named_and_drawn(tmp_path):
    path = gdlab.descend(lambda b: -(b**2), 1.0, lr=1.0, steps=1000)
    assert path.status is gdlab.Status.DIVERGED and "fell without bound" in path.message
    assert "the  left" not in path.message and "lower the rate" not in path.message
    slow = gdlab.descend(lambda b: -(b**2), 1.0, lr=0.1, steps=1000, tol=1e-8)
    assert "the loss keeps falling" in slow.message and "still descending" not in slow.message
    with np.errstate(over="ignore"):
        written = gdlab.save_figure(gdlab.plot(path, history=True), tmp_path / "fall.png")
    assert written.stat().st_size > 1000


def test_bounces_that_settle_grow_or_stay_are_told_apart():
    words = {lr: gdlab.descend(lecture_loss, -10.0, lr=lr, steps=100).message for lr in (3.99, 4.0, 4.01)}
    assert "bounces back and forth, settling" in words[3.99] and "without settling" in words[4.0]
    assert "its bounces grow" in words[4.01]


def test_a_run_that_would_keep_too_many_steps_stops_with_what_it_kept(monkeypatch):
    import dataclasses

    from gdlab import _descend

    monkeypatch.setattr(_descend, "LIMITS", dataclasses.replace(gdlab.LIMITS, trajectory_numbers=3_000))
    path = gdlab.descend(lecture_loss, -10.0, lr=1e-9, steps=10**6, tol=1e-30)
    assert path.status is gdlab.Status.MAX_STEPS and path.steps < 1000
    assert "would pass the limit" in path.message


def test_more_inputs_are_input_errors():
    with pytest.raises(gdlab.InputError, match=r"jax\.numpy"):
        gdlab.descend(lambda b: np.sin(b), 1.0, lr=0.1, steps=3)
    with pytest.raises(gdlab.InputError, match=r"float16.*not supported"):
        gdlab.descend(lecture_loss, 1.0, lr=0.1, steps=3, dtype="float16")
    result = gdlab.sweep(lecture_loss, -10.0, lrs=[0.1], steps=5)
    with pytest.raises(gdlab.InputError, match="run must be a whole number from 0 to 0"):
        result.trajectory(5)


def test_gradient_report_reads_data_like_the_rest():
    cafe = gdlab.datasets.cafe()
    text = "sum((y - b0 - b1*x)^2)"
    reports = [
        gdlab.gradient_report(text, {"b0": 9.0, "b1": 2.0}, data=d) for d in ("cafe", cafe.to_pandas())
    ]
    assert reports[0].rows == reports[1].rows and reports[0].agree
    lone = gdlab.gradient_report("sin(1/b)", 1e-4)
    assert not lone.agree and "symbolic and autodiff agree" in lone.notes[0]


def test_a_run_that_overshoots_while_it_settles_is_never_told_to_raise_its_rate():
    """lr = 3.9 on the lecture's loss (2/L = 4): each step multiplies the error by -0.95. After 40
    steps the gradient has shrunk to 0.13 of its start; a higher rate would overshoot more."""
    path = gdlab.descend(lecture_loss, -10.0, lr=3.9, steps=40, tol=1e-8)
    assert "raise the step limit, or lower the rate 3.9 a little" in path.message
    assert "or the rate" not in path.message and "still descending" not in path.message


def test_a_shape_mismatch_inside_a_typed_loss_is_an_input_error():
    loss = gdlab.parse("sum(X@b)", data={"X": np.ones((3, 2))})
    with pytest.raises(gdlab.InputError, match="raised ValueError for parameters of shape"):
        gdlab.descend(loss, 1.0, lr=0.1, steps=2)


def test_a_point_without_curvature_is_not_called_a_place_no_rate_converges():
    """At the kink of abs(b), its minimum, the Hessian is 0: the curvature cannot judge rates there."""
    kink = gdlab.stability("abs(b)", 0.0)
    assert "no curvature here" in kink.summary() and "no rate" not in kink.summary()
    assert "no curvature here" in kink.explain(0.1)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_rate_too_small_to_move_is_told_to_rise_not_called_converged(dtype):
    """lr = 1e-20 from -10: lr x gradient (6e-20) is below the resolution at b = -10, so b never moves."""
    path = gdlab.descend("(b/2-1)^2", -10.0, lr=1e-20, steps=1000, dtype=dtype)
    assert "the rate is too small to move; raise the rate 1e-20" in path.message
    assert "tolerance" not in path.message
    row = gdlab.sweep("(b/2-1)^2", -10.0, lrs=[1e-20], steps=1000, dtype=dtype).runs()[0]
    assert (row["regime"], row["note"]) == ("slow", path.message)


def test_a_two_cycle_is_not_settling_and_reads_alike_in_sweep_and_descend():
    """abs(b) from 1 at lr 0.3 ends bouncing between 0.1 and -0.2 forever; Rosenbrock at 0.0025
    ends in a 2-cycle with gradient 15.8 (the same point after 2e5 steps as after 2e4)."""
    kink = gdlab.descend("abs(b)", 1.0, lr=0.3, steps=100)
    assert "bounces back and forth without settling" in kink.message
    assert "lower the rate 0.3" in kink.message
    rosen = gdlab.parse("100*(b1-b0^2)^2+(1-b0)^2")
    start = {"b0": -1.2, "b1": 1.0}
    for lr in (0.002, 0.0025):
        path = gdlab.descend(rosen, start, lr=lr, steps=20_000, tol=1e-8)
        assert "back and forth, settling" not in path.message and "lower the rate" in path.message
        assert "without settling" in path.message or "at the end although the loss fell" in path.message
        row = gdlab.sweep(rosen, start, lrs=[lr], steps=20_000, tol=1e-8, save="final").runs()[0]
        assert row["regime"] == "oscillating", row["note"]


def test_a_step_out_of_the_loss_domain_says_so():
    path = gdlab.descend("log(b)", 1.0, lr=0.1, steps=100)
    assert path.status.value == "diverged"
    assert "left the region where the loss is defined" in path.message
    row = gdlab.sweep("log(b)", 1.0, lrs=[0.1], steps=100).runs()[0]
    assert row["note"] == path.message


def test_a_method_without_a_rate_is_never_told_to_lower_one():
    path = gdlab.descend("abs(b)", 1.0, method="newton", steps=10)
    assert "the steps newton chose overshoot" in path.message and "rate 0" not in path.message
    assert "lower the" not in path.message


def test_a_start_where_the_loss_is_not_finite_is_an_input_error():
    with pytest.raises(gdlab.InputError, match="not finite at the start"):
        gdlab.descend("(b/2-1)^2", 1e160, lr=0.1, steps=10)


def test_rates_are_written_with_the_digits_typed():
    path = gdlab.descend("b^2", 1.0, lr=1.0000001, steps=10)
    assert path.message.endswith("lower the rate 1.0000001")


def test_a_run_at_the_minimum_without_tol_says_it_reached_it():
    path = gdlab.descend("(b/2-1)^2", -10.0, method="newton", steps=10)
    assert "it reached the minimum" in path.message


def test_a_loss_falling_ever_steeper_is_not_told_to_give_a_tolerance():
    """x^2 - y^2 from just off the saddle: the loss falls from 1 to -6.9e9 as the gradient grows to
    1.7e5; a tolerance is no answer, and the sweep and descend both say the loss may have no minimum."""
    start = {"x": 1.0, "y": 1e-3}
    path = gdlab.descend("x^2 - y^2", start, lr=0.1, steps=100)
    assert "may have no minimum" in path.message and "tolerance" not in path.message
    row = gdlab.sweep("x^2 - y^2", start, lrs=[0.1], steps=100).runs()[0]
    assert "may have no minimum" in row["note"]


def test_a_run_at_the_minimum_to_rounding_is_converged_though_its_tiny_gradient_flips():
    # lr*L = 1.8: each step multiplies the error by -0.8, so it reaches the minimum to rounding
    # (loss 5e-32) long before step 1000, where a gradient of 2e-16 still flips sign each step.
    for method in ("gd", gdlab.METHODS["momentum"].configured(momentum=0.01)):
        path = gdlab.descend(lecture_loss, -10.0, lr=3.6, steps=1000, method=method)
        assert path.regime is Regime.CONVERGED, path.message
        assert "it reached the minimum" in path.message
    at_bound = gdlab.descend(lecture_loss, -10.0, lr=4.0, steps=1000)  # lr = 2/L bounces for ever
    assert at_bound.regime is Regime.OSCILLATING

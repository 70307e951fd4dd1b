"""The engine under every driver: one step, one stop rule, one wording."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gdlab
from gdlab._engine import Facts, Outcome, describe
from helpers import lecture_loss, rosenbrock


def test_each_outcome_carries_the_status_users_see():
    assert Outcome.CONVERGED.status is gdlab.Status.CONVERGED
    assert Outcome.NO_GAIN.status is gdlab.Status.CONVERGED
    assert Outcome.NOT_FINITE.status is gdlab.Status.DIVERGED
    assert Outcome.EXPLODED.status is gdlab.Status.DIVERGED
    assert Outcome.MAX_STEPS.status is gdlab.Status.MAX_STEPS


def _facts(**changes):
    base = dict(outcome=Outcome.MAX_STEPS, step=10, losses=(36.0, 1.0, 0.5), grad_norms=(6.0, 0.1),
                turned_back=False, not_finite="", lr=0.1, tol=None, method="gd")  # fmt: skip
    return Facts(**(base | changes))


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"outcome": Outcome.NOT_FINITE, "step": 0, "not_finite": "loss"}, "the loss is not finite at the start"),
        ({"outcome": Outcome.NOT_FINITE, "not_finite": "loss", "losses": (36.0, 1e300, np.inf)},
         "the loss left the finite numbers (the loss was 1e+300 a step before); each step overshoots, "
         "so lower the rate 0.1"),
        ({"outcome": Outcome.NOT_FINITE, "not_finite": "gradient", "losses": (3.75, 0.1, 0.0)},
         "the gradient is not finite there (a kink or a pole of the loss) although the loss fell"),
        ({"outcome": Outcome.EXPLODED, "losses": (36.0, 1e10, 5e11)}, "exploded from 36 to 5e+11"),
        ({"outcome": Outcome.EXPLODED, "lr": None, "method": "optax"},
         "lower the step size inside the optimiser (optax)"),
        ({"outcome": Outcome.CONVERGED, "tol": 1e-6, "grad_norms": (6.0, 5e-7)},
         "converged at step 10: gradient norm 5e-07 <= tol 1e-06"),
        ({"outcome": Outcome.NO_GAIN}, "a step of 0.1 no longer lowers the loss"),
        ({"turned_back": True, "grad_norms": (6.0, 6.0)}, "bounces across the minimum without settling"),
        ({}, "give a tolerance (tol) to stop once it is small"),
        ({"tol": 1e-8}, "still descending, so raise the step limit or the rate 0.1"),
        ({"tol": 1e-8, "lr": None}, "still descending, so raise the step limit"),
    ],
)  # fmt: skip
def test_describe_words_each_ending(changes, words):
    assert words in describe(_facts(**changes))


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


def test_ctrl_c_stops_a_long_descent_promptly(tmp_path):
    script = textwrap.dedent(
        """
        import sys, gdlab
        print("ready", flush=True)
        gdlab.descend(lambda b: (b / 2 - 1) ** 2, -10.0, lr=1e-9, steps=10**9 - 1, tol=1e-30)
        """
    )
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(3)  # compiled and running
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("Ctrl-C did not stop the descent within 20 s")
    assert b"KeyboardInterrupt" in err


def test_ctrl_c_stops_a_long_sweep_on_the_command_line_with_exit_130():
    args = ["sweep", "(b/2-1)^2", "--init", "-10", "--lr", "0.001:0.002:50", "--steps", "1000000000"]
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "GDLAB_NO_CACHE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "gdlab.cli", *args], stderr=subprocess.PIPE, env=env)
    time.sleep(6)  # started, compiled and running
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("Ctrl-C did not stop the sweep within 20 s")
    assert proc.returncode == 130 and b"interrupted" in err

import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gdlab
from gdlab._descend import _chunk
from helpers import lecture_loss, lecture_path


def test_every_row_follows_the_closed_form():
    path = gdlab.descend(lecture_loss, -10.0, lr=0.3, steps=50)
    assert path.params.shape == (51,) and path.loss.shape == (51,) and path.grad.shape == (51,)
    np.testing.assert_allclose(path.params, lecture_path(-10.0, 0.3, np.arange(51)), rtol=1e-13)
    np.testing.assert_allclose(path.loss, (path.params / 2 - 1) ** 2, rtol=1e-13)
    np.testing.assert_allclose(path.grad, path.params / 2 - 1, rtol=1e-13)


def test_converges_at_the_step_theory_predicts():
    # |g_k| = 6 * 0.75^k for lr = 0.5; first k with |g_k| <= 1e-6 is 55.
    path = gdlab.descend(lecture_loss, -10.0, lr=0.5, steps=1000, tol=1e-6)
    expected = int(np.ceil(np.log(1e-6 / 6) / np.log(0.75)))
    assert path.status is gdlab.Status.CONVERGED and path.steps == expected
    assert "converged at step 55" in path.message
    assert abs(float(path.grad[-1])) <= 1e-6 < abs(float(path.grad[-2]))


def test_rate_two_lands_in_one_step_and_rate_four_oscillates():
    assert float(gdlab.descend(lecture_loss, -10.0, lr=2.0, steps=1).final) == 2.0
    bounce = gdlab.descend(lecture_loss, -10.0, lr=4.0, steps=6, tol=1e-8)
    assert bounce.params.tolist() == [-10.0, 14.0, -10.0, 14.0, -10.0, 14.0, -10.0]
    assert bounce.status is gdlab.Status.MAX_STEPS
    assert "bounces back and forth without settling" in bounce.message
    assert "lower the rate 4" in bounce.message
    slow = gdlab.descend(lecture_loss, -10.0, lr=0.01, steps=100, tol=1e-8)
    assert "still descending (loss 36 -> 13.21), so raise the step limit or the rate 0.01" in slow.message


def test_divergence_is_reported_with_advice():
    path = gdlab.descend(lecture_loss, -10.0, lr=5.0, steps=1000)
    assert path.status is gdlab.Status.DIVERGED
    assert path.steps < 1000  # stops where it exploded
    assert "diverged at step" in path.message and "so lower the rate 5" in path.message
    # Error grows by |1 - 5/2| = 1.5 a step: the loss passes 1e10 * 36 at step 29.
    assert path.steps == int(np.ceil(np.log(1e10) / np.log(2.25)))


def test_non_finite_loss_is_diverged_not_silent():
    path = gdlab.descend(lambda b: jnp.log(b), 1.0, lr=10.0, steps=20)
    assert path.status is gdlab.Status.DIVERGED
    assert "finite" in path.message or "exploded" in path.message
    assert np.all(np.isfinite(path.loss[:-1]))


def test_sign_method_takes_fixed_steps_and_stops_by_the_lecture_rule():
    path = gdlab.descend(lecture_loss, -5.0, lr=0.25, steps=1000, method="sign", tol=1e-12)
    np.testing.assert_allclose(np.diff(path.params), 0.25)
    assert path.status is gdlab.Status.CONVERGED and float(path.final) == 2.0
    assert path.steps == 28
    free = gdlab.descend(lecture_loss, -5.0, lr=0.3, steps=40, method="sign")
    assert free.steps == 40 and np.all(np.abs(np.diff(free.params)) == pytest.approx(0.3))


def test_optax_transformation_and_factory():
    ready = gdlab.descend(lecture_loss, -10.0, steps=500, method=optax.adam(0.1))
    factory = gdlab.descend(lecture_loss, -10.0, lr=0.1, steps=500, method=optax.adam)
    np.testing.assert_allclose(ready.params, factory.params, rtol=1e-12)
    assert ready.lr is None and factory.lr == 0.1 and factory.method == "adam"
    assert abs(float(ready.final) - 2.0) < 1e-3
    with pytest.raises(ValueError, match="holds its own rate"):
        gdlab.descend(lecture_loss, -10.0, lr=0.1, steps=5, method=optax.adam(0.1))


def test_pytree_parameters_keep_their_shape():
    cafe = gdlab.datasets.cafe()
    sse = lambda p: jnp.sum((cafe.y - p["b0"] - p["b1"] * cafe.x) ** 2)
    path = gdlab.descend(sse, {"b0": 9.0, "b1": 2.0}, lr=1e-4, steps=10)
    assert set(path.params) == {"b0", "b1"} and path.params["b0"].shape == (11,)
    assert path.names == ("b0", "b1")
    col = gdlab.descend(
        lambda b: jnp.sum((cafe.y[:, None] - cafe.X @ b) ** 2),
        np.array([[9.0], [2.0]]),
        lr=1e-4,
        steps=10,
    )
    assert col.params.shape == (11, 2, 1) and col.final.shape == (2, 1)
    assert float(path.params["b0"][1]) == pytest.approx(float(col.params[1, 0, 0]), rel=1e-12)


def test_one_compilation_serves_every_start_rate_and_similar_length():
    f = lambda b: (b - 3.0) ** 2
    gdlab.descend(f, 0.0, lr=0.1, steps=37)
    size = _chunk._cache_size()
    for lr, init, steps in [(0.2, 1.0, 37), (0.01, -5.0, 50), (0.7, 10.0, 63)]:
        gdlab.descend(f, init, lr=lr, steps=steps)
    assert _chunk._cache_size() == size


def test_float32_stays_float32():
    path = gdlab.descend(lecture_loss, -10, lr=0.1, steps=3, dtype="float32")
    assert path.params.dtype == np.float32 and path.loss.dtype == np.float32


def test_zero_steps_gives_the_start():
    path = gdlab.descend(lecture_loss, -10.0, lr=0.1, steps=0)
    assert path.steps == 0 and path.params.tolist() == [-10.0] and path.loss.tolist() == [36.0]
    assert "(loss 36 at the start, no step taken)" in path.message and "->" not in path.message


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": 0.0}, "lr must be a finite number > 0"),
        ({"lr": -1.0}, "lr must be"),
        ({"lr": float("nan")}, "lr must be"),
        ({"lr": "fast"}, "lr must be a number"),
        ({"lr": None}, "needs a learning rate: pass lr=0.01"),
        ({"steps": -1}, "steps must be a whole number"),
        ({"steps": 2.5}, "steps must be a whole number"),
        ({"steps": "10"}, "steps must be a whole number"),
        ({"tol": -1.0}, "tol must be"),
        ({"method": "bfgs2"}, "method='bfgs2' is unknown: did you mean 'lbfgs'?"),
        ({"method": 3}, "method must be"),
        ({"dtype": "int8"}, "dtype"),
        ({"dtype": "float16"}, "dtype"),
    ],
)
def test_bad_arguments_name_the_problem(kwargs, match):
    args = {"lr": 0.1, "steps": 10} | kwargs
    with pytest.raises(ValueError, match=match):
        gdlab.descend(lecture_loss, -10.0, **args)


def test_bad_start_and_bad_loss():
    with pytest.raises(ValueError, match="init must be finite"):
        gdlab.descend(lecture_loss, float("inf"), lr=0.1, steps=3)
    with pytest.raises(ValueError, match="init must be real numbers"):
        gdlab.descend(lecture_loss, "ten", lr=0.1, steps=3)
    with pytest.raises(ValueError, match="init holds no numbers"):
        gdlab.descend(lecture_loss, (), lr=0.1, steps=3)
    with pytest.raises(ValueError, match=r"one number.*shape \(2,\)"):
        gdlab.descend(lambda b: b**2, np.array([1.0, 2.0]), lr=0.1, steps=3)
    with pytest.raises(ValueError, match=r"TypeError for parameters of shape \(2,\).*shape"):
        gdlab.descend(lambda b: b @ np.ones(3), np.array([1.0, 2.0]), lr=0.1, steps=3)


def test_parameters_that_do_not_fit_the_loss_are_clear_errors():
    with pytest.raises(ValueError, match=r"IndexError for parameters of shape \(\)"):
        gdlab.descend(lambda p: p[0] ** 2 + p[1] ** 2, 0.0, lr=0.1, steps=5)
    with pytest.raises(ValueError, match=r"KeyError.*keys"):
        gdlab.descend(lambda p: p["b"] ** 2, {"a": 1.0}, lr=0.1, steps=5)


def test_whole_float_steps_are_accepted():
    assert gdlab.descend(lecture_loss, -10.0, lr=0.1, steps=3.0).steps == 3


def test_an_optax_schedule_sets_the_rate_step_by_step():
    schedule = optax.exponential_decay(0.5, transition_steps=1, decay_rate=0.5)
    path = gdlab.descend(lecture_loss, -10.0, steps=3, method=optax.sgd(schedule))
    b, rates = -10.0, [0.5, 0.25, 0.125]
    for k, lr in enumerate(rates, start=1):
        b = b - lr * (b / 2 - 1)
        assert float(path.params[k]) == pytest.approx(b, rel=1e-14)


def _mean_squares(b, data):
    return jnp.mean((data["y"] - data["X"] @ b) ** 2)


def test_data_passed_as_an_argument_is_not_compiled_into_the_run():
    """descend(f, init, data=...) calls f(params, data): the same f on new data of the same shapes
    reuses the compiled run, and the path equals that of a loss closing over the data."""
    from gdlab._descend import _chunk

    rng = np.random.default_rng(3)
    sets = [(rng.normal(size=(50, 3)), rng.normal(size=50)) for _ in range(3)]
    options = {"lr": 0.2, "steps": 500, "tol": 1e-10}
    first = gdlab.descend(_mean_squares, np.zeros(3), data={"X": sets[0][0], "y": sets[0][1]}, **options)
    compiled = _chunk._cache_size()
    for X, y in sets[1:]:
        path = gdlab.descend(_mean_squares, np.zeros(3), data={"X": X, "y": y}, **options)
        closed = gdlab.descend(lambda b, X=X, y=y: jnp.mean((y - X @ b) ** 2), np.zeros(3), **options)
        np.testing.assert_allclose(path.params, closed.params, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(path.final, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-8)
        assert path.loss_fn(path.final) == pytest.approx(float(path.loss[-1]))
    assert _chunk._cache_size() == compiled + 2  # the two closures compiled; the data runs did not
    assert first.status is gdlab.Status.CONVERGED


def test_the_same_loss_text_reuses_its_compiled_run():
    import jax

    from gdlab._loss import as_loss

    assert as_loss("(b/2-1)^2") is as_loss("(b/2-1)^2")
    gdlab.descend("(b/2-1)^2 + 0.125*b", {"b": 0.0}, lr=0.5, steps=50)  # compiles
    lowered = []

    def listen(event: str, duration: float, **kwargs: object) -> None:
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            lowered.append(kwargs.get("fun_name"))

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        again = gdlab.descend("(b/2-1)^2 + 0.125*b", {"b": 1.0}, lr=0.5, steps=50)
        reused = list(lowered)
        fresh = gdlab.descend("(b/2-1)^2 + 0.25*b", {"b": 1.0}, lr=0.5, steps=50)  # another text compiles
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
    assert not reused and lowered  # the counter sees compilation, and the same text caused none
    assert again.final["b"] == pytest.approx(1.75, abs=1e-6) and fresh.final["b"] == pytest.approx(
        1.5, abs=1e-6
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("steps", [7, 3000])  # one chunk; several (the rows read back chunk by chunk)
def test_every_row_of_a_pytree_of_mixed_shapes_is_the_hand_loops(dtype, steps):
    """A run's rows come back from the compiled chunk packed into one array: each leaf of the
    parameters and of the gradient, in its shape and dtype, row by row, equals plain NumPy gd."""
    A = np.array([[1.0, 2.0, 0.5], [0.0, 1.0, -1.0]])

    def f(p):
        return jnp.sum((p["w"] - A) ** 2) + (p["b"][0] - 3.0) ** 2 + 2.0 * (p["b"][1] + 1.0) ** 2

    init = {"w": np.zeros((2, 3)), "b": (np.float64(0.0), np.float64(0.0))}
    lr = 0.01
    path = gdlab.descend(f, init, lr=lr, steps=steps, dtype=dtype)
    w, b0, b1 = np.zeros((2, 3)), 0.0, 0.0
    ws, b0s, b1s, gws, gb1s = [], [], [], [], []
    for _ in range(steps + 1):
        gw, gb0, gb1 = 2 * (w - A), 2 * (b0 - 3.0), 4 * (b1 + 1.0)
        ws.append(w), b0s.append(b0), b1s.append(b1), gws.append(gw), gb1s.append(gb1)
        w, b0, b1 = w - lr * gw, b0 - lr * gb0, b1 - lr * gb1
    rtol = 1e-5 if dtype == "float32" else 1e-12
    assert path.params["w"].shape == (steps + 1, 2, 3) and path.params["w"].dtype == np.dtype(dtype)
    assert path.params["b"][1].dtype == np.dtype(dtype) and path.loss.dtype == np.dtype(dtype)
    np.testing.assert_allclose(path.params["w"], np.array(ws), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(path.params["b"][0], np.array(b0s), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(path.params["b"][1], np.array(b1s), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(path.grad["w"], np.array(gws), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(path.grad["b"][1], np.array(gb1s), rtol=rtol, atol=rtol)
    expected = [f({"w": w_, "b": (x, y)}) for w_, x, y in zip(ws[:5], b0s, b1s, strict=False)]
    np.testing.assert_allclose(path.loss[:5], expected, rtol=rtol)
    assert path.status is gdlab.Status.MAX_STEPS, path.message


def _closes_over_float64(b):
    """A float32 run whose loss reads a float64 NumPy constant (JAX would give a float64 value)."""
    return jnp.sum((b - np.array([1.0, 2.0])) ** 2)


@pytest.mark.parametrize(
    "run, plain",
    [
        (lambda: [gdlab.descend(_closes_over_float64, np.zeros(2), lr=0.1, steps=5, dtype="float32")], True),
        (
            lambda: (lambda s: [s.trajectory(i) for i in range(len(s))])(
                gdlab.sweep(_closes_over_float64, np.zeros(2), lrs=[0.1, 0.2], steps=5, dtype="float32")
            ),
            True,
        ),
        (
            lambda: [
                gdlab.sgd(
                    lambda b, batch: jnp.mean((batch - b[0]) ** 2) + _closes_over_float64(b),
                    np.zeros(2),
                    np.arange(8.0),
                    lr=0.1,
                    batch_size=2,
                    epochs=2,
                    dtype="float32",
                )
            ],
            False,
        ),
    ],
    ids=["descend", "sweep", "sgd"],
)
def test_a_float32_run_keeps_its_loss_in_float32_when_the_loss_reads_float64_constants(run, plain):
    for path in run():
        assert path.loss.dtype == np.float32 and path.params.dtype == np.float32
        assert path.grad.dtype == np.float32 and np.all(np.isfinite(path.loss))
        if plain:  # the recorded loss is the loss at the recorded parameters
            expected = [float(np.sum((p.astype(np.float64) - [1.0, 2.0]) ** 2)) for p in path.params]
            np.testing.assert_allclose(path.loss, expected, rtol=1e-6)

"""Every number the lecture prints, reproduced."""

import numpy as np
import pytest

import gdlab
from gdlab._lecture import HOMEWORK_LR, LECTURE_LR, cafe_matrix_loss, sections
from helpers import lecture_loss

ALL_CHECKS = [(s.title, c) for s in sections() for c in s.checks]


@pytest.mark.parametrize(("section", "check"), ALL_CHECKS, ids=[c.label for _, c in ALL_CHECKS])
def test_every_demo_value_matches(section, check):
    assert check.ok, f"{section}: {check.label}: ours {check.ours!r} vs {check.reference!r}"


def test_cafe_sales_exactly_as_printed():
    cafe = gdlab.datasets.cafe()
    printed = [
        55.4183651,
        58.19427589,
        61.23082496,
        62.31255873,
        63.1070028,
        63.69569103,
        67.24704918,
        71.43650092,
        73.10130336,
        77.84988286,
    ]
    assert cafe.y.tolist() == printed
    assert cafe.X[:, 1].tolist() == [20.1, 22.2, 22.7, 23.3, 24.4, 25.1, 26.2, 27.3, 28.4, 30.4]


def test_matrix_gradient_equals_formula_and_print():
    cafe = gdlab.datasets.cafe()
    X, y, b = cafe.X, cafe.y.reshape(-1, 1), np.array([[9.0], [2.0]])
    g = np.asarray(gdlab.grad(cafe_matrix_loss(X, y))(b))
    assert g.shape == (2, 1)
    np.testing.assert_allclose(g, -2 * X.T @ y + 2 * X.T @ X @ b, rtol=1e-13)
    np.testing.assert_allclose(g.ravel(), [-126.78690968, -3208.83947922], atol=1e-6)


def test_scalar_form_equals_matrix_form():
    cafe = gdlab.datasets.cafe()
    g0, g1 = gdlab.grad(lambda b0, b1: sum((cafe.y - b0 - b1 * cafe.x) ** 2), (0, 1))(9, 2)
    matrix = gdlab.grad(cafe_matrix_loss(cafe.X, cafe.y))(np.array([9.0, 2.0]))
    np.testing.assert_allclose([g0, g1], matrix, rtol=1e-13)


def test_gradient_vanishes_at_least_squares_optimum():
    cafe = gdlab.datasets.cafe()
    X, y = cafe.X, cafe.y.reshape(-1, 1)
    beta_hat = gdlab.ols(X, y)
    np.testing.assert_allclose(beta_hat, np.linalg.inv(X.T @ X) @ X.T @ y, rtol=1e-9)
    g = np.asarray(gdlab.grad(cafe_matrix_loss(X, y))(beta_hat))
    # Zero to rounding: far below the gradient's scale at (9, 2), 3208.
    assert np.max(np.abs(g)) < 1e-9
    g_true = np.asarray(gdlab.grad(cafe_matrix_loss(X, y))(cafe.beta.reshape(2, 1))).ravel()
    np.testing.assert_allclose(g_true, [-2.74690968, -71.45947922], atol=1e-6)


def test_grid_search_index_59():
    result = gdlab.grid_search(lecture_loss, np.linspace(-10, 10, 100))
    assert (result.index, result.best) == (59, 1.9191919191919187)
    assert result.losses[60] == 0.0036730945821854847


@pytest.mark.parametrize(("at", "printed"), [(-4.99, 12.215025), (-5.01, 12.285025)])
def test_one_sided_probes(at, printed):
    assert float(lecture_loss(at)) == pytest.approx(printed, abs=1e-12)


@pytest.mark.parametrize(
    ("steps", "printed"),
    [(1, "-9.99"), (2, "-9.980008"), (100, "-9.040152"), (1000, "-3.2133687"), (10000, "1.997125")],
)
def test_descent_float32_and_float64(steps, printed):
    f32 = gdlab.descend(lecture_loss, -10.0, lr=LECTURE_LR, steps=steps, dtype="float32").final
    f64 = gdlab.descend(lecture_loss, -10.0, lr=LECTURE_LR, steps=steps).final
    assert f32.dtype == np.float32 and f64.dtype == np.float64
    if steps <= 100:  # short runs: the very digits TensorFlow printed
        assert str(f32) == printed
    else:  # the lecture's GPU rounded pow's gradient differently: a couple of ulps
        ulp = np.spacing(np.float32(abs(float(printed))))
        assert abs(f32 - np.float32(printed)) <= 2 * ulp
    assert abs(float(f64) - float(printed)) < 1e-5


def test_homework_matches_closed_form_every_step():
    path = gdlab.descend(lambda x: (x - 1) ** 2, -3.0, lr=HOMEWORK_LR, steps=100)
    k = np.arange(101)
    np.testing.assert_allclose(path.params, 1 - 4 * (1 - 2 * HOMEWORK_LR) ** k, rtol=1e-13)
    assert path.steps == 100 and path.status is gdlab.Status.MAX_STEPS


def test_the_homework_picture_names_its_parameter_x():
    from gdlab._lecture import HOMEWORK_LR, homework_loss

    path = gdlab.descend(homework_loss, -3.0, lr=HOMEWORK_LR, steps=10)
    assert gdlab.plot(path).axes[0].get_xlabel() == "x"

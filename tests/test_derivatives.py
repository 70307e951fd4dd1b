import jax.numpy as jnp
import numpy as np
import pytest

import gdlab
from helpers import numpy_gradient, rosenbrock


def test_grad_of_scalar_matches_formula_and_accepts_ints():
    assert float(gdlab.grad(lambda b: (b / 2 - 1) ** 2)(-10)) == -6.0
    assert float(gdlab.grad(lambda b: (b / 2 - 1) ** 2)(-4.0)) == -3.0


def test_grad_over_tuple_dict_and_column_vector():
    f = lambda p: (p[0] - 1) ** 2 + 3 * p[1] ** 2
    g0, g1 = gdlab.grad(f)((2.0, 1.0))
    assert (float(g0), float(g1)) == (2.0, 6.0)
    d = gdlab.grad(lambda p: p["w"] ** 2 * p["c"])({"w": 3.0, "c": 2.0})
    assert (float(d["w"]), float(d["c"])) == (12.0, 9.0)
    col = gdlab.grad(lambda b: jnp.sum(b**2))(np.array([[1.0], [2.0]]))
    assert col.shape == (2, 1) and col.ravel().tolist() == [2.0, 4.0]


def test_grad_with_argnums_like_the_lecture():
    g = gdlab.grad(lambda b0, b1, x: (b0 + b1 * x) ** 2, argnums=(0, 1))(1.0, 2.0, 3.0)
    assert [float(v) for v in g] == [14.0, 42.0]


def test_grad_matches_independent_finite_differences():
    x = np.array([-1.2, 1.0])
    expected = numpy_gradient(lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2, x)
    np.testing.assert_allclose(gdlab.grad(rosenbrock)(x), expected, rtol=1e-8)


def test_value_and_grad_and_hessian():
    value, slope = gdlab.value_and_grad(lambda b: (b / 2 - 1) ** 2)(-4.0)
    assert (float(value), float(slope)) == (9.0, -3.0)
    H = gdlab.hessian(rosenbrock)(np.array([1.0, 1.0]))
    np.testing.assert_allclose(H, [[802.0, -400.0], [-400.0, 200.0]])


def test_float32_on_request():
    g = gdlab.grad(lambda b: b**2, dtype="float32")(1.5)
    assert g.dtype == np.float32 and float(g) == 3.0
    assert gdlab.grad(lambda b: b**2)(1.5).dtype == np.float64


def test_one_element_matrix_loss_counts_as_scalar():
    X = np.array([[1.0, 2.0], [1.0, 3.0]])
    y = np.array([[1.0], [2.0]])
    g = gdlab.grad(lambda b: (y - X @ b).T @ (y - X @ b))(np.zeros((2, 1)))
    np.testing.assert_allclose(g, -2 * X.T @ y)


def test_non_scalar_loss_is_a_clear_error():
    with pytest.raises(ValueError, match=r"one number.*shape \(3,\).*jnp.sum"):
        gdlab.grad(lambda b: b * jnp.ones(3))(1.0)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="argnums"):
        gdlab.grad(lambda a, b: a * b, argnums=(0, 2))(1.0, 2.0)
    with pytest.raises(ValueError, match="argnums"):
        gdlab.grad(lambda a: a, argnums=-1)
    with pytest.raises(ValueError, match="finite"):
        gdlab.grad(lambda a: a**2)(float("nan"))
    with pytest.raises(ValueError, match="real numbers"):
        gdlab.grad(lambda a: a**2)("3")
    with pytest.raises(ValueError, match="dtype"):
        gdlab.grad(lambda a: a**2, dtype="int32")
    with pytest.raises(ValueError, match="function"):
        gdlab.grad(3.0)


def test_numpy_inside_a_loss_gets_advice_not_a_jax_traceback():
    with pytest.raises(ValueError, match=r"jax\.numpy"):
        gdlab.grad(lambda b: np.exp(np.asarray(b)))(1.0)
    # Under compilation a Python `if` on a parameter cannot be traced either.
    with pytest.raises(ValueError, match=r"jnp\.where"):
        gdlab.descend(lambda b: b if b > 0 else -b, 1.0, lr=0.1, steps=3)

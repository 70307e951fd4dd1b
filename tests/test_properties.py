"""Property tests: autodiff against finite differences, descent against linear algebra."""

import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import gdlab
from helpers import numpy_gradient

finite = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(coef=st.lists(finite, min_size=4, max_size=4), x=st.lists(finite, min_size=2, max_size=2))
def test_autodiff_matches_finite_differences_on_random_smooth_functions(coef, x):
    a, b, c, d = coef

    def jax_f(p):
        return a * jnp.sin(b * p[0] + p[1]) + c * jnp.exp(0.3 * p[0] * p[1]) + d * jnp.tanh(p[1]) ** 2

    def numpy_f(p):
        return a * np.sin(b * p[0] + p[1]) + c * np.exp(0.3 * p[0] * p[1]) + d * np.tanh(p[1]) ** 2

    point = np.array(x)
    np.testing.assert_allclose(gdlab.grad(jax_f)(point), numpy_gradient(numpy_f, point), rtol=1e-6, atol=1e-8)
    assert gdlab.check_grad(jax_f, point).passed


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    fraction=st.floats(0.05, 0.95),
)
def test_descent_below_two_over_l_solves_the_linear_system(n, seed, fraction):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eig = rng.uniform(0.5, 5.0, size=n)
    A = q @ np.diag(eig) @ q.T
    c = rng.normal(size=n)
    lr = fraction * 2 / eig.max()
    rate = max(np.max(np.abs(1 - lr * eig)), 1e-3)  # error shrinks by this factor each step
    steps = int(np.ceil(np.log(1e-12) / np.log(rate)))
    path = gdlab.descend(lambda x: 0.5 * x @ A @ x - c @ x, np.zeros(n), lr=lr, steps=steps)
    assert path.status is gdlab.Status.MAX_STEPS
    np.testing.assert_allclose(path.final, np.linalg.solve(A, c), atol=1e-9)

"""Standardised regressors built once, and the one-pass losses of descent fits (gdlab._design)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gdlab._design import FUSED_NUMBERS, Standard, aligned, block_rows, fused_loss, moments
from gdlab._fit import fit


def _plain(kind, w, Z, y):
    eta = Z @ w
    if kind == "mse":
        return jnp.mean((eta - y) ** 2)
    return jnp.mean(jnp.logaddexp(0.0, eta) - y * eta)


@pytest.mark.parametrize("kind", ["mse", "logistic"])
@pytest.mark.parametrize("n", [5, 2 * 8192 + 77])  # no whole block; two blocks and a ragged tail
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_value_gradient_and_hessian_equal_the_plain_loss(kind, n, dtype):
    rng = np.random.default_rng(2)
    Z = np.column_stack([np.ones(n), rng.normal(size=(n, 2))]).astype(dtype)
    y = (rng.uniform(size=n) < 0.4).astype(dtype) if kind == "logistic" else rng.normal(size=n).astype(dtype)
    w = rng.normal(size=3).astype(dtype)
    data = {"Z": Z, "y": y}
    loss = fused_loss(kind)
    value, grad = jax.jit(jax.value_and_grad(loss))(w, data)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    assert value.dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(value, _plain(kind, w, Z, y), rtol=tol)
    np.testing.assert_allclose(grad, jax.grad(_plain, argnums=1)(kind, w, Z, y), rtol=tol, atol=tol)
    hessian = jax.hessian(loss)(w, data)
    np.testing.assert_allclose(hessian, jax.hessian(_plain, argnums=1)(kind, w, Z, y), rtol=tol, atol=tol)


def test_the_data_are_not_differentiable():
    data = {"Z": np.ones((4, 2)), "y": np.arange(4.0)}
    with pytest.raises(NotImplementedError, match="not differentiable"):
        jax.grad(lambda d: fused_loss("mse")(jnp.ones(2), d))(data)


def test_blocks_stay_in_cache_and_arrays_are_shared_by_jax():
    assert block_rows(100) == 1024 and block_rows(1) == 8192 and block_rows(10_000) == 64
    Z = aligned(np.random.default_rng(0).normal(size=(1000, 3)))
    assert Z.ctypes.data % 64 == 0
    assert jax.device_put(Z).unsafe_buffer_pointer() == Z.ctypes.data  # JAX reads it where it lies


def test_standardised_blocks_equal_the_textbook_formula():
    rng = np.random.default_rng(4)
    columns = (rng.normal(5, 3, 70_000), rng.uniform(0, 1e6, 70_000))  # two host blocks
    for intercept in (True, False):
        mean, scale = moments(columns, intercept)
        X = np.column_stack(columns)
        centre = X.mean(axis=0) if intercept else 0.0
        np.testing.assert_allclose(scale, np.sqrt(np.mean((X - centre) ** 2, axis=0)), rtol=1e-12)
        standard = Standard(columns, mean, scale, intercept)
        Z = (X - centre) / scale
        Z = np.column_stack([np.ones(len(X)), Z]) if intercept else Z
        np.testing.assert_allclose(standard.matrix(), Z, atol=1e-12)
        np.testing.assert_allclose(standard.gram(), Z.T @ Z / len(Z), atol=1e-10)


@pytest.mark.parametrize("family", ["linear", "logistic"])
def test_a_descent_fit_larger_than_cache_reads_the_data_once_per_step_and_agrees(family, monkeypatch):
    import gdlab._design as design

    calls = []
    real = design._pass
    monkeypatch.setattr(design, "_pass", lambda *a, **k: calls.append(k["grad"]) or real(*a, **k))
    design.fused_loss.cache_clear()
    n = FUSED_NUMBERS // 4 + 1_001  # Z has 4 columns: just above the size that is fused
    rng = np.random.default_rng(5)
    x = {f"x{j}": rng.normal(j, 1 + j, n) for j in range(3)}
    eta = 0.3 + 0.5 * x["x0"] - 0.2 * x["x1"] + 0.1 * x["x2"]
    y = (
        (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
        if family == "logistic"
        else eta + rng.normal(size=n)
    )
    method = "lbfgs" if family == "logistic" else "gd"
    result = fit(x | {"y": y}, y="y", x=list(x), family=family, method=method, steps=3000)
    design.fused_loss.cache_clear()
    assert True in calls  # the fused pass was traced for the gradient
    assert result.status.value == "converged"
    np.testing.assert_allclose(result.coef, result.closed_form, rtol=1e-6, atol=1e-7)


def test_only_a_cpu_fuses_large_designs(monkeypatch):
    import gdlab._design as design

    big, small = np.empty((FUSED_NUMBERS // 4, 4)), np.empty((10, 4))
    assert design.fuses(big) and not design.fuses(small)
    monkeypatch.setattr(design.jax, "default_backend", lambda: "gpu")  # the plain loss's products there
    assert not design.fuses(big)


@pytest.mark.parametrize(("family", "method"), [("linear", "gd"), ("linear", "adam"), ("logistic", "gd")])
def test_a_large_float64_descent_fit_reads_the_columns_by_passes_and_agrees(family, method):
    from gdlab._data import SHARE_VALUES

    n = SHARE_VALUES // 4 + 999  # x0, x1, x2 and y: a table that is shared, not copied
    rng = np.random.default_rng(6)
    x = {f"x{j}": rng.normal(3 * j, 1 + j, n) for j in range(3)}
    eta = 0.3 + 0.5 * x["x0"] - 0.2 * x["x1"] + 0.1 * x["x2"]
    noise = rng.uniform(size=n) < 1 / (1 + np.exp(-eta))
    y = noise.astype(float) if family == "logistic" else eta + rng.normal(size=n)
    result = fit(x | {"y": y}, y="y", x=list(x), family=family, method=method, steps=4000, lr=None)
    assert result.trajectory.method.endswith("(full batch over the table's columns)")
    assert result.status.value == "converged", result.message
    assert np.shares_memory(result._data["x0"], x["x0"])  # the data were not copied
    rtol = 1e-5 if method == "adam" else 1e-7
    np.testing.assert_allclose(result.coef, result.closed_form, rtol=rtol, atol=rtol)
    # each recorded gradient is the exact gradient of the mean loss at that step, on the standardised data
    Z = np.column_stack([np.ones(n), *((x[c] - x[c].mean()) / x[c].std() for c in x)])
    w = np.asarray(result.trajectory.params)[3]
    residual = (1 / (1 + np.exp(-Z @ w)) - y) if family == "logistic" else 2 * (Z @ w - y)
    np.testing.assert_allclose(np.asarray(result.trajectory.grad)[3], residual @ Z / n, rtol=1e-9, atol=1e-12)
